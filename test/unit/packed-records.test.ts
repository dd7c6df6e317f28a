/** Records held packed (the archiver's partition buffers): ranges, chunks, and what is written. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contentSha256, localFileBuffer, openSegment, SegmentWriter } from '../../src/index.js';
import type { KafkaRecord } from '../../src/kafka/index.js';
import { packRecords } from '../../src/segment/pack.js';
import { PackedRecords } from '../../src/segment/packed-records.js';

const rec = (offset: number, valueBytes: number): KafkaRecord => ({
  offset: BigInt(offset),
  timestamp: BigInt(1_000 + ((offset * 7919) % 500)),
  timestampType: (offset % 2) as 0 | 1,
  key: offset % 3 === 0 ? null : Buffer.from(`k${offset}`),
  value: Buffer.alloc(valueBytes, offset % 251),
  headers: offset % 2 === 0 ? [{ key: 'h€', value: null }] : [],
});

/** 300 records of 0-40 KiB with a gap and one record of 5 MiB (larger than a chunk). */
const records: KafkaRecord[] = Array.from({ length: 300 }, (_, i) =>
  rec(i < 100 ? i : i + 50, i === 150 ? 5 * 2 ** 20 : (i * 997) % 40_000),
);
const store = new PackedRecords();
for (const r of records) store.append(r);

const dir = mkdtempSync(join(tmpdir(), 'ka-packed-unit-'));
const writer = new SegmentWriter();
afterAll(async () => {
  await writer.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PackedRecords', () => {
  it('holds the canonical encoding of what was appended, across chunks', () => {
    const all = store.range()!;
    expect(all.slices.length).toBeGreaterThan(3);
    expect(Buffer.concat(all.slices).equals(packRecords(records))).toBe(true);
    expect([all.count, all.bytes, all.firstOffset, all.lastOffset]).toEqual([
      300,
      store.bytes,
      0n,
      349n,
    ]);
  });

  it('cuts any range by offset, with its bounds and times', () => {
    for (const [from, to] of [
      [0n, 1n],
      [99n, 151n],
      [100n, 150n], // inside the gap: nothing
      [120n, 260n],
      [199n, 201n], // the 5 MiB record alone
      [340n, 10_000n],
    ] as const) {
      const i = store.lowerBound(from);
      const j = store.lowerBound(to);
      const want = records.filter((r) => r.offset >= from && r.offset < to);
      const got = store.range(i, j);
      if (want.length === 0) {
        expect(got).toBeNull();
        continue;
      }
      expect(Buffer.concat(got!.slices).equals(packRecords(want))).toBe(true);
      const ts = want.map((r) => r.timestamp);
      expect([got!.count, got!.firstOffset, got!.lastOffset]).toEqual([
        want.length,
        want[0]!.offset,
        want[want.length - 1]!.offset,
      ]);
      expect([got!.minTimestamp, got!.maxTimestamp]).toEqual([
        ts.reduce((a, b) => (a < b ? a : b)),
        ts.reduce((a, b) => (a > b ? a : b)),
      ]);
    }
  });

  it('refuses an offset that does not ascend', () => {
    const s = new PackedRecords();
    s.append(rec(5, 1));
    expect(() => s.append(rec(5, 1))).toThrow(/out of offset order at 5/);
    expect(s.count).toBe(1);
  });

  it('a segment written from a packed range equals one written from the records, and can be written again', async () => {
    const range = store.range(store.lowerBound(90n), store.lowerBound(300n))!;
    const want = records.filter((r) => r.offset >= 90n && r.offset < 300n);
    const facts = {
      topic: 't',
      partition: 0,
      firstOffset: range.firstOffset,
      lastOffset: range.lastOffset,
      minTimestamp: range.minTimestamp,
      maxTimestamp: range.maxTimestamp,
      recordCount: range.count,
      rangeStart: 90n,
      rangeEnd: 299n,
    };
    const options = { compression: 'zstd' as const, rowGroupBytes: 1 << 20 };
    const a = await writer.write(join(dir, 'a.parquet'), range, facts, options);
    // The range's bytes are shared with the encoder, not handed over: a retried seal reuses them.
    const b = await writer.write(join(dir, 'b.parquet'), range, facts, options);
    const c = await writer.write(join(dir, 'c.parquet'), want, facts, options);
    expect(a.meta.sha256).toBe(contentSha256(want));
    expect([b.meta.sha256, c.meta.sha256]).toEqual([a.meta.sha256, a.meta.sha256]);
    const seg = await openSegment(await localFileBuffer(join(dir, 'a.parquet')));
    expect(seg.meta.recordCount).toBe(want.length);
  });
});
