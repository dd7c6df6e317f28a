// Smoke test of the real Kafka broker from the test bed through the project's adapter (src/kafka)
// over the client KAFKA_CLIENT selects (test/helpers/kafka-client.ts: kafkajs 2.2.4 by default,
// or @platformatic/kafka) and, where the adapter has no equivalent, raw kafkajs loaded with the
// ordered-header patch (loadKafkajs) as an independent producer/consumer. Runs unchanged on Kafka
// 3.9.1 and 4.1.1, with either client.
//
// With KAFKA_CLIENT=platformatic the adapter rows below go through @platformatic/kafka instead
// (src/kafka/platformatic: Consumer joinGroup/fetch/commit/listCommittedOffsets, Producer,
// Admin); the assertions are the same.
//
// kafkajs APIs this file verifies against the broker:
//  - new Kafka({ clientId, brokers, connectionTimeout, requestTimeout, retry, logLevel, logCreator })
//  - Producer (via the adapter): producer({ idempotent: true, maxInFlightRequests: 1,
//    createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false }),
//    connect, send({ topic, acks: -1, messages: [{ partition, key, value, headers, timestamp }] })
//    with null keys, null values (tombstones), empty values, binary bytes, negative timestamp
//    deltas inside one batch, a 1 MiB value, and the ordered header list (record encoder
//    wrapped by ordered-headers.ts), disconnect
//  - Consumer (via the adapter): consumer({ groupId, readUncommitted: false, maxBytes,
//    maxBytesPerPartition, sessionTimeout, rebalanceTimeout, heartbeatInterval }), connect,
//    subscribe({ topics, fromBeginning: true }), run({ autoCommit: false,
//    eachBatchAutoResolve: false, eachBatch }), batch.messages (offset, timestamp, key, value,
//    batchContext.timestampType, orderedHeaders from the wrapped record decoder),
//    batch.lastOffset(), batch.highWatermark, batch.fetchedOffset, resolveOffset, heartbeat,
//    isRunning, isStale, events.GROUP_JOIN (memberAssignment), commitOffsets, disconnect,
//    and that a new member of the group resumes at the committed offset
//  - Consumer (raw): consumer({ groupId, readUncommitted: true }), run({ eachMessage })
//  - Admin (via the adapter): connect, createTopics({ waitForLeaders: true, topics: [{ topic,
//    numPartitions, replicationFactor: -1, configEntries }] }), listTopics,
//    fetchTopicMetadata({ topics }), describeConfigs({ includeSynonyms: false, resources:
//    [{ type: ConfigResourceTypes.TOPIC, name }] }), fetchTopicOffsets, fetchOffsets({ groupId,
//    topics }) (GroupConsumer.committed), deleteTopics({ topics }), disconnect
//  - Admin (raw): fetchOffsets({ groupId, topics }), fetchTopicMetadata({ topics }),
//    deleteTopicRecords({ topic, partitions }) (two kafkajs pitfalls around it: see the admin
//    test)
//  - Transactions (raw): producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 }),
//    transaction(), Transaction.send, Transaction.commit, Transaction.abort
//
// Topic IDs: kafkajs 2.2.4 speaks Metadata up to v6 (topic IDs arrived in v10) and has no API
// that returns them, so its adapter's describeTopic asks a @platformatic/kafka admin on the same
// connection settings (Metadata v10+); either way describeTopic returns the id.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type * as KafkaJS from 'kafkajs';
import {
  ArchiveError,
  ErrorCodes,
  createLogger,
  loadConfig,
  type Admin,
  type GroupConsumer,
  type KafkaClient,
  type KafkaHeader,
  type KafkaRecord,
  type PartitionBatch,
  type ProduceRecord,
  type TopicPartition,
} from '../../src/index.js';
import { loadKafkajs } from '../../src/kafka/kafkajs/ordered-headers.js';
import { waitFor } from '../helpers/archive.js';
import { newTestClient, testClient } from '../helpers/kafka-client.js';

const kafkaInfo = inject('kafka');
const log = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });
const rand = () => Math.random().toString(36).slice(2, 10);
const kafkajs = loadKafkajs();
const kafkajsVersion = (
  createRequire(import.meta.url)('kafkajs/package.json') as { version: string }
).version;

let client: KafkaClient;
let admin: Admin;
let kafka: KafkaJS.Kafka;
let rawAdmin: KafkaJS.Admin;
const created: string[] = [];

