// Cross-cluster and cross-version restore: records archived from the test bed's broker are
// restored into a second broker of the other Kafka version, started here with scripts/kafka.sh
// (3.9.1 -> 4.1.1 when the bed runs 3.9.1, 4.1.1 -> 3.9.1 otherwise), read back by the Java
// client of that version, and verified.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createArchiverService,
  createKafkajsClient,
  createLogger,
  loadConfig,
  type ProduceRecord,
} from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';
import { cliFromSource } from '../helpers/cli.js';
import { readWithJava } from '../helpers/java-reader.js';

const ROOT = join(import.meta.dirname, '../..');
const kafkaInfo = inject('kafka');
const other = kafkaInfo.version.startsWith('3.') ? '4.1.1' : '3.9.1';
const log = createLogger({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'ka-restore-xc-'));
const brokerDir = join(root, `kafka-${other}`);
let target = '';

const kafkaSh = (...args: string[]) =>
  execFileSync('bash', [join(ROOT, 'scripts/kafka.sh'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 300_000,
  }).trim();

beforeAll(() => {
  target = kafkaSh('start', other, brokerDir).split('\n').pop() as string;
});
afterAll(() => {
  kafkaSh('stop', brokerDir);
  rmSync(root, { recursive: true, force: true });
});

describe(`restore from Kafka ${kafkaInfo.version} into another cluster on Kafka ${other}`, () => {
  it('archives on one cluster, restores into the other byte for byte, --verify passes', async () => {
    const topic = `xc-${Math.random().toString(36).slice(2, 8)}`;
    const env = {
      KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
      KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(root, 'hot'),
      KAFKA_ARCHIVE_CATALOG__DIR: join(root, 'catalog'),
      KAFKA_ARCHIVE_STORAGE__LOCAL__DIR: join(root, 'cold'),
      KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
      KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
      KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '500',
      KAFKA_ARCHIVE_TIERING__ENABLED: 'false',
      KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
      KAFKA_ARCHIVE_SERVER__ENABLED: 'false',
      KAFKA_ARCHIVE_LOG__LEVEL: 'warn',
    };
    const source = createKafkajsClient(
      { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
      log,
    );
    const admin = await source.admin();
    await admin.createTopics([{ name: topic, partitions: 4 }]);
    const producer = await source.producer();
    const produced: ProduceRecord[] = [];
    for (let p = 0; p < 4; p++) {
      const records = Array.from({ length: 50 }, (_, i) => ({
        partition: p,
        key: i % 9 === 0 ? null : Buffer.from([p, i, 0xff]),
        value: i % 10 === 7 ? null : Buffer.from(`v${p}-${i}`),
        headers: [
          { key: 'x', value: Buffer.from('1') },
          { key: 'x', value: null },
        ],
        timestamp: 1_790_000_000_000n + BigInt(i),
      }));
      await producer.send(topic, records);
      produced.push(...records);
    }
    await producer.disconnect();
    await admin.disconnect();
    const service = await createArchiverService(loadConfig({ env }), log);
    await service.start();
    try {
      await waitFor(
        '200 records archived',
        () =>
          [...(service.catalog?.entries() ?? [])].reduce((n, e) => n + e.recordCount, 0) === 200,
      );
    } finally {
      await service.close();
    }

    const r = cliFromSource(
      ['--json', 'restore', topic, '--target-brokers', target, '--verify', '--no-progress'],
      env,
    );
    // A fresh cluster logs kafkajs' retries while it creates its internal topics: only no failure.
    expect(r.stderr).not.toContain('kafka-archive:');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { verify: { ok: boolean; targetRecords: number } };
    expect(out.verify).toMatchObject({ ok: true, targetRecords: 200 });
    const got = await readWithJava(target, `${topic}.restored`, other);
    const hex = (b: Buffer | null | undefined) => (b == null ? null : b.toString('hex'));
    expect(
      got.map((g) => [
        g.partition,
        hex(g.key),
        hex(g.value),
        g.headers.map((h) => hex(h.value)),
        g.timestamp,
      ]),
    ).toEqual(
      produced.map((w) => [w.partition, hex(w.key), hex(w.value), ['31', null], w.timestamp]),
    );
    // Nothing was written to the source cluster.
    const a = await source.admin();
    expect((await a.partitionCounts([`${topic}.restored`])).size).toBe(0);
    await a.disconnect();
  });
});
