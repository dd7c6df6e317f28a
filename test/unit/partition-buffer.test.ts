import { describe, expect, it } from 'vitest';
import { PartitionBuffer, recordSize } from '../../src/archiver/partition-buffer.js';
import type { KafkaRecord } from '../../src/kafka/index.js';

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
    expect(b.minTimestamp).toBe(20n);
    expect(b.maxTimestamp).toBe(50n);
    expect(b.rangeEnd).toBe(1n);
  });
});
