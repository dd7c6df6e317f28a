// Restore planning and scanning on real segment files (written by the product's DuckDB writer)
// and an in-memory catalog: exact counts, pruning by row-group statistics (bytes read),
// gaps, no-data messages, overlapping segments read once.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Catalog,
  entryFromMeta,
  localFileBuffer,
  segmentRelPath,
  SegmentWriter,
  type KafkaRecord,
  type CatalogEntry,
} from '../../src/index.js';
import type { ArchiveAccess } from '../../src/restore/access.js';
import { makePlan } from '../../src/restore/plan.js';
import { scanPartition } from '../../src/restore/scan.js';
import type { RestoreRequest } from '../../src/restore/types.js';

const dir = mkdtempSync(join(tmpdir(), 'ka-restore-plan-'));
const writer = new SegmentWriter();
const catalog = Catalog.memory();
const T0 = 1_790_000_000_000n;
const TOPIC = 'plan-t';

afterAll(async () => {
  await writer.close();
  rmSync(dir, { recursive: true, force: true });
});

async function segment(partition: number, records: KafkaRecord[]): Promise<CatalogEntry> {
  const first = records[0]!.offset;
  const last = records[records.length - 1]!.offset;
  const path = join(dir, segmentRelPath(TOPIC, partition, first, last));
  mkdirSync(join(path, '..'), { recursive: true });
  const ts = records.map((r) => r.timestamp);
  const res = await writer.write(
    path,
    records,
    {
      topic: TOPIC,
      partition,
      firstOffset: first,
      lastOffset: last,
      rangeStart: first,
      rangeEnd: last,
      minTimestamp: ts.reduce((a, b) => (b < a ? b : a)),
      maxTimestamp: ts.reduce((a, b) => (b > a ? b : a)),
      recordCount: records.length,
    },
    { compression: 'zstd', rowGroupBytes: 1 }, // DuckDB rounds up to 2048-row groups
  );
  const e = entryFromMeta(res.meta, res.bytes, { hot: true, cold: false });
  await catalog.put(e);
  return e;
}

const rec = (offset: number, ts: bigint): KafkaRecord => ({
  offset: BigInt(offset),
  timestamp: ts,
  timestampType: 0,
  key: Buffer.from(`k${offset}`),
  value: Buffer.concat([Buffer.from(`value ${offset} `), randomBytes(200)]), // incompressible
  headers: [{ key: 'h', value: null }],
});

const access: ArchiveAccess = {
  catalog,
  async open(e) {
    return {
      buffer: await localFileBuffer(
        join(dir, segmentRelPath(e.topic, e.partition, e.firstOffset, e.lastOffset)),
      ),
      tier: 'hot',
    };
  },
  topicSnapshot: async () => null,
};

const request = (over: Partial<RestoreRequest> = {}): RestoreRequest => ({
  topic: TOPIC,
  partitions: null,
  fromTime: null,
  toTime: null,
  startOffset: null,
  endOffset: null,
  targetTopic: null,
  topicMap: new Map(),
  repartition: null,
  offsetHeader: false,
  targetBrokers: ['127.0.0.1:9092'],
  jobName: null,
  ...over,
});

let big: CatalogEntry;

beforeAll(async () => {
  // Partition 0: one segment of 10,000 records (5 row groups), 1 s apart, record 5000 an hour early.
  big = await segment(
    0,
    Array.from({ length: 10_000 }, (_, i) =>
      rec(i, i === 5000 ? T0 - 3_600_000n : T0 + BigInt(i) * 1000n),
    ),
  );
  // Partition 1: offsets 0..99 and 200..299 (a gap at 100..199), and 250..349 overlapping.
  await segment(
    1,
    Array.from({ length: 100 }, (_, i) => rec(i, T0 + BigInt(i) * 1000n)),
  );
  await segment(
    1,
    Array.from({ length: 100 }, (_, i) => rec(200 + i, T0 + BigInt(200 + i) * 1000n)),
  );
  await segment(
    1,
    Array.from({ length: 100 }, (_, i) => rec(250 + i, T0 + BigInt(250 + i) * 1000n)),
  );
});

