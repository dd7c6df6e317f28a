import { describe, expect, it } from 'vitest';
import {
  PartitionBuffer,
  recordSize,
  unarchivedContent,
} from '../../src/archiver/partition-buffer.js';
import type { KafkaRecord } from '../../src/kafka/index.js';
import { unpackRecords } from '../../src/segment/pack.js';
import type { PackedRange } from '../../src/segment/packed-records.js';

/** The offsets of a packed range, read back from its bytes. */
const offsetsOf = (p: PackedRange) =>
  p.slices.flatMap((s) => [...unpackRecords(s)].map((r) => r.offset));

const rec = (offset: number, ts: number, size = 10): KafkaRecord => ({
  offset: BigInt(offset),
  timestamp: BigInt(ts),
  timestampType: 0,
  key: null,
  value: Buffer.alloc(size),
  headers: [],
});

describe('PartitionBuffer rotation', () => {
  const policy = { maxRecords: 3, maxBytes: 1000, maxAgeMs: 100 };

  it('never overflows when empty, and cuts by count, bytes and record time', () => {
    const b = new PartitionBuffer(5n, policy, 0);
    expect(b.rangeEnd).toBe(4n);
    expect(b.wouldOverflow(rec(5, 0, 5000), 5000)).toBe(false);
    for (const o of [5, 6, 7]) b.add(rec(o, 0), recordSize(rec(o, 0)));
    expect(b.isFull).toBe(true);
    expect(b.wouldOverflow(rec(8, 0), 34)).toBe(true);

    const t = new PartitionBuffer(0n, policy, 0);
    t.add(rec(0, 1000), 34);
    expect(t.wouldOverflow(rec(1, 1099), 34)).toBe(false);
    expect(t.wouldOverflow(rec(1, 1100), 34)).toBe(true);

    const s = new PartitionBuffer(0n, policy, 0);
    s.add(rec(0, 0, 900), 924);
    expect(s.wouldOverflow(rec(1, 0, 100), 124)).toBe(true);
  });

  it('tracks min/max timestamps even when they go backwards', () => {
    const b = new PartitionBuffer(0n, policy, 0);
    b.add(rec(0, 50), 34);
    b.add(rec(1, 20), 34);
    expect(b.records.range()!.minTimestamp).toBe(20n);
    expect(b.records.range()!.maxTimestamp).toBe(50n);
    expect(b.rangeEnd).toBe(1n);
  });
});

describe('unarchivedContent', () => {
  const policy = { maxRecords: 100, maxBytes: 1 << 20, maxAgeMs: 1 << 30 };
  const filled = () => {
    const b = new PartitionBuffer(10n, policy, 0);
    for (const [o, ts] of [
      [10, 500],
      [12, 100],
      [13, 300],
    ] as const)
      b.add(rec(o, ts), 34);
    b.rangeEnd = 15n; // offsets 14-15 skipped by Kafka (e.g. a transaction marker)
    return b;
  };

  it('keeps the whole buffer when nothing above it is archived', () => {
    const c = unarchivedContent(filled(), 9n)!;
    expect(offsetsOf(c.records)).toEqual([10n, 12n, 13n]);
    expect([c.rangeStart, c.rangeEnd, c.minTimestamp, c.maxTimestamp]).toEqual([
      10n,
      15n,
      100n,
      500n,
    ]);
    expect(unarchivedContent(filled(), null)!.records.count).toBe(3);
  });

  it('drops records another member already archived and narrows the span and times', () => {
    const c = unarchivedContent(filled(), 11n)!;
    expect(offsetsOf(c.records)).toEqual([12n, 13n]);
    expect([c.firstOffset, c.lastOffset, c.rangeStart, c.rangeEnd]).toEqual([12n, 13n, 12n, 15n]);
    expect([c.minTimestamp, c.maxTimestamp]).toEqual([100n, 300n]);
  });

  it('returns null when every record is already archived', () => {
    expect(unarchivedContent(filled(), 13n)).toBeNull();
  });

  it('keeps only the offsets below a cut (a re-created topic: what was proven old)', () => {
    const c = unarchivedContent(filled(), null, 13n)!;
    expect(offsetsOf(c.records)).toEqual([10n, 12n]);
    expect([c.firstOffset, c.lastOffset, c.rangeStart, c.rangeEnd]).toEqual([10n, 12n, 10n, 12n]);
    expect([c.minTimestamp, c.maxTimestamp]).toEqual([100n, 500n]);
    expect(unarchivedContent(filled(), null, 16n)!.rangeEnd).toBe(15n);
    expect(unarchivedContent(filled(), null, 10n)).toBeNull();
    expect(offsetsOf(unarchivedContent(filled(), 10n, 13n)!.records)).toEqual([12n]);
  });
});
