// A topic deleted and re-created under the same name is archived as a new generation (never
// mixed with the old incarnation, never skipped), and a partition whose oldest records were
// deleted before they were archived is reported (one error with a code, a metric).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  archivedOffsets,
  createArchiverService,
  createKafkajsClient,
  createLogger,
  loadConfig,
  readRecords,
  type ArchiverService,
  type ProduceRecord,
} from '../../src/index.js';
import { readWithDuckDB, waitFor } from '../helpers/archive.js';
import { cliFromSource } from '../helpers/cli.js';
import { loadKafkajs } from '../../src/kafka/kafkajs/ordered-headers.js';

const kafkaInfo = inject('kafka');
const root = mkdtempSync(join(tmpdir(), 'ka-recreated-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Captured {
  code?: string;
  msg?: string;
  [k: string]: unknown;
}

/** A logger that keeps every line at warn and above, parsed. */
function capturingLogger(lines: Captured[]) {
  return createLogger({
    level: 'warn',
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const l of chunk.toString().split('\n')) {
          if (l.trim() !== '') lines.push(JSON.parse(l) as Captured);
        }
        callback();
      },
    }),
  });
}

function serviceEnv(topic: string) {
  return {
    KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
    KAFKA_ARCHIVE_DATA_DIR: join(root, topic),
    KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
    KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
    KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '300',
    KAFKA_ARCHIVE_TIERING__ENABLED: 'false',
    KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
    KAFKA_ARCHIVE_SERVER__ENABLED: 'false',
  };
}

const quiet = createLogger({ level: 'silent' });
const client = () =>
  createKafkajsClient({ ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers }, quiet);

async function produce(topic: string, partitions: number, perPartition: number, tag: string) {
  const c = client();
  const producer = await c.producer();
  for (let p = 0; p < partitions; p++) {
    const records: ProduceRecord[] = Array.from({ length: perPartition }, (_, i) => ({
      partition: p,
      key: Buffer.from(`${tag}-${p}-${i}`),
      value: Buffer.from(`${tag} value ${i}`),
      headers: [],
      timestamp: BigInt(Date.now()),
    }));
    await producer.send(topic, records);
  }
  await producer.disconnect();
}

const archivedRecords = (s: ArchiverService) =>
  [...(s.catalog?.entries() ?? [])].reduce((n, e) => n + e.recordCount, 0);

/**
 * A new topic (`<prefix>-<random>`) of `partitions` partitions with `perPartition` records each,
 * and a running service that has archived them all (logging warnings into `lines`).
 */
async function archivedTopic(
  prefix: string,
  partitions: number,
  perPartition: number,
  tag: string,
  lines: Captured[],
  env: Record<string, string>,
): Promise<{ topic: string; service: ArchiverService }> {
  const topic = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  const admin = await client().admin();
  await admin.createTopics([{ name: topic, partitions }]);
  await admin.disconnect();
  await produce(topic, partitions, perPartition, tag);
  const n = partitions * perPartition;
  const service = await runUntil(
    topic,
    capturingLogger(lines),
    (s) => archivedRecords(s) === n,
    `${n} archived`,
    env,
  );
  return { topic, service };
}

/**
 * Offsets 100-149 of partition 0 were deleted before they were archived: one RECORDS_LOST with
 * the range, counted per partition, no segment's range claiming them, the other 150 archived.
 */
function expectLost100to149(topic: string, lines: Captured[], service: ArchiverService): void {
  const lost = lines.filter((l) => l.code === 'RECORDS_LOST');
  expect(lost).toHaveLength(1);
  expect(lost[0]).toMatchObject({
    topic,
    partition: 0,
    fromOffset: '100',
    toOffset: '149',
    records: '50',
  });
  expect(service.archiver.getStats().lostRecords).toBe(50);
  expect(service.archiver.getStats().lostRecordsByPartition).toEqual([
    { topic, partition: 0, records: 50 },
  ]);
  const entries = [...(service.catalog?.entries() ?? [])];
  expect(entries.every((e) => e.rangeEnd < 100n || e.rangeStart >= 150n)).toBe(true);
  expect(entries.reduce((n, e) => n + e.recordCount, 0)).toBe(150);
}