describe('restore plan', () => {
  it('counts exactly the records of a time range, reading only the row groups that can hold them', async () => {
    const counter = { bytesRead: 0 };
    const plan = await makePlan(
      access,
      request({ partitions: [0], fromTime: T0 + 4_100_000n, toTime: T0 + 4_200_000n }),
      false,
      counter,
    );
    const p = plan.partitions[0]!;
    expect(p.records).toBe(100); // offsets 4100..4199
    expect(p.rowGroups).toBe(1);
    expect(p.segments).toBe(1);
    expect(p.tiers).toEqual(['hot']);
    const file = statSync(join(dir, segmentRelPath(TOPIC, 0, 0n, 9999n))).size;
    expect(p.segmentBytes).toBe(file);
    expect(p.rowGroupBytes).toBeLessThan(file / 3);
    expect(counter.bytesRead).toBeLessThan(file / 2);

    // The scan yields the same records, in offset order, and reads about as little.
    const scan = { bytesRead: 0 };
    const got: bigint[] = [];
    for await (const c of scanPartition(
      access,
      TOPIC,
      0,
      {
        fromOffset: p.startOffset,
        endOffset: p.endOffset,
        fromTime: T0 + 4_100_000n,
        toTime: T0 + 4_200_000n,
      },
      scan,
    ))
      got.push(...c.records.map((r) => r.offset));
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(4100 + i)));
    expect(scan.bytesRead).toBeLessThan(file / 2);
    console.log(
      `[restore pruning] 100 of 10,000 records: plan read ${counter.bytesRead} B, scan read ${scan.bytesRead} B of a ${file} B segment (${p.rowGroups} of 5 row groups)`,
    );
  });

  it('keeps records whose clock is off: timestamps are not monotonic', async () => {
    const plan = await makePlan(access, request({ partitions: [0], toTime: T0 }), false, {
      bytesRead: 0,
    });
    expect(plan.partitions[0]!.records).toBe(1); // only offset 5000, an hour early
  });

  it('offset bounds per partition, half-open', async () => {
    const plan = await makePlan(
      access,
      request({
        startOffset: { all: 10n, byPartition: new Map([[0, 9000n]]) },
        endOffset: { all: 20n, byPartition: new Map([[0, 9100n]]) },
      }),
      true,
      { bytesRead: 0 },
    );
    expect(
      plan.partitions.map((p) => [p.partition, p.startOffset, p.endOffset, p.records]),
    ).toEqual([
      [0, 9000n, 9100n, 100],
      [1, 10n, 20n, 10],
    ]);
  });

  it('refuses a gap inside the range unless allowed, and counts overlapping segments once', async () => {
    await expect(
      makePlan(access, request({ partitions: [1] }), false, { bytesRead: 0 }),
    ).rejects.toMatchObject({
      code: 'RESTORE_GAP',
      message: expect.stringContaining('plan-t/1: offsets 100..199 (100 offsets)'),
    });
    const plan = await makePlan(access, request({ partitions: [1] }), true, { bytesRead: 0 });
    expect(plan.gaps).toEqual([{ topic: TOPIC, partition: 1, from: 100n, to: 199n }]);
    expect(plan.partitions[0]!.records).toBe(250); // 0..99 and 200..349, each offset once
    const got: bigint[] = [];
    for await (const c of scanPartition(
      access,
      TOPIC,
      1,
      { fromOffset: 0n, endOffset: 350n, fromTime: null, toTime: null },
      { bytesRead: 0 },
    ))
      got.push(...c.records.map((r) => r.offset));
    expect(got).toHaveLength(250);
    expect(new Set(got).size).toBe(250);
    // A range beside the gap has none.
    const ok = await makePlan(
      access,
      request({ partitions: [1], startOffset: { all: 200n, byPartition: new Map() } }),
      false,
      { bytesRead: 0 },
    );
    expect(ok.partitions[0]!.records).toBe(150);
  });

  it('says which ranges exist when the range holds nothing', async () => {
    await expect(
      makePlan(access, request({ fromTime: T0 + 100_000_000n }), false, { bytesRead: 0 }),
    ).rejects.toMatchObject({
      code: 'RESTORE_NO_DATA',
      message: expect.stringMatching(
        /plan-t\/0: offsets 0\.\.9999; timestamps .*\n {2}plan-t\/1: offsets 0\.\.99, 200\.\.349/,
      ),
    });
    await expect(
      makePlan(access, request({ partitions: [7] }), false, { bytesRead: 0 }),
    ).rejects.toMatchObject({
      code: 'RESTORE_NO_DATA',
      message: 'topic plan-t has no archived partition 7; archived partitions: 0, 1',
    });
    await expect(
      makePlan(access, request({ topic: 'nope' }), false, { bytesRead: 0 }),
    ).rejects.toMatchObject({
      code: 'ARCHIVE_TOPIC_UNKNOWN',
    });
  });

  it('the big segment has several row groups (the premise of the pruning tests)', () => {
    expect(big.recordCount).toBe(10_000);
  });
});
