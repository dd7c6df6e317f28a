/** The canonical record encoding (archive format v1): round trip, and the checksum's test vector. */
import { describe, expect, it } from 'vitest';
import { contentSha256, type KafkaRecord } from '../../src/index.js';
import { packRecords, packedSize, unpackRecords } from '../../src/segment/pack.js';

const records: KafkaRecord[] = [
  {
    offset: 0n,
    timestamp: 1_700_000_000_000n,
    timestampType: 0,
    key: null,
    value: null,
    headers: [],
  },
  {
    offset: 1n,
    timestamp: 1_700_000_000_001n,
    timestampType: 1,
    key: Buffer.alloc(0),
    value: Buffer.from('v'),
    headers: [
      { key: 'a', value: null },
      { key: 'é', value: Buffer.alloc(0) },
      { key: 'a', value: Buffer.from([0, 255]) },
    ],
  },
  {
    offset: 2n ** 62n,
    timestamp: -1n,
    timestampType: 0,
    key: Buffer.from([1, 2, 3]),
    value: Buffer.alloc(300, 7),
    headers: [],
  },
];

describe('packed records', () => {
  it('round-trip every field, null vs empty, header order and duplicates', () => {
    const buf = packRecords(records);
    expect(buf.length).toBe(records.reduce((n, r) => n + packedSize(r), 0));
    const back = [...unpackRecords(buf)].map((r) => ({
      ...r,
      headers: r.headers.map((h) => ({ key: h.key.toString('utf8'), value: h.value })),
    }));
    expect(back).toEqual(records);
  });

  it('a slice packs only its records, into memory it owns (transferable)', () => {
    const buf = packRecords(records, 1, 2);
    expect([...unpackRecords(buf)].map((r) => r.offset)).toEqual([1n]);
    expect(buf.byteOffset).toBe(0);
    expect(buf.buffer.byteLength).toBe(buf.length);
  });

  it('gives the checksum of archive format v1 (a fixed test vector: old segments still verify)', () => {
    expect(contentSha256(records)).toBe(
      '249639a126b2a30fc88e4860d17541a79d1f825a3e53c0b68f3244a651a05830',
    );
  });
});
