// Consumer-group offsets carried over a restore, against a real broker and a real S3 server: a
// topic with holes in its offsets (an aborted transaction, transaction markers) is archived by
// the real service with archiver.groups set, so a group's committed position lands in the
// object store; a range is restored into another topic; `restore translate-offsets` maps the
// group's position onto it live from the source, then from the archived series once the group
// is deleted and the source cluster is unreachable, commits it on the target (--apply), and a
// plain kafkajs consumer of that group on the target first gets the record that came after the
// group's position on the source. --apply is refused while the group has members.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as KafkaJS from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createArchiverService,
  createLogger,
  createObjectStore,
  groupPrefix,
  loadConfig,
  type Admin,
  type KafkaClient,
  type KafkaRecord,
  type ObjectStore,
  type ProduceRecord,
} from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';
import { cliFromSource } from '../helpers/cli.js';
import { clientEnv, newTestClient } from '../helpers/kafka-client.js';

const kafkaInfo = inject('kafka');
const s3 = inject('s3');
const log = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });
const rand = () => Math.random().toString(36).slice(2, 8);
const root = mkdtempSync(join(tmpdir(), 'ka-translate-it-'));
const brokers = kafkaInfo.brokers.join(',');
const kafkajs = createRequire(import.meta.url)('kafkajs') as typeof KafkaJS;

const topic = `tr-${rand()}`;
const target = `${topic}.restored`;
const group = `tr-app-${rand()}`;
const PARTITIONS = 2;
/** The restore's --start-offset. */
const RANGE_START = 5n;

const env: Record<string, string> = {
  ...clientEnv,
  KAFKA_ARCHIVE_KAFKA__BROKERS: brokers,
  KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(root, 'hot'),
  KAFKA_ARCHIVE_CATALOG__DIR: join(root, 'catalog'),
  KAFKA_ARCHIVE_RESTORE__STATE_DIR: join(root, 'restore'),
  KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
  KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
  KAFKA_ARCHIVE_ARCHIVER__GROUPS: 'tr-app-.*',
  KAFKA_ARCHIVE_ARCHIVER__GROUPS_INTERVAL_MS: '300',
  KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '500',
  KAFKA_ARCHIVE_STORAGE__TYPE: 's3',
  KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: s3.endpoint,
  KAFKA_ARCHIVE_STORAGE__S3__BUCKET: s3.bucket,
  KAFKA_ARCHIVE_STORAGE__S3__PREFIX: `translate-${topic}/`,
  KAFKA_ARCHIVE_STORAGE__S3__ACCESS_KEY_ID: s3.accessKeyId,
  KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: s3.secretAccessKey,
  KAFKA_ARCHIVE_TIERING__ENABLED: 'false',
  KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
  KAFKA_ARCHIVE_SERVER__ENABLED: 'false',
  KAFKA_ARCHIVE_LOG__LEVEL: 'warn',
};

let client: KafkaClient;
let admin: Admin;
let raw: KafkaJS.Kafka;
let store: ObjectStore;

beforeAll(async () => {
  client = newTestClient({ ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers }, log);
  admin = await client.admin();
  raw = new kafkajs.Kafka({
    brokers: kafkaInfo.brokers,
    clientId: 'translate-test',
    logLevel: kafkajs.logLevel.NOTHING,
  });
  store = createObjectStore(loadConfig({ env }).storage, log);
});
afterAll(async () => {
  await admin?.disconnect();
  await store?.close();
  rmSync(root, { recursive: true, force: true });
});

function cli(args: string[], over: Record<string, string> = {}) {
  return cliFromSource(args, { ...env, ...over });
}

interface Row {
  topic: string;
  partition: number;
  targetTopic: string;
  targetPartition: number;
  sourceOffset: string | null;
  restoredOffset: string | null;
  kind: string;
}

/** Reads every committed record of a partition range outside any group. */
async function readAll(t: string): Promise<Map<number, KafkaRecord[]>> {
  const offsets = await admin.offsets(t);
  const out = new Map<number, KafkaRecord[]>();
  await client.readCommitted(
    [...offsets].map(([partition, o]) => ({
      topic: t,
      partition,
      fromOffset: o.low,
      toOffset: o.high,
    })),
    (tp, records) => {
      out.set(tp.partition, [...(out.get(tp.partition) ?? []), ...records]);
    },
  );
  return out;
}

