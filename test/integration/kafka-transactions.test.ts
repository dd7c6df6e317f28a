// The interface's transactional producer and group offsets, against the real broker, through the
// client KAFKA_CLIENT selects (test/helpers/kafka-client.ts): records and group offsets commit
// together or not at all (read_committed), a failed transaction is aborted and the producer goes
// on, a second producer with the same transactional id fences the first.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ArchiveError,
  ErrorCodes,
  createLogger,
  loadConfig,
  type Admin,
  type KafkaClient,
  type KafkaRecord,
  type ProduceRecord,
} from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';
import { newTestClient, testClient } from '../helpers/kafka-client.js';

const kafkaInfo = inject('kafka');
const log = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });
const rand = () => Math.random().toString(36).slice(2, 10);

let client: KafkaClient;
let admin: Admin;
const created: string[] = [];

beforeAll(async () => {
  client = newTestClient({ ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers }, log);
  admin = await client.admin();
});

afterAll(async () => {
  const existing = new Set(await admin.listTopics());
  const mine = created.filter((t) => existing.has(t));
  if (mine.length > 0) await admin.deleteTopics(mine);
  await admin.disconnect();
});

/** Every committed record of the topic per partition, read to the high-water marks. */
async function readAll(
  topic: string,
  hwm: Map<number, { low: bigint; high: bigint }>,
): Promise<Map<number, KafkaRecord[]>> {
  const consumer = client.consumer({ groupId: `tx-reader-${rand()}` });
  const got = new Map<number, KafkaRecord[]>();
  const ends = new Map<number, bigint>();
  await consumer.start([topic], {
    onBatch: async (b) => {
      got.set(b.partition, [...(got.get(b.partition) ?? []), ...b.records]);
      ends.set(b.partition, b.nextOffset);
    },
    onAssignment: () => undefined,
  });
  try {
    await waitFor('read to the high-water marks', () =>
      [...hwm].every(([p, { high }]) => (ends.get(p) ?? 0n) >= high),
    );
    return got;
  } finally {
    await consumer.stop();
  }
}

const rec = (i: number, partition: number): ProduceRecord => ({
  partition,
  key: i % 3 === 0 ? null : Buffer.from(`k${i}`),
  value: i % 4 === 0 ? null : Buffer.from(`v${i}`.repeat(i % 5)),
  headers: [
    { key: 'h', value: Buffer.from(String(i)) },
    { key: 'h', value: null },
  ],
  timestamp: 1_700_000_000_000n + BigInt(i),
});

describe(`transactions on Kafka ${kafkaInfo.version} through ${testClient}`, () => {
  it('commits records and group offsets together; failures abort; a second producer fences', async () => {
    const topic = `tx-${rand()}`;
    const missing = `tx-missing-${rand()}`;
    await admin.createTopics([{ name: topic, partitions: 2 }]);
    created.push(topic);
    const groupId = `restore-progress-${rand()}`;
    const transactionalId = `tx-${rand()}`;
    const tp = await client.transactionalProducer({ transactionalId, compression: 'zstd' });
    const first = [rec(0, 0), rec(1, 1), rec(2, 0)];
    await tp.commitTransaction([{ topic, records: first }], {
      groupId,
      offsets: [
        { topic, partition: 0, offset: 2n },
        { topic, partition: 1, offset: 1n },
      ],
    });
    expect(await admin.groupOffsets(groupId, [topic, missing])).toEqual(
      new Map([
        [
          topic,
          new Map([
            [0, 2n],
            [1, 1n],
          ]),
        ],
      ]),
    );

    // A transaction that fails (a partition the topic does not have) is aborted as a whole.
    const failed = await tp
      .commitTransaction(
        [
          { topic, records: [rec(10, 0)] },
          { topic, records: [rec(11, 7)] },
        ],
        { groupId, offsets: [{ topic, partition: 0, offset: 99n }] },
      )
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ArchiveError);
    expect((await admin.groupOffsets(groupId, [topic])).get(topic)?.get(0)).toBe(2n);

    // The producer goes on after the abort.
    const second = [rec(3, 1), rec(4, 1)];
    await tp.commitTransaction([{ topic, records: second }], null);

    // Same transactional id: the newer producer fences the older one (at its creation or, at
    // the latest, its first transaction).
    const newer = await client.transactionalProducer({ transactionalId, compression: 'lz4' });
    const third = [rec(5, 0)];
    await newer.commitTransaction([{ topic, records: third }], {
      groupId,
      offsets: [{ topic, partition: 0, offset: 4n }],
    });
    const fenced = await tp
      .commitTransaction([{ topic, records: [rec(20, 0)] }], null)
      .catch((e: unknown) => e);
    expect(fenced).toBeInstanceOf(ArchiveError);
    expect((fenced as ArchiveError).code).toBe(ErrorCodes.KAFKA_PRODUCER_FENCED);
    await newer.disconnect();
    await tp.disconnect();

    expect((await admin.groupOffsets(groupId, [topic])).get(topic)).toEqual(
      new Map([
        [0, 4n],
        [1, 1n],
      ]),
    );
    // read_committed: exactly the committed transactions' records, byte for byte; the markers
    // and the aborted records are skipped offsets.
    const hwm = await admin.offsets(topic);
    const got = await readAll(topic, hwm);
    const want = [...first, ...second, ...third];
    const show = (r: {
      partition?: number;
      key: Buffer | null;
      value: Buffer | null;
      headers?: Array<{ key: string; value: Buffer | null }>;
      timestamp?: bigint;
    }) => [
      r.key === null ? null : r.key.toString('hex'),
      r.value === null ? null : r.value.toString('hex'),
      (r.headers ?? []).map((h) => [h.key, h.value === null ? null : h.value.toString('hex')]),
      r.timestamp,
    ];
    for (const p of [0, 1]) {
      expect(got.get(p)!.map(show)).toEqual(want.filter((r) => r.partition === p).map(show));
    }
  });
});
