// The interface's transactional producer, group offsets and readCommitted, against the real
// broker, through the client KAFKA_CLIENT selects (test/helpers/kafka-client.ts): records and
// group offsets (with metadata) commit together or not at all (read_committed), a failed
// transaction is aborted and the producer goes on, a second producer with the same
// transactional id fences the first, and readCommitted returns exactly the committed records.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ArchiveError,
  createLogger,
  loadConfig,
  type Admin,
  type KafkaClient,
  type KafkaRecord,
  type ProduceRecord,
  type ProducedOffsets,
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

const rec = (i: number, partition: number): ProduceRecord => ({
  partition,
  key: i % 3 === 0 ? null : Buffer.from(`k${i}`),
  value: i % 4 === 0 ? null : Buffer.from(`v${i}`.repeat(i % 5)),
  headers: [
    { key: 'h', value: Buffer.from(String(i)) },
    { key: 'h', value: null },
  ],
  // Far apart: the @platformatic/kafka varint fix (src/kafka/platformatic/varint-fix.ts).
  timestamp: i % 2 === 0 ? 1_700_000_000_000n + BigInt(i) : 999_999_999_999n - BigInt(i),
});

const offsetsOf = (m: Map<number, { offset: bigint }> | undefined) =>
  new Map([...(m ?? new Map<number, { offset: bigint }>())].map(([p, c]) => [p, c.offset]));

/**
 * A transaction's group offsets become visible once its markers are written, a moment after the
 * commit returns (a reader that does not ask for stable offsets sees the earlier ones until then).
 */
async function groupOffsetsReaching(groupId: string, topic: string, want: Map<number, bigint>) {
  let got = new Map<number, bigint>();
  await waitFor(`group offsets ${[...want].join(' ')}`, async () => {
    got = offsetsOf((await admin.groupOffsets(groupId, [topic])).get(topic));
    return [...want].every(([p, o]) => got.get(p) === o);
  });
  return (await admin.groupOffsets(groupId, [topic])).get(topic);
}

describe(`transactions on Kafka ${kafkaInfo.version} through ${testClient}`, () => {
  it('commits records and group offsets together; failures abort; a second producer fences', async () => {
    const topic = `tx-${rand()}`;
    await admin.createTopics([{ name: topic, partitions: 2 }]);
    created.push(topic);
    const groupId = `restore-progress-${rand()}`;
    const transactionalId = `tx-${rand()}`;
    const tp = await client.transactionalProducer({ transactionalId, compression: 'zstd' });
    const first = [rec(0, 0), rec(1, 1), rec(2, 0)];
    let seen: ProducedOffsets[] = [];
    const produced = await tp.commitTransaction(
      [{ topic, records: first }],
      {
        groupId,
        offsets: [
          { topic, partition: 0, offset: 2n, metadata: 'job-1' },
          { topic, partition: 1, offset: 1n },
        ],
      },
      async (p) => {
        seen = p;
      },
    );
    expect(produced).toEqual([
      { topic, partition: 0, baseOffset: 0n, count: 2 },
      { topic, partition: 1, baseOffset: 0n, count: 1 },
    ]);
    expect(seen).toEqual(produced);
    const committed = await groupOffsetsReaching(
      groupId,
      topic,
      new Map([
        [0, 2n],
        [1, 1n],
      ]),
    );
    expect(offsetsOf(committed)).toEqual(
      new Map([
        [0, 2n],
        [1, 1n],
      ]),
    );
    expect(committed?.get(0)?.metadata).toBe('job-1');
    expect(offsetsOf((await admin.groupOffsets(`none-${rand()}`, [topic])).get(topic))).toEqual(
      new Map(),
    );

    // A transaction that fails before its commit is aborted as a whole.
    const failed = await tp
      .commitTransaction(
        [
          { topic, records: [rec(10, 0)] },
          { topic, records: [rec(11, 1)] },
        ],
        { groupId, offsets: [{ topic, partition: 0, offset: 99n }] },
        async () => {
          throw new Error('the job state could not be saved');
        },
      )
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ArchiveError);
    expect(offsetsOf((await admin.groupOffsets(groupId, [topic])).get(topic)).get(0)).toBe(2n);

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
    await newer.disconnect();
    await tp.disconnect();

    expect(
      offsetsOf(
        await groupOffsetsReaching(
          groupId,
          topic,
          new Map([
            [0, 4n],
            [1, 1n],
          ]),
        ),
      ),
    ).toEqual(
      new Map([
        [0, 4n],
        [1, 1n],
      ]),
    );
    // read_committed, outside any group: exactly the committed transactions' records, byte for
    // byte; the markers and the aborted records are skipped offsets.
    const hwm = await admin.offsets(topic);
    const got = new Map<number, KafkaRecord[]>();
    await client.readCommitted(
      [...hwm].map(([partition, { high }]) => ({
        topic,
        partition,
        fromOffset: 0n,
        toOffset: high,
      })),
      (tp, records) => {
        got.set(tp.partition, [...(got.get(tp.partition) ?? []), ...records]);
      },
    );
    const want = [...first, ...second, ...third];
    const show = (r: ProduceRecord | KafkaRecord) => [
      r.key === null ? null : r.key.toString('hex'),
      r.value === null ? null : r.value.toString('hex'),
      (r.headers ?? []).map((h) => [h.key, h.value === null ? null : h.value.toString('hex')]),
      r.timestamp,
    ];
    for (const p of [0, 1]) {
      expect((got.get(p) ?? []).map(show)).toEqual(want.filter((r) => r.partition === p).map(show));
    }
  });
});
