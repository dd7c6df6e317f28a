import { mkdtempSync, rmSync, writeFileSync, statfsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  createKafkajsClient,
  createLogger,
  loadConfig,
  LocalSegmentIndex,
} from '../../src/index.js';
import { archivedFromHot, readWithDuckDB, waitFor } from '../helpers/archive.js';
import {
  metricOf,
  spawnArchiver,
  stopProcess,
  waitForMetric,
  type ArchiverProcess,
} from '../helpers/process.js';
import { mountTmpfs, unmountTmpfs } from '../helpers/tmpfs.js';

const kafkaInfo = inject('kafka');
const log = createLogger({ level: 'silent' });

const mountDir = mkdtempSync(join(tmpdir(), 'ka-tmpfs-'));
const refused = mountTmpfs(mountDir, '24m');
if (refused !== null)
  console.log(`[disk-full test] skipped: cannot mount a tmpfs here (${refused})`);

let proc: ArchiverProcess | null = null;
afterAll(async () => {
  if (proc !== null) await stopProcess(proc, 'SIGKILL');
  if (refused === null) unmountTmpfs(mountDir);
  for (const d of [mountDir, `${mountDir}-catalog`, `${mountDir}-cold`])
    rmSync(d, { recursive: true, force: true });
});

describe.skipIf(refused !== null)(`full hot-tier disk on Kafka ${kafkaInfo.version}`, () => {
  it('pauses with one clear error, does not exit, resumes when space returns, loses nothing', async () => {
    const topic = `diskfull-${Math.random().toString(36).slice(2, 8)}`;
    const hotDir = join(mountDir, 'hot');
    const client = createKafkajsClient(
      { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
      log,
    );
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: 2 }]);

    // Leave about 1 MiB free, then produce ~6 MiB of incompressible records.
    const free = () => {
      const s = statfsSync(mountDir);
      return s.bavail * s.bsize;
    };
    const filler = join(mountDir, 'filler');
    writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 1024 * 1024)));
    expect(free()).toBeLessThan(2 * 1024 * 1024);

    const producer = await client.producer();
    const values = new Map<string, Buffer>();
    for (let batch = 0; batch < 12; batch++) {
      const records = Array.from({ length: 16 }, (_, i) => {
        const id = `${batch}-${i}`;
        const value = Buffer.concat([Buffer.from(id.padEnd(8)), randomBytes(32 * 1024)]);
        values.set(id, value);
        return { partition: i % 2, key: Buffer.from(id), value };
      });
      await producer.send(topic, records);
    }
    await producer.disconnect();

    proc = spawnArchiver(['run'], {
      KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
      KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: hotDir,
      KAFKA_ARCHIVE_CATALOG__DIR: `${mountDir}-catalog`,
      KAFKA_ARCHIVE_STORAGE__LOCAL__DIR: `${mountDir}-cold`,
      KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
      KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
      KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '500',
      KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS: '40',
      KAFKA_ARCHIVE_ARCHIVER__SEAL_RETRY_INITIAL_MS: '200',
      KAFKA_ARCHIVE_ARCHIVER__SEAL_RETRY_MAX_MS: '1s',
      // This test is about seal back-pressure on a full disk, without the watermark monitor.
      KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
      KAFKA_ARCHIVE_SERVER__PORT: '0', // any free port: several archivers run at once
      KAFKA_ARCHIVE_LOG__LEVEL: 'info',
    });
    const p = proc;
    const diskFullErrors = () => p.logs.filter((l) => l.level === 50 && l.code === 'DISK_FULL');
    await waitFor('a DISK_FULL error in the log', () => diskFullErrors().length > 0, 60_000);
    // Keep it full while retries go on (three more failed attempts per paused partition): the
    // process stays up, and the error is not repeated.
    const firstFailures = (await metricOf(p, 'seal_failures_total')) ?? 0;
    await waitForMetric(
      p,
      'seal_failures_total',
      (n) => n >= firstFailures + 3 * diskFullErrors().length,
      60_000,
    );
    expect(p.isRunning()).toBe(true);
    const errorsWhileFull = diskFullErrors();
    const pausedPartitions = new Set(errorsWhileFull.map((l) => `${l.topic}/${l.partition}`));
    expect(errorsWhileFull.length).toBe(pausedPartitions.size); // one error per paused partition
    console.log(
      `[disk-full test] while full: ${errorsWhileFull.length} error line(s) for ${pausedPartitions.size} partition(s), process alive`,
    );

    // Nothing committed past what is sealed.
    const committed = await client.consumer({ groupId: `g-${topic}` }).committed(topic);
    const index = new LocalSegmentIndex(hotDir);
    for (const [partition, offset] of committed) {
      if (offset < 0n) continue;
      const hwm = await index.highWatermark(topic, partition);
      expect(hwm).not.toBeNull();
      expect(offset).toBeLessThanOrEqual((hwm as bigint) + 1n);
    }

    rmSync(filler);
    await waitFor(
      'everything archived after space returned',
      async () => {
        const o = await archivedFromHot(hotDir, topic).catch(() => []);
        return o.reduce((n, x) => n + x.records, 0) === values.size;
      },
      90_000,
    );
    expect(p.logs.some((l) => l.msg === 'sealing recovered; resuming partition')).toBe(true);
    expect(await stopProcess(p)).toBe(0);
    proc = null;

    const rows = await readWithDuckDB(hotDir, topic);
    expect(rows).toHaveLength(values.size);
    const seen = new Set<string>();
    for (const r of rows) {
      const id = r.key!.toString();
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      expect(r.value!.equals(values.get(id)!)).toBe(true);
    }
    console.log(`[disk-full test] ${rows.length} records archived exactly once after recovery`);
    await admin.disconnect();
  });
});