describe(`restore translate-offsets on Kafka ${kafkaInfo.version}`, () => {
  // Per partition: a committed transaction of 10 records (offsets 0..9, marker 10), an aborted
  // one of 5 (11..15, marker 16), a committed one of 10 (17..26, marker 27).
  const positions = new Map<number, bigint>([
    [0, 12n], // inside the aborted transaction: translates to the next committed record, 17
    [1, 2n], // before the restored range (it starts at 5): its first record
  ]);
  let source: Map<number, KafkaRecord[]>;
  let jobId: string;

  beforeAll(async () => {
    await admin.createTopics([{ name: topic, partitions: PARTITIONS }]);
    const producer = await client.transactionalProducer({
      transactionalId: `tr-producer-${topic}`,
      compression: 'none',
    });
    const batch = (txn: string, n: number): ProduceRecord[] =>
      Array.from({ length: PARTITIONS * n }, (_, i) => ({
        partition: i % PARTITIONS,
        key: Buffer.from(`${txn}-${i % PARTITIONS}-${Math.floor(i / PARTITIONS)}`),
        value: Buffer.from(`value ${txn} ${i}`),
      }));
    await producer.commitTransaction([{ topic, records: batch('a', 10) }], null);
    await expect(
      producer.commitTransaction([{ topic, records: batch('aborted', 5) }], null, async () => {
        throw new Error('abort this one');
      }),
    ).rejects.toThrow(/abort this one/);
    await producer.commitTransaction([{ topic, records: batch('c', 10) }], null);
    await producer.disconnect();
    source = await readAll(topic);
    expect(source.get(0)?.map((r) => r.offset)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => BigInt(i)),
      ...Array.from({ length: 10 }, (_, i) => BigInt(17 + i)),
    ]);
    // The application's group on the source.
    await admin.commitGroupOffsets(
      group,
      [...positions].map(([partition, offset]) => ({ topic, partition, offset })),
    );

    const service = await createArchiverService(loadConfig({ env }), log);
    await service.start();
    try {
      await waitFor(
        'every record archived and a snapshot of the group in the object store',
        async () => {
          const records = [...(service.catalog?.entries() ?? [])].reduce(
            (n, e) => n + e.recordCount,
            0,
          );
          let snapshots = 0;
          for await (const o of store.list(groupPrefix(group))) if (o.key !== '') snapshots++;
          return records === PARTITIONS * 20 && snapshots > 0;
        },
        90_000,
      );
    } finally {
      await service.close();
    }

    // (nothing tiered, so no topic metadata snapshot: a warning says the defaults apply)
    const r = cli(
      ['--json', 'restore', topic, '--start-offset', String(RANGE_START), '--target-topic', target],
      {
        KAFKA_ARCHIVE_LOG__LEVEL: 'error',
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    jobId = (JSON.parse(r.stdout) as { jobId: string }).jobId;
  }, 180_000);

  /** The source record a consumer at `x` reads next: the first committed one at or after x. */
  const nextOnSource = (p: number, x: bigint) => source.get(p)!.find((r) => r.offset >= x)!;

  it('translates the live position of the group: holes and the range start handled', () => {
    const r = cli(['--json', 'restore', 'translate-offsets', '--job', jobId, '--group', group]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { source: { kind: string }; partitions: Row[] };
    expect(out.source.kind).toBe('live');
    expect(
      out.partitions.map((p) => [p.partition, p.sourceOffset, p.restoredOffset, p.kind]),
    ).toEqual([
      [0, '12', '5', 'gap'], // restored: 5..9 -> 0..4, 17.. -> 5..
      [1, '2', '0', 'before'],
    ]);
    expect(out.partitions.every((p) => p.targetTopic === target)).toBe(true);
    const table = cli(['restore', 'translate-offsets', '--job', jobId, '--group', group]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/positions live from the source cluster/);
    expect(table.stdout).toMatch(new RegExp(`${topic}/0 +12 +${target.replace('.', '\\.')}/0 +5 `));
  });

  it('with the group gone and the source unreachable: --as-of uses the archived series, --apply commits it on the target, a consumer of the group starts at the right record', async () => {
    const rawAdmin = raw.admin();
    await rawAdmin.connect();
    try {
      await rawAdmin.deleteGroups([group]);
    } finally {
      await rawAdmin.disconnect();
    }
    // Live: the group no longer exists on the source.
    const gone = cli(['restore', 'translate-offsets', '--job', jobId, '--group', group]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(
      /\[RESTORE_GROUP_UNKNOWN\] group tr-app-\w+ has no committed offset/,
    );
    // The source cluster is gone too (nothing listens there); restores write to the target.
    const noSource = {
      KAFKA_ARCHIVE_KAFKA__BROKERS: '127.0.0.1:1',
      KAFKA_ARCHIVE_RESTORE__TARGET__BROKERS: brokers,
    };
    const down = cli(['restore', 'translate-offsets', '--job', jobId, '--group', group], noSource);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/\[KAFKA_UNAVAILABLE\].*give --as-of T \(e\.g\. --as-of now\)/);
    // One error line besides the client's own (JSON) warnings; no stack trace.
    const plain = down.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
    expect(plain, down.stderr).toHaveLength(1);

    const before = cli(
      [
        'restore',
        'translate-offsets',
        '--job',
        jobId,
        '--group',
        group,
        '--as-of',
        '2020-01-01T00:00:00Z',
      ],
      noSource,
    );
    expect(before.code).toBe(3);
    expect(before.stderr).toMatch(/\[RESTORE_GROUP_UNKNOWN\] no archived position of group/);

    const applied = cli(
      [
        '--json',
        'restore',
        'translate-offsets',
        '--job',
        jobId,
        '--group',
        group,
        '--as-of',
        'now',
        '--apply',
      ],
      noSource,
    );
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const out = JSON.parse(applied.stdout) as {
      source: { kind: string; snapshotAtMs: number };
      partitions: Row[];
      applied: Array<{ topic: string; partition: number; offset: string }>;
    };
    expect(out.source.kind).toBe('archive');
    expect(out.partitions.map((p) => [p.partition, p.sourceOffset, p.restoredOffset])).toEqual([
      [0, '12', '5'],
      [1, '2', '0'],
    ]);
    expect(out.applied).toEqual([
      { topic: target, partition: 0, offset: '5' },
      { topic: target, partition: 1, offset: '0' },
    ]);

    // An independent consumer of the group on the target.
    const consumer = raw.consumer({ groupId: group });
    const first = new Map<number, { key: string; value: string }>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: target, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          if (!first.has(partition))
            first.set(partition, {
              key: message.key?.toString() ?? '',
              value: message.value?.toString() ?? '',
            });
        },
      });
      await waitFor('a record from each target partition', () => first.size === PARTITIONS, 60_000);
    } finally {
      await consumer.disconnect();
    }
    for (const [p, x] of positions) {
      // The restore began at original offset 5: a position before it starts at its first record.
      const want = nextOnSource(p, x > RANGE_START ? x : RANGE_START);
      expect(first.get(p)).toEqual({ key: want.key?.toString(), value: want.value?.toString() });
    }
    expect(first.get(0)?.key).toBe('c-0-0'); // offset 17 on the source, after the aborted ones
    expect(first.get(1)?.key).toBe('a-1-5'); // offset 5: the first restored record
  }, 120_000);

  it('--apply is refused while the group has members on the target', async () => {
    const consumer = raw.consumer({ groupId: group });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: target });
      await consumer.run({ autoCommit: false, eachMessage: async () => {} });
      await waitFor('the consumer joined the group', () => joined, 60_000);
      const r = cli([
        'restore',
        'translate-offsets',
        '--job',
        jobId,
        '--group',
        group,
        '--as-of',
        'now',
        '--apply',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /\[RESTORE_GROUP_ACTIVE\] group tr-app-\w+ has 1 active member\(s\) on the target .*stop its consumers/,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await consumer.disconnect();
    }
  }, 120_000);
});
