// The pure parts of the @platformatic/kafka adapter: decoding a read_committed fetch partition
// (control and aborted batches, LogAppendTime, batch ranges), shaping produced records, and the
// fix of the client's 64-bit varint encoding.
import { describe, expect, it } from 'vitest';
import { Reader, createRecordsBatch, readRecordsBatches } from '@platformatic/kafka';
import {
  decodePartition,
  kafkaTopicId,
  toOutgoing,
  type RawBatch,
  type RawRecord,
} from '../../src/kafka/platformatic/records.js';
import { installVarInt64Fix } from '../../src/kafka/platformatic/varint-fix.js';

const TRANSACTIONAL = 1 << 4;
const CONTROL = 1 << 5;
const LOG_APPEND_TIME = 1 << 3;

const rec = (offsetDelta: number, value: string, timestampDelta = 0n): RawRecord => ({
  offsetDelta,
  timestampDelta,
  key: null,
  value: Buffer.from(value),
  headers: [],
});

/** A data batch of `n` records at `first`, values `${label}-${i}`. */
function data(first: bigint, n: number, label: string, producerId = -1n, attributes = 0): RawBatch {
  return {
    firstOffset: first,
    attributes: attributes | (producerId >= 0n ? TRANSACTIONAL : 0),
    lastOffsetDelta: n - 1,
    firstTimestamp: 1_000n,
    maxTimestamp: 9_999n,
    producerId,
    records: Array.from({ length: n }, (_, i) => rec(i, `${label}-${i}`, BigInt(i))),
  };
}

/** A transaction marker: control record key = version 0, type (0 abort, 1 commit). */
function marker(offset: bigint, producerId: bigint, commit: boolean): RawBatch {
  const key = Buffer.alloc(4);
  key.writeInt16BE(commit ? 1 : 0, 2);
  return {
    firstOffset: offset,
    attributes: TRANSACTIONAL | CONTROL,
    lastOffsetDelta: 0,
    firstTimestamp: 1_000n,
    maxTimestamp: 1_000n,
    producerId,
    records: [{ offsetDelta: 0, timestampDelta: 0n, key, value: Buffer.alloc(6), headers: [] }],
  };
}

const values = (b: ReturnType<typeof decodePartition>) =>
  b!.records.map((r) => `${r.offset}:${r.value!.toString()}`);

