// A topic deleted and re-created under the same name, and a partition whose oldest records were
// deleted before they were archived: the archiver says so (one error with a code, a metric) and
// never mixes the new incarnation's records into the archive of the old one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  createArchiverService,
  createKafkajsClient,
  createLogger,
  loadConfig,
  type ArchiverService,
  type ProduceRecord,
} from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';
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

async function runUntil(
  topic: string,
  log: ReturnType<typeof createLogger>,
  done: (s: ArchiverService) => boolean,
  what: string,
): Promise<ArchiverService> {
  const service = await createArchiverService(loadConfig({ env: serviceEnv(topic) }), log);
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
  it('a deleted and re-created topic: TOPIC_DIVERGED per partition, the new records are not mixed in', async () => {
    const topic = `recreated-${Math.random().toString(36).slice(2, 8)}`;
    const admin = await client().admin();
    await admin.createTopics([{ name: topic, partitions: 2 }]);
    await produce(topic, 2, 500, 'old');
    const first = await runUntil(topic, quiet, (s) => archivedRecords(s) === 1000, '1000 archived');
    await first.close();

    await admin.deleteTopics([topic]);
    await waitFor('topic gone', async () => !(await admin.partitionCounts([topic])).has(topic));
    await waitFor('topic re-created', async () => {
      try {
        await admin.createTopics([{ name: topic, partitions: 2 }]);
        return true;
      } catch {
        return false; // the deletion is still being applied
      }
    });
    await produce(topic, 2, 250, 'new');
    await admin.disconnect();

    const lines: Captured[] = [];
    const second = await runUntil(
      topic,
      capturingLogger(lines),
      (s) => s.archiver.getStats().divergedPartitions === 2,
      'both partitions reported diverged',
    );
    try {
      const errors = lines.filter((l) => l.code === 'TOPIC_DIVERGED');
      expect(errors.map((l) => l.partition).sort()).toEqual([0, 1]);
      expect(errors[0]).toMatchObject({ logEndOffset: '250', expectedOffset: '500', topic });
      expect(String(errors[0]?.msg)).toContain('re-created');
      // Nothing of the new incarnation was archived: the archive still holds the 1,000 old records.
      expect(archivedRecords(second)).toBe(1000);
      expect(second.archiver.getStats().recordsArchived).toBe(0);
    } finally {
      await second.close();
    }
  });

  it('records deleted before they were archived: one RECORDS_LOST error with the range, the rest archived', async () => {
    const topic = `truncated-${Math.random().toString(36).slice(2, 8)}`;
    const admin = await client().admin();
    await admin.createTopics([{ name: topic, partitions: 1 }]);
    await produce(topic, 1, 100, 'a');
    const first = await runUntil(topic, quiet, (s) => archivedRecords(s) === 100, '100 archived');
    await first.close();
    await admin.disconnect();

    await produce(topic, 1, 100, 'b');
    const kafkajs = loadKafkajs();
    const raw = new kafkajs.Kafka({
      brokers: kafkaInfo.brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    });
    const radmin = raw.admin();
    await radmin.connect();
    await radmin.fetchTopicMetadata({ topics: [topic] }); // deleteTopicRecords needs it loaded
    await radmin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '150' }] });
    await radmin.disconnect();

    const lines: Captured[] = [];
    const second = await runUntil(
      topic,
      capturingLogger(lines),
      (s) => archivedRecords(s) === 150,
      'offsets 150-199 archived',
    );
    try {
      const lost = lines.filter((l) => l.code === 'RECORDS_LOST');
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatchObject({
        topic,
        partition: 0,
        fromOffset: '100',
        toOffset: '149',
        records: '50',
      });
      expect(second.archiver.getStats().lostRecords).toBe(50);
      const ranges = [...(second.catalog?.entries() ?? [])]
        .map((e) => [Number(e.firstOffset), Number(e.lastOffset)])
        .sort((a, b) => (a[0] as number) - (b[0] as number));
      // The archive keeps the gap: nothing claims offsets 100-149.
      expect(ranges.every(([from, to]) => (to as number) < 100 || (from as number) >= 150)).toBe(
        true,
      );
    } finally {
      await second.close();
    }
  });
});
