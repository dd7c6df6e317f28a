// Overlapping segments (two members archiving the same offsets around a rebalance) are merged by
// offset: every query shows each record once. Real segment files, written by the product's writer.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  archivedOffsets,
  Catalog,
  createLogger,
  hotSource,
  LocalSegmentIndex,
  readRecords,
  reconcileHot,
  SegmentWriter,
  segmentRelPath,
  type KafkaRecord,
} from '../../src/index.js';

const writer = new SegmentWriter();
let root = '';
afterAll(async () => {
  writer.close();
  await rm(root, { recursive: true, force: true });
});

const rec = (o: number): KafkaRecord => ({
  offset: BigInt(o),
  timestamp: 1_790_000_000_000n + BigInt(o),
  timestampType: 0,
  key: Buffer.from(`k${o}`),
  value: Buffer.from(`v${o}`),
  headers: [],
});

async function segment(first: number, last: number, skip: number[] = []): Promise<void> {
  const records = [];
  for (let o = first; o <= last; o++) if (!skip.includes(o)) records.push(rec(o));
  const path = join(root, segmentRelPath('t', 0, BigInt(first), BigInt(last)));
  await mkdir(join(path, '..'), { recursive: true });
  await writer.write(
    path,
    records,
    {
      topic: 't',
      partition: 0,
      firstOffset: BigInt(first),
      lastOffset: BigInt(last),
      minTimestamp: records[0]!.timestamp,
      maxTimestamp: records[records.length - 1]!.timestamp,
      recordCount: records.length,
      rangeStart: BigInt(first),
      rangeEnd: BigInt(last),
    },
    { compression: 'zstd', rowGroupBytes: 1 << 20 },
  );
}

describe('overlapping segments', () => {
  it('offsets, lookup and read show each offset once', async () => {
    root = await mkdtemp(join(tmpdir(), 'ka-overlap-'));
    await segment(0, 49);
    await segment(30, 79); // overlaps 30..49 (another member's copy)
    await segment(40, 59); // fully inside the previous one
    await segment(80, 99);
    const catalog = Catalog.memory();
    await reconcileHot(catalog, new LocalSegmentIndex(root), createLogger({ level: 'silent' }));
    const source = hotSource(root);

    const [o] = await archivedOffsets(catalog, source, 't');
    expect(o).toMatchObject({ records: 100, overlappingRecords: 40, segments: 4, gaps: [] });

    const offsets: bigint[] = [];
    for await (const r of readRecords(catalog, source, {
      topic: 't',
      partition: 0,
      fromOffset: 0n,
    }))
      offsets.push(r.offset);
    expect(offsets).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));

    const from45: bigint[] = [];
    for await (const r of readRecords(catalog, source, {
      topic: 't',
      partition: 0,
      fromOffset: 45n,
      count: 10,
    }))
      from45.push(r.offset);
    expect(from45).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(45 + i)));
  });
});