async function createTopic(
  prefix: string,
  partitions = 1,
  configs: Record<string, string> = {},
): Promise<string> {
  const name = `smoke-${prefix}-${rand()}`;
  await admin.createTopics([{ name, partitions, configs }]);
  created.push(name);
  return name;
}

interface RunningConsumer {
  consumer: GroupConsumer;
  batches: PartitionBatch[];
  assignments: TopicPartition[][];
  records(topic: string, partition?: number): KafkaRecord[];
  /** Wait until at least `count` records of the topic arrived (fails on a consumer crash). */
  waitForRecords(topic: string, count: number): Promise<KafkaRecord[]>;
}

async function startConsumer(groupId: string, topics: string[]): Promise<RunningConsumer> {
  const consumer = client.consumer({ groupId });
  const batches: PartitionBatch[] = [];
  const assignments: TopicPartition[][] = [];
  let crash: Error | undefined;
  await consumer.start(topics, {
    onBatch: async (batch) => {
      batches.push(batch);
    },
    onAssignment: (a) => {
      assignments.push(a);
    },
    onCrash: (err) => {
      crash = err;
    },
  });
  const records = (topic: string, partition?: number) =>
    batches
      .filter((b) => b.topic === topic && (partition === undefined || b.partition === partition))
      .flatMap((b) => b.records);
  return {
    consumer,
    batches,
    assignments,
    records,
    async waitForRecords(topic, count) {
      await waitFor(`${count} records of ${topic}`, () => {
        if (crash !== undefined) throw crash;
        return records(topic).length >= count;
      });
      return records(topic);
    },
  };
}

const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'));
const headerList = (hs: KafkaHeader[] | undefined) => (hs ?? []).map((h) => [h.key, hex(h.value)]);

/** Every field of a consumed record against what was produced, byte for byte. */
function expectSameRecord(got: KafkaRecord, want: ProduceRecord, offset: bigint): void {
  expect(got.offset).toBe(offset);
  expect(got.key === null).toBe(want.key === null);
  expect(got.value === null).toBe(want.value === null);
  expect(hex(got.key)).toBe(hex(want.key));
  expect(hex(got.value)).toBe(hex(want.value));
  expect(headerList(got.headers)).toEqual(headerList(want.headers));
  expect(got.timestamp).toBe(want.timestamp);
  expect(got.timestampType).toBe(0);
}

beforeAll(async () => {
  console.log(
    `[kafka smoke] Kafka ${kafkaInfo.version} at ${kafkaInfo.brokers.join(',')}, adapter client ${testClient}, raw kafkajs ${kafkajsVersion}`,
  );
  client = newTestClient({ ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers }, log);
  admin = await client.admin();
  kafka = new kafkajs.Kafka({
    clientId: 'kafka-smoke',
    brokers: kafkaInfo.brokers,
    logLevel: kafkajs.logLevel.NOTHING,
  });
  rawAdmin = kafka.admin();
  await rawAdmin.connect();
});

afterAll(async () => {
  const existing = new Set(await admin.listTopics());
  const mine = created.filter((t) => existing.has(t));
  if (mine.length > 0) await admin.deleteTopics(mine);
  await rawAdmin.disconnect();
  await admin.disconnect();
});