describe('decodePartition (read_committed fetch partition -> PartitionBatch)', () => {
  it('drops markers and aborted transactions; nextOffset covers them', () => {
    const b = decodePartition(
      't',
      {
        partitionIndex: 3,
        highWatermark: 12n,
        abortedTransactions: [{ producerId: 7n, firstOffset: 4n }],
        records: [
          data(0n, 3, 'c1', 7n),
          marker(3n, 7n, true),
          data(4n, 3, 'a', 7n),
          marker(7n, 7n, false),
          data(8n, 3, 'c2', 7n),
          marker(11n, 7n, true),
        ],
      },
      0n,
    );
    expect(values(b)).toEqual(['0:c1-0', '1:c1-1', '2:c1-2', '8:c2-0', '9:c2-1', '10:c2-2']);
    expect(b).toMatchObject({
      topic: 't',
      partition: 3,
      fetchedOffset: 0n,
      nextOffset: 12n,
      highWatermark: 12n,
    });
  });

  it('keeps dropping an aborted transaction whose marker comes in a later fetch', () => {
    // The fetch ended after the aborted batch, before its marker; the next fetch lists the
    // transaction again and starts with the marker.
    const first = decodePartition(
      't',
      {
        partitionIndex: 0,
        highWatermark: 20n,
        abortedTransactions: [{ producerId: 7n, firstOffset: 3n }],
        records: [data(0n, 3, 'plain'), data(3n, 2, 'aborted', 7n)],
      },
      0n,
    );
    expect(values(first)).toEqual(['0:plain-0', '1:plain-1', '2:plain-2']);
    expect(first!.nextOffset).toBe(5n);
    const second = decodePartition(
      't',
      {
        partitionIndex: 0,
        highWatermark: 20n,
        abortedTransactions: [{ producerId: 7n, firstOffset: 3n }],
        records: [data(5n, 1, 'aborted-too', 7n), marker(6n, 7n, false), data(7n, 1, 'after')],
      },
      5n,
    );
    expect(values(second)).toEqual(['7:after-0']);
    expect(second!.nextOffset).toBe(8n);
  });

  it('handles one producer aborting twice, with a commit between, in one response', () => {
    const b = decodePartition(
      't',
      {
        partitionIndex: 0,
        highWatermark: 12n,
        abortedTransactions: [
          { producerId: 7n, firstOffset: 0n },
          { producerId: 7n, firstOffset: 8n },
        ],
        records: [
          data(0n, 2, 'a1', 7n),
          marker(2n, 7n, false),
          data(3n, 2, 'c', 7n),
          marker(5n, 7n, true),
          data(6n, 1, 'other', 9n),
          marker(7n, 9n, true),
          data(8n, 2, 'a2', 7n),
          marker(10n, 7n, false),
        ],
      },
      0n,
    );
    expect(values(b)).toEqual(['3:c-0', '4:c-1', '6:other-0']);
    expect(b!.nextOffset).toBe(11n);
  });

  it('drops records below the fetch offset (the broker returns whole batches)', () => {
    const b = decodePartition(
      't',
      {
        partitionIndex: 0,
        highWatermark: 5n,
        abortedTransactions: null,
        records: [data(0n, 5, 'x')],
      },
      3n,
    );
    expect(values(b)).toEqual(['3:x-3', '4:x-4']);
    expect(b!.fetchedOffset).toBe(3n);
    expect(b!.nextOffset).toBe(5n);
  });

  it('CreateTime: first timestamp + delta; LogAppendTime: the batch max timestamp, type 1', () => {
    const create = decodePartition(
      't',
      {
        partitionIndex: 0,
        highWatermark: 2n,
        abortedTransactions: null,
        records: [data(0n, 2, 'c')],
      },
      0n,
    );
    expect(create!.records.map((r) => [r.timestamp, r.timestampType])).toEqual([
      [1_000n, 0],
      [1_001n, 0],
    ]);
    const append = decodePartition(
      't',
      {
        partitionIndex: 0,
        highWatermark: 2n,
        abortedTransactions: null,
        records: [data(0n, 2, 'l', -1n, LOG_APPEND_TIME)],
      },
      0n,
    );
    expect(append!.records.map((r) => [r.timestamp, r.timestampType])).toEqual([
      [9_999n, 1],
      [9_999n, 1],
    ]);
  });

  it('keeps header order, duplicates, null and empty values; null vs empty key and value', () => {
    const r: RawRecord = {
      offsetDelta: 0,
      timestampDelta: 0n,
      key: Buffer.alloc(0),
      value: null,
      headers: [
        [Buffer.from('b'), Buffer.from('1')],
        [Buffer.from('a'), null],
        [Buffer.from('b'), Buffer.alloc(0)],
      ],
    };
    const b = decodePartition(
      't',
      {
        partitionIndex: 0,
        highWatermark: 1n,
        abortedTransactions: null,
        records: [{ ...data(0n, 1, 'h'), records: [r] }],
      },
      0n,
    );
    const got = b!.records[0]!;
    expect(got.key).toEqual(Buffer.alloc(0));
    expect(got.value).toBeNull();
    expect(got.headers.map((h) => [h.key, h.value === null ? null : h.value.toString()])).toEqual([
      ['b', '1'],
      ['a', null],
      ['b', ''],
    ]);
  });

  it('null when the partition returned no batch; a marker-only response still advances', () => {
    expect(
      decodePartition(
        't',
        { partitionIndex: 0, highWatermark: 0n, abortedTransactions: null, records: null },
        0n,
      ),
    ).toBeNull();
    const b = decodePartition(
      't',
      {
        partitionIndex: 0,
        highWatermark: 4n,
        abortedTransactions: null,
        records: [marker(3n, 7n, true)],
      },
      3n,
    );
    expect(b!.records).toEqual([]);
    expect(b!.nextOffset).toBe(4n);
  });
});

describe('produce requests', () => {
  it('headers as a Map keyed by distinct Buffers (duplicates survive), nulls absent', () => {
    const m = toOutgoing('t', {
      key: null,
      value: Buffer.alloc(0),
      headers: [
        { key: 'a', value: Buffer.from('1') },
        { key: 'a', value: null },
      ],
    });
    expect(m.key).toBeUndefined();
    expect(m.value).toEqual(Buffer.alloc(0));
    expect(
      [...m.headers].map(([k, v]) => [k.toString(), v === null ? null : v.toString()]),
    ).toEqual([
      ['a', '1'],
      ['a', null],
    ]);
  });

  it('record timestamps far from the batch first timestamp survive encoding (zigzag fix)', () => {
    installVarInt64Fix();
    const ts = [1_700_000_000_000n, 1_600_000_000_000n, 999_999_999_999n, 0n, 4_102_444_800_000n];
    const batch = createRecordsBatch(
      ts.map((timestamp) => ({ topic: 't', value: Buffer.from('v'), timestamp })),
    );
    const [read] = readRecordsBatches(Reader.from(batch.buffer)) as RawBatch[];
    expect(read!.records.map((r) => read!.firstTimestamp + r.timestampDelta)).toEqual(ts);
  });

  it('topic ids in Kafka form; none for names or the zero id', () => {
    expect(kafkaTopicId('7b0b1a2c-3d4e-4f50-8a1b-2c3d4e5f6071')).toBe(
      Buffer.from('7b0b1a2c3d4e4f508a1b2c3d4e5f6071', 'hex').toString('base64url'),
    );
    expect(kafkaTopicId('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(kafkaTopicId('my-topic')).toBeUndefined();
    expect(kafkaTopicId(undefined)).toBeUndefined();
  });
});