/** DeleteRecords: the partition's log start moves to `offset`. */
async function deleteRecordsBefore(topic: string, partition: number, offset: number) {
  const kafkajs = loadKafkajs();
  const raw = new kafkajs.Kafka({ brokers: kafkaInfo.brokers, logLevel: kafkajs.logLevel.NOTHING });
  const radmin = raw.admin();
  await radmin.connect();
  try {
    await radmin.fetchTopicMetadata({ topics: [topic] }); // deleteTopicRecords needs it loaded
    await radmin.deleteTopicRecords({ topic, partitions: [{ partition, offset: String(offset) }] });
  } finally {
    await radmin.disconnect();
  }
}

async function runUntil(
  topic: string,
  log: ReturnType<typeof createLogger>,
  done: (s: ArchiverService) => boolean,
  what: string,
  env: Record<string, string> = {},
): Promise<ArchiverService> {
  const service = await createArchiverService(
    loadConfig({ env: { ...serviceEnv(topic), ...env } }),
    log,
  );
  await service.start();
  try {
    await waitFor(what, () => done(service), 60_000);
  } catch (err) {
    await service.close();
    throw err;
  }
  return service;
}

describe(`archiver against a changed topic on Kafka ${kafkaInfo.version}`, () => {
  /** Deletes the topic and creates it again (the deletion is applied asynchronously). */
  async function recreate(topic: string, partitions: number): Promise<void> {
    const admin = await client().admin();
    await admin.deleteTopics([topic]);
    await waitFor('topic gone', async () => !(await admin.partitionCounts([topic])).has(topic));
    await waitFor('topic re-created', async () => {
      try {
        await admin.createTopics([{ name: topic, partitions }]);
        return true;
      } catch {
        return false; // the deletion is still being applied
      }
    });
    await admin.disconnect();
  }

  const streamRecords = (s: ArchiverService, stream: string) =>
    [...(s.catalog?.entries() ?? [])]
      .filter((e) => e.topic === stream)
      .reduce((n, e) => n + e.recordCount, 0);

  for (const c of [
    { client: undefined, perPartition: 250, how: 'fewer records than archived' },
    {
      client: 'platformatic' as const,
      perPartition: 600,
      how: 'more records than archived, through @platformatic/kafka',
    },
  ]) {
    it(`a deleted and re-created topic (${c.how}) is archived as generation 2, apart from generation 1`, async () => {
      const topic = `recreated-${Math.random().toString(36).slice(2, 8)}`;
      const extra: Record<string, string> =
        c.client === undefined ? {} : { KAFKA_ARCHIVE_KAFKA__CLIENT: c.client };
      const admin = await client().admin();
      await admin.createTopics([{ name: topic, partitions: 2 }]);
      await admin.disconnect();
      await produce(topic, 2, 500, 'old');
      const first = await runUntil(
        topic,
        quiet,
        (s) => archivedRecords(s) === 1000,
        '1000 archived',
        extra,
      );
      await first.close();

      await recreate(topic, 2);
      await produce(topic, 2, c.perPartition, 'new');

      const lines: Captured[] = [];
      const total = 1000 + 2 * c.perPartition;
      const second = await runUntil(
        topic,
        capturingLogger(lines),
        (s) => archivedRecords(s) === total,
        `${total} archived`,
        extra,
      );
      const hot = join(root, topic, 'hot');
      try {
        const news = lines.filter((l) => l.code === 'TOPIC_GENERATION_NEW');
        expect(news).toHaveLength(1);
        expect(news[0]).toMatchObject({
          topic,
          generation: 2,
          reason: 'topic-id',
        });
        expect(lines.filter((l) => l.code === 'TOPIC_DIVERGED')).toEqual([]);
        // Never mixed: the old records stay generation 1, the new ones are all generation 2.
        expect(streamRecords(second, topic)).toBe(1000);
        expect(streamRecords(second, `${topic}~2`)).toBe(2 * c.perPartition);
        const catalog = second.catalog as NonNullable<ArchiverService['catalog']>;
        const newest = await archivedOffsets(catalog, second.source, topic);
        expect(newest.map((r) => [r.generation, r.partition, r.records])).toEqual([
          [2, 0, c.perPartition],
          [2, 1, c.perPartition],
        ]);
        expect(newest[0]?.generations).toEqual([1, 2]);
        const old = await archivedOffsets(catalog, second.source, topic, 1);
        expect(old.map((r) => [r.generation, r.records])).toEqual([
          [1, 500],
          [1, 500],
        ]);
        expect(await archivedOffsets(catalog, second.source, topic, 'all')).toHaveLength(4);
        const firstKey = async (generation?: number) => {
          for await (const r of readRecords(catalog, second.source, {
            topic,
            partition: 0,
            fromOffset: 0n,
            count: 1,
            ...(generation !== undefined ? { generation } : {}),
          })) {
            return r.key?.toString();
          }
          return undefined;
        };
        expect(await firstKey()).toBe('new-0-0');
        expect(await firstKey(1)).toBe('old-0-0');
        await expect(firstKey(3)).rejects.toMatchObject({ code: 'ARCHIVE_GENERATION_UNKNOWN' });
        // Readable in place: each generation's glob holds exactly its own records.
        const gen1 = await readWithDuckDB(hot, topic);
        const gen2 = await readWithDuckDB(hot, `${topic}/generation=2`);
        expect(gen1).toHaveLength(1000);
        expect(gen1.every((r) => r.key?.toString().startsWith('old-'))).toBe(true);
        expect(gen2).toHaveLength(2 * c.perPartition);
        expect(gen2.every((r) => r.key?.toString().startsWith('new-'))).toBe(true);
        expect(gen2.filter((r) => r.partition === 0).map((r) => Number(r.offset))).toEqual(
          Array.from({ length: c.perPartition }, (_, i) => i),
        );
      } finally {
        await second.close();
      }

      if (c.client === 'platformatic') {
        // The CLI over the same archive: generations shown, tiered like any other stream, and
        // generation 1 restored on its own.
        const env = { ...serviceEnv(topic), ...extra };
        const offsets = cliFromSource(['offsets', topic, '--generation', 'all', '--json'], env);
        expect(offsets.code, offsets.stderr).toBe(0);
        expect(
          (JSON.parse(offsets.stdout) as Array<{ generation: number; records: number }>).map(
            (r) => [r.generation, r.records],
          ),
        ).toEqual([
          [1, 500],
          [1, 500],
          [2, c.perPartition],
          [2, c.perPartition],
        ]);
        const table = cliFromSource(['offsets', topic], env);
        expect(table.stdout).toMatch(/generation/);
        expect(table.stdout).toMatch(/2 of 1,2/);
        const tier = cliFromSource(['tier', '--older-than', '0', '--json'], env);
        expect(tier.code, tier.stderr).toBe(0);
        const cold = join(root, topic, 'cold', `topic=${topic}`);
        expect(readdirSync(join(cold, 'generation=2', 'partition=0')).length).toBeGreaterThan(0);
        expect(readdirSync(join(cold, '_generations')).filter((f) => !f.startsWith('.'))).toEqual([
          '0000000001.json',
          '0000000002.json',
        ]);
        const restored = cliFromSource(
          [
            'restore',
            topic,
            '--generation',
            '1',
            '--target-topic',
            `${topic}.gen1`,
            '--verify',
            '--json',
          ],
          env,
        );
        // --verify reads the target back against generation 1's records, byte for byte.
        expect(restored.code, restored.stderr).toBe(0);
        const target = await client().admin();
        const ends = await target.offsets(`${topic}.gen1`);
        await target.disconnect();
        // 500 records and the commit marker of the restore's transaction per partition.
        expect([...ends.values()].map((r) => Number(r.high))).toEqual([501, 501]);
      }

      // A restart keeps archiving generation 2: no new generation, nothing archived twice.
      await produce(topic, 2, 10, 'later');
      const restartLines: Captured[] = [];
      const third = await runUntil(
        topic,
        capturingLogger(restartLines),
        (s) => streamRecords(s, `${topic}~2`) === 2 * c.perPartition + 20,
        'the later records archived into generation 2',
        extra,
      );
      try {
        expect(restartLines.filter((l) => l.code === 'TOPIC_GENERATION_NEW')).toEqual([]);
        expect(streamRecords(third, topic)).toBe(1000);
      } finally {
        await third.close();
      }
    });
  }

  for (const liveClient of [undefined, 'platformatic' as const]) {
    it(`a topic re-created while the archiver runs (${liveClient ?? 'kafkajs'}): the new records go to generation 2, none skipped, none mixed into generation 1`, async () => {
      const extra: Record<string, string> = {
        KAFKA_ARCHIVE_ARCHIVER__METADATA_REFRESH_MS: '1000',
        ...(liveClient === undefined ? {} : { KAFKA_ARCHIVE_KAFKA__CLIENT: liveClient }),
      };
      const lines: Captured[] = [];
      const { topic, service } = await archivedTopic('live', 2, 300, 'old', lines, extra);
      try {
        await recreate(topic, 2);
        // Fewer records than archived: offsets 0-199 lie below what generation 1 holds.
        await produce(topic, 2, 200, 'new');
        await waitFor(
          'the new records archived into generation 2',
          () => streamRecords(service, `${topic}~2`) === 400,
          60_000,
        );
        // More records arrive on the new incarnation, past generation 1's offsets too.
        await produce(topic, 2, 200, 'more');
        await waitFor(
          'the later records archived into generation 2',
          () => streamRecords(service, `${topic}~2`) === 800,
          60_000,
        );
        expect(streamRecords(service, topic)).toBe(600);
        const news = lines.filter((l) => l.code === 'TOPIC_GENERATION_NEW');
        expect(news).toHaveLength(1);
        expect(lines.filter((l) => l.code === 'TOPIC_GENERATION_AMBIGUOUS')).toEqual([]);
        const hot = join(root, topic, 'hot');
        const gen1 = await readWithDuckDB(hot, topic);
        expect(gen1).toHaveLength(600);
        expect(gen1.every((r) => r.key?.toString().startsWith('old-'))).toBe(true);
        const gen2 = await readWithDuckDB(hot, `${topic}/generation=2`);
        expect(gen2.filter((r) => r.partition === 1).map((r) => Number(r.offset))).toEqual(
          Array.from({ length: 400 }, (_, i) => i),
        );
      } finally {
        await service.close();
      }
    });
  }

  it('records deleted before they were archived: one RECORDS_LOST error with the range, the rest archived', async () => {
    const topic = `truncated-${Math.random().toString(36).slice(2, 8)}`;
    const admin = await client().admin();
    await admin.createTopics([{ name: topic, partitions: 1 }]);
    await produce(topic, 1, 100, 'a');
    const first = await runUntil(topic, quiet, (s) => archivedRecords(s) === 100, '100 archived');
    await first.close();
    await admin.disconnect();

    await produce(topic, 1, 100, 'b');
    await deleteRecordsBefore(topic, 0, 150);

    const lines: Captured[] = [];
    const second = await runUntil(
      topic,
      capturingLogger(lines),
      (s) => archivedRecords(s) === 150,
      'offsets 150-199 archived',
    );
    try {
      expectLost100to149(topic, lines, second);
    } finally {
      await second.close();
    }
  });

  for (const liveClient of [undefined, 'platformatic' as const]) {
    it(`records deleted while the archiver runs and is paused (${liveClient ?? 'kafkajs'}): one RECORDS_LOST with the range, the gap kept, the rest archived`, async () => {
      const lines: Captured[] = [];
      const { topic, service } = await archivedTopic(
        'deleted-live',
        1,
        100,
        'a',
        lines,
        liveClient === undefined ? {} : { KAFKA_ARCHIVE_KAFKA__CLIENT: liveClient },
      );
      try {
        // Paused (as the disk monitor pauses at the high watermark): the records below are not
        // fetched, and DeleteRecords removes half of them before the archiver reads them.
        service.archiver.pauseAll('test');
        await produce(topic, 1, 100, 'b');
        await deleteRecordsBefore(topic, 0, 150);
        service.archiver.resumeAll();
        await waitFor('offsets 150-199 archived', () => archivedRecords(service) === 150, 60_000);
        expectLost100to149(topic, lines, service);
      } finally {
        await service.close();
      }
    });
  }
});