describe(`Kafka smoke on Kafka ${kafkaInfo.version} through ${testClient}`, () => {
  it('produces and consumes every kind of record byte for byte (adapter producer and GroupConsumer)', async () => {
    const topic = await createTopic('records', 1, {
      'max.message.bytes': String(2 * 1024 * 1024),
      // Kafka 4.0 lowered the default to 1 hour (KIP-937, else "The timestamp of the message is
      // out of acceptable range"); the last record is dated 2100.
      'message.timestamp.after.max.ms': '9223372036854775807',
    });
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 8)) & 0xff;
    const small: ProduceRecord[] = [
      { key: null, value: Buffer.from('null key'), timestamp: 1_700_000_000_000n },
      { key: Buffer.from('tombstone'), value: null, timestamp: 1_700_000_000_001n },
      { key: Buffer.from('empty value'), value: Buffer.alloc(0), timestamp: 1_700_000_000_002n },
      { key: Buffer.alloc(0), value: Buffer.from('empty key'), timestamp: 1_700_000_000_003n },
      { key: null, value: null, timestamp: 1_700_000_000_004n },
      {
        key: all,
        value: Buffer.concat([all, Buffer.from(all).reverse()]),
        timestamp: 1_600_000_000_000n,
      },
      // kafkajs takes the batch's base timestamp as the smallest timestamp *string*, here
      // '1600000000000', so this 12-digit one is encoded with a negative timestamp delta.
      {
        key: Buffer.from('2001'),
        value: Buffer.from('negative delta'),
        timestamp: 999_999_999_999n,
      },
      {
        key: Buffer.from('headers'),
        value: Buffer.from('v'),
        headers: [
          { key: 'b', value: Buffer.from('1') },
          { key: 'a', value: Buffer.from('2') },
          { key: 'b', value: Buffer.from('3') },
          { key: '10', value: null },
          { key: '2', value: Buffer.alloc(0) },
          { key: 'a', value: all },
          { key: 'é✓', value: Buffer.from([0, 255]) },
        ],
        timestamp: 1_700_000_000_005n,
      },
    ];
    const records: ProduceRecord[] = [
      ...small,
      { key: Buffer.from('big'), value: big, timestamp: 1_700_000_000_006n },
      { key: Buffer.from('epoch'), value: Buffer.from('0'), timestamp: 0n },
      { key: Buffer.from('year 2100'), value: all, timestamp: 4_102_444_800_000n },
    ];
    const producer = await client.producer();
    try {
      // The small records in one batch, the 1 MiB one alone, the last two together.
      const batches = [small, records.slice(small.length, small.length + 1), records.slice(-2)];
      for (const batch of batches) {
        await producer.send(
          topic,
          batch.map((r) => ({ ...r, partition: 0 })),
        );
      }
    } finally {
      await producer.disconnect();
    }

    const c = await startConsumer(`smoke-g-${rand()}`, [topic]);
    let got: KafkaRecord[];
    try {
      got = await c.waitForRecords(topic, records.length);
      // Nothing arrives twice or beyond what was produced.
      await new Promise((r) => setTimeout(r, 500));
      got = c.records(topic);
    } finally {
      await c.consumer.stop();
    }
    expect(got).toHaveLength(records.length);
    got.forEach((r, i) => expectSameRecord(r, records[i]!, BigInt(i)));
    expect(got[small.length]!.value!.equals(big)).toBe(true);
    expect(c.assignments.at(-1)).toEqual([{ topic, partition: 0 }]);
    const first = c.batches.find((b) => b.records.length > 0)!;
    expect(first.fetchedOffset).toBe(0n);
    const last = c.batches.at(-1)!;
    expect(last.nextOffset).toBe(BigInt(records.length));
    expect(last.highWatermark).toBe(BigInt(records.length));
  });

  it('reports LogAppendTime timestamps with timestamp type 1', async () => {
    const topic = await createTopic('logappend', 1, {
      'message.timestamp.type': 'LogAppendTime',
    });
    const before = BigInt(Date.now());
    const producer = await client.producer();
    try {
      await producer.send(topic, [
        { partition: 0, key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1_000n },
      ]);
    } finally {
      await producer.disconnect();
    }
    const after = BigInt(Date.now());
    const c = await startConsumer(`smoke-g-${rand()}`, [topic]);
    let got: KafkaRecord[];
    try {
      got = await c.waitForRecords(topic, 1);
    } finally {
      await c.consumer.stop();
    }
    expect(got).toHaveLength(1);
    expect(got[0]!.timestampType).toBe(1);
    expect(got[0]!.timestamp).toBeGreaterThanOrEqual(before - 1_000n);
    expect(got[0]!.timestamp).toBeLessThanOrEqual(after + 1_000n);
    expect(got[0]!.value!.toString()).toBe('v');
  });

  it('admin: create with configs, describe, partition counts, offsets, list, delete', async () => {
    const name = `smoke-admin-${rand()}`;
    const missing = `smoke-missing-${rand()}`;
    const configs = {
      'cleanup.policy': 'compact,delete',
      'retention.ms': '123456789',
      'max.message.bytes': '2097152',
      'min.compaction.lag.ms': '60000',
    };
    await admin.createTopics([{ name, partitions: 3, configs }]);
    created.push(name);

    const info = await admin.describeTopic(name);
    expect(info.name).toBe(name);
    expect(info.partitions).toBe(3);
    expect(info.configs).toEqual(expect.objectContaining(configs));
    // The topic id in Kafka's own form (base64url of 16 bytes); kafkajs' adapter reads it through
    // the platformatic admin (see the header comment).
    expect(info.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    expect(await admin.listTopics()).toContain(name);
    expect(await admin.partitionCounts([name, missing])).toEqual(new Map([[name, 3]]));
    expect(await admin.partitionCounts([])).toEqual(new Map());
    const unknown = await admin.describeTopic(missing).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ArchiveError);
    expect((unknown as ArchiveError).code).toBe(ErrorCodes.KAFKA_TOPIC_UNKNOWN);

    const empty = { low: 0n, high: 0n };
    expect(await admin.offsets(name)).toEqual(
      new Map([
        [0, empty],
        [1, empty],
        [2, empty],
      ]),
    );
    const producer = await client.producer();
    try {
      await producer.send(
        name,
        Array.from({ length: 5 }, (_, i) => ({
          partition: 1,
          key: Buffer.from(`k${i}`), // compacted topic: keys required
          value: Buffer.from(`r${i}`),
        })),
      );
      await producer.send(name, [{ partition: 2, key: Buffer.from('k'), value: Buffer.from('x') }]);
    } finally {
      await producer.disconnect();
    }
    // Raise partition 1's log start offset so low is not trivially 0, through a short-lived raw
    // admin. Two kafkajs 2.2.4 pitfalls, on every Kafka version:
    //  - deleteTopicRecords looks up partition leaders before it loads the topic's metadata, so
    //    on an admin that has not seen the topic it throws KafkaJSTopicMetadataNotLoaded:
    //    fetchTopicMetadata first;
    //  - it (like fetchTopicOffsets, hence Admin.offsets) adds the topic to the client's
    //    metadata targets for good; once another client deletes the topic, every later
    //    metadata refresh of that client fails with UNKNOWN_TOPIC_OR_PARTITION. So this admin
    //    is disconnected before the topic is deleted.
    const recordsAdmin = kafka.admin();
    await recordsAdmin.connect();
    try {
      await recordsAdmin.fetchTopicMetadata({ topics: [name] });
      await recordsAdmin.deleteTopicRecords({
        topic: name,
        partitions: [{ partition: 1, offset: '2' }],
      });
    } finally {
      await recordsAdmin.disconnect();
    }
    expect(await admin.offsets(name)).toEqual(
      new Map([
        [0, empty],
        [1, { low: 2n, high: 5n }],
        [2, { low: 0n, high: 1n }],
      ]),
    );

    await admin.deleteTopics([name]);
    await waitFor('deleted topic gone from listTopics', async () => {
      return !(await admin.listTopics()).includes(name);
    });
    expect(await admin.partitionCounts([name])).toEqual(new Map());
  });

  it('admin.offsets keeps working after a topic it looked at is deleted elsewhere', async () => {
    const gone = `gone-${rand()}`;
    const kept = `kept-${rand()}`;
    await admin.createTopics([
      { name: gone, partitions: 1 },
      { name: kept, partitions: 1 },
    ]);
    created.push(kept);
    expect((await admin.offsets(gone)).get(0)).toEqual({ low: 0n, high: 0n });
    const other = await client.admin();
    await other.deleteTopics([gone]);
    await other.disconnect();
    const t0 = Date.now();
    expect((await admin.offsets(kept)).get(0)).toEqual({ low: 0n, high: 0n });
    expect((await admin.describeTopic(kept)).partitions).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('commits group offsets with GroupConsumer.commit and reads them back (adapter and raw admin)', async () => {
    const topic = await createTopic('offsets', 2);
    const producer = await client.producer();
    try {
      await producer.send(
        topic,
        Array.from({ length: 6 }, (_, i) => ({
          partition: 0,
          key: null,
          value: Buffer.from(`p0-${i}`),
        })),
      );
      await producer.send(
        topic,
        Array.from({ length: 2 }, (_, i) => ({
          partition: 1,
          key: null,
          value: Buffer.from(`p1-${i}`),
        })),
      );
    } finally {
      await producer.disconnect();
    }

    const groupId = `smoke-g-${rand()}`;
    const c = await startConsumer(groupId, [topic]);
    try {
      await c.waitForRecords(topic, 8);
      expect(await c.consumer.committed(topic)).toEqual(
        new Map([
          [0, -1n],
          [1, -1n],
        ]),
      );
      await c.consumer.commit([{ topic, partition: 0, offset: 4n }]);
      expect(await c.consumer.committed(topic)).toEqual(
        new Map([
          [0, 4n],
          [1, -1n],
        ]),
      );
      await c.consumer.commit([
        { topic, partition: 0, offset: 6n },
        { topic, partition: 1, offset: 1n },
      ]);
    } finally {
      await c.consumer.stop();
    }
    const want = new Map([
      [0, 6n],
      [1, 1n],
    ]);
    // After the member left, the offsets are still there: through the adapter...
    expect(await c.consumer.committed(topic)).toEqual(want);
    // ... and through kafkajs' admin directly.
    const raw = await rawAdmin.fetchOffsets({ groupId, topics: [topic] });
    expect(raw).toHaveLength(1);
    expect(raw[0]!.topic).toBe(topic);
    expect(
      new Map(raw[0]!.partitions.map((p) => [p.partition, BigInt(p.offset)] as const)),
    ).toEqual(want);
    // A group that never committed reports -1 for every partition.
    const none = await rawAdmin.fetchOffsets({ groupId: `smoke-g-${rand()}`, topics: [topic] });
    expect(none[0]!.partitions.map((p) => p.offset)).toEqual(['-1', '-1']);

    // A new member of the group starts at the committed offsets.
    const again = await startConsumer(groupId, [topic]);
    try {
      await waitFor('resumed at the committed offset', () => again.records(topic, 1).length >= 1);
      await new Promise((r) => setTimeout(r, 500));
      expect(again.records(topic, 0)).toEqual([]);
      expect(again.records(topic, 1).map((r) => [r.offset, r.value!.toString()])).toEqual([
        [1n, 'p1-1'],
      ]);
    } finally {
      await again.consumer.stop();
    }
  });

  it('transactional producer (raw kafkajs): read_committed sees only committed transactions', async () => {
    const topic = await createTopic('tx', 1);
    const txp = kafka.producer({
      transactionalId: `smoke-tx-${rand()}`,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await txp.connect();
    try {
      for (const [label, commit] of [
        ['committed-1', true],
        ['aborted', false],
        ['committed-2', true],
      ] as const) {
        const tx = await txp.transaction();
        await tx.send({
          topic,
          messages: Array.from({ length: 3 }, (_, i) => ({
            partition: 0,
            key: `${label}-k${i}`,
            value: `${label}-${i}`,
          })),
        });
        if (commit) await tx.commit();
        else await tx.abort();
      }
    } finally {
      await txp.disconnect();
    }

    // Each transaction's 3 records are followed by a commit or abort marker. A commit returns
    // once the coordinator has logged it and it writes the partition's marker just after; these
    // offsets are read_committed (the last stable offset, 8 until that marker is in), so wait
    // for the marker, then check the exact offsets.
    let offsets: { low: bigint; high: bigint } | undefined;
    await waitFor(
      'the last commit marker',
      async () => ((offsets = (await admin.offsets(topic)).get(0))?.high ?? 0n) >= 12n,
      30_000,
    );
    expect(offsets).toEqual({ low: 0n, high: 12n });

    // read_committed (the adapter's GroupConsumer): only the committed records.
    const c = await startConsumer(`smoke-g-${rand()}`, [topic]);
    let got: KafkaRecord[];
    try {
      await waitFor('consumer reached the end', () =>
        c.batches.some((b) => b.nextOffset >= 12n || b.records.some((r) => r.offset >= 10n)),
      );
      await new Promise((r) => setTimeout(r, 500));
      got = c.records(topic);
    } finally {
      await c.consumer.stop();
    }
    expect(got.map((r) => [r.offset, r.key!.toString(), r.value!.toString()])).toEqual([
      [0n, 'committed-1-k0', 'committed-1-0'],
      [1n, 'committed-1-k1', 'committed-1-1'],
      [2n, 'committed-1-k2', 'committed-1-2'],
      [8n, 'committed-2-k0', 'committed-2-0'],
      [9n, 'committed-2-k1', 'committed-2-1'],
      [10n, 'committed-2-k2', 'committed-2-2'],
    ]);

    // read_uncommitted (raw kafkajs): the aborted records are really in the log.
    const seen: string[] = [];
    const raw = kafka.consumer({ groupId: `smoke-g-${rand()}`, readUncommitted: true });
    await raw.connect();
    try {
      await raw.subscribe({ topics: [topic], fromBeginning: true });
      await raw.run({
        eachMessage: async ({ message }) => {
          seen.push(`${message.offset}:${message.value!.toString()}`);
        },
      });
      await waitFor('read_uncommitted consumer saw 9 records', () => seen.length >= 9);
    } finally {
      await raw.disconnect();
    }
    expect(seen).toEqual([
      '0:committed-1-0',
      '1:committed-1-1',
      '2:committed-1-2',
      '4:aborted-0',
      '5:aborted-1',
      '6:aborted-2',
      '8:committed-2-0',
      '9:committed-2-1',
      '10:committed-2-2',
    ]);
  });
});
