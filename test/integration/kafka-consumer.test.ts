// GroupConsumer semantics the archiver relies on, against the real broker, through the client
// KAFKA_CLIENT selects (test/helpers/kafka-client.ts): a member stays in its group through an
// onBatch that outlasts the session timeout (calling control.heartbeat(), as the archiver's
// back-pressure loop does; the @platformatic/kafka client heartbeats on its own timer anyway),
// and pause, resume and seek act on single partitions. Also: members on kafkajs and on
// @platformatic/kafka share one group (a rolling switch of kafka.client).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createLogger,
  loadConfig,
  type Admin,
  type KafkaClient,
  type PartitionBatch,
  type TopicPartition,
} from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';
import { newTestClient, testClient } from '../helpers/kafka-client.js';
import { createKafkaClient } from '../../src/kafka/index.js';

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

async function topicWith(partitions: number, perPartition: number): Promise<string> {
  const topic = `consumer-${rand()}`;
  await admin.createTopics([{ name: topic, partitions }]);
  created.push(topic);
  const producer = await client.producer();
  for (let p = 0; p < partitions; p++) {
    await producer.send(
      topic,
      Array.from({ length: perPartition }, (_, i) => ({
        partition: p,
        key: null,
        value: Buffer.from(`p${p}-${i}`),
      })),
    );
  }
  await producer.disconnect();
  return topic;
}

/** One more record at the end of a partition, to wait for. */
async function marker(topic: string, partition: number): Promise<void> {
  const producer = await client.producer();
  await producer.send(topic, [{ partition, key: null, value: Buffer.from('marker') }]);
  await producer.disconnect();
}

describe(`GroupConsumer on Kafka ${kafkaInfo.version} through ${testClient}`, () => {
  it('keeps its membership through an onBatch longer than the session timeout', async () => {
    const topic = await topicWith(1, 3);
    const sessionTimeoutMs = 6_000;
    const consumer = client.consumer({ groupId: `slow-${rand()}`, sessionTimeoutMs });
    const assignments: TopicPartition[][] = [];
    const batches: PartitionBatch[] = [];
    let slowDone = false;
    await consumer.start([topic], {
      onAssignment: (a) => {
        assignments.push(a);
      },
      onBatch: async (b, control) => {
        batches.push(b);
        if (batches.length > 1) return;
        const until = Date.now() + 2 * sessionTimeoutMs;
        while (Date.now() < until) {
          await new Promise((r) => setTimeout(r, 1_000));
          await control.heartbeat();
        }
        expect(control.isStale()).toBe(false);
        slowDone = true;
      },
    });
    try {
      await waitFor('the slow batch finished', () => slowDone, 60_000);
      // A record produced after the slow batch arrives in the same membership.
      const producer = await client.producer();
      await producer.send(topic, [{ partition: 0, key: null, value: Buffer.from('after') }]);
      await producer.disconnect();
      await waitFor('the record produced after the slow batch', () =>
        batches.some((b) => b.records.some((r) => r.value?.toString() === 'after')),
      );
    } finally {
      await consumer.stop();
    }
    expect(assignments).toEqual([[{ topic, partition: 0 }]]);
    expect(batches.flatMap((b) => b.records.map((r) => r.value!.toString()))).toEqual([
      'p0-0',
      'p0-1',
      'p0-2',
      'after',
    ]);
  }, 90_000);

  it('pauses, resumes and seeks single partitions', async () => {
    const topic = await topicWith(2, 5);
    const consumer = client.consumer({ groupId: `pause-${rand()}` });
    const seen: Array<[number, bigint]> = [];
    let paused = false;
    await consumer.start([topic], {
      onAssignment: () => {
        // Before any fetch: partition 1 waits, partition 0 starts at offset 2.
        consumer.pause([{ topic, partition: 1 }]);
        consumer.seek({ topic, partition: 0, offset: 2n });
        paused = true;
      },
      onBatch: async (b) => {
        for (const r of b.records) seen.push([b.partition, r.offset]);
      },
    });
    try {
      await waitFor('paused', () => paused);
      await waitFor('partition 0 from offset 2', () => seen.length >= 3);
      // A marker behind partition 0's records: once it arrives, fetches have run past the
      // point where a paused partition 1 would have delivered something.
      await marker(topic, 0);
      await waitFor('the marker of partition 0', () => seen.some(([p, o]) => p === 0 && o === 5n));
      expect(seen).toEqual([
        [0, 2n],
        [0, 3n],
        [0, 4n],
        [0, 5n],
      ]);
      consumer.seek({ topic, partition: 1, offset: 3n });
      consumer.resume([{ topic, partition: 1 }]);
      await marker(topic, 1);
      await waitFor('partition 1 from offset 3 up to its marker', () =>
        seen.some(([p, o]) => p === 1 && o === 5n),
      );
    } finally {
      await consumer.stop();
    }
    expect(seen.filter(([p]) => p === 1)).toEqual([
      [1, 3n],
      [1, 4n],
      [1, 5n],
    ]);
  });

  it(`shares one group between a kafkajs member and a @platformatic/kafka member (${testClient} first)`, async () => {
    const topic = await topicWith(4, 2);
    const groupId = `mixed-${rand()}`;
    const base = { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers };
    // The member of the client under test joins first (and leads the group's assignment).
    const order =
      testClient === 'kafkajs'
        ? (['kafkajs', 'platformatic'] as const)
        : (['platformatic', 'kafkajs'] as const);
    const members = order.map((kind) => {
      const consumer = createKafkaClient({ ...base, client: kind }, log).consumer({
        groupId,
        sessionTimeoutMs: 10_000,
      });
      const state = {
        kind,
        consumer,
        assignment: [] as TopicPartition[],
        values: new Set<string>(),
      };
      return state;
    });
    const start = (m: (typeof members)[number]) =>
      m.consumer.start([topic], {
        onAssignment: (a) => {
          m.assignment = a;
        },
        onBatch: async (b) => {
          for (const r of b.records) m.values.add(r.value!.toString());
        },
      });
    const [a, b] = members as [(typeof members)[number], (typeof members)[number]];
    await start(a);
    await waitFor('first member has all partitions', () => a.assignment.length === 4);
    await start(b);
    try {
      await waitFor(
        'the partitions split between both members',
        () =>
          a.assignment.length > 0 &&
          b.assignment.length > 0 &&
          a.assignment.length + b.assignment.length === 4,
        60_000,
      );
      const owned = [...a.assignment, ...b.assignment].map((tp) => tp.partition).sort();
      expect(owned).toEqual([0, 1, 2, 3]);
      await b.consumer.stop();
      await waitFor(
        'the first member takes all partitions back',
        () => a.assignment.length === 4,
        60_000,
      );
      await waitFor('every record seen', () => new Set([...a.values, ...b.values]).size === 8);
    } finally {
      await b.consumer.stop();
      await a.consumer.stop();
    }
  }, 120_000);
});
