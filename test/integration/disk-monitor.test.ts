// The service's disk monitor on a real (small tmpfs) hot-tier filesystem, driven across every
// watermark while a producer writes: high -> oldest verified segments tiered and evicted;
// flood -> consumption paused, exactly one reserve released, one alert; back below low ->
// consumption resumed, reserves re-armed. Nothing unsafe is deleted, nothing is lost, the
// process never exits.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  archivedOffsets,
  Catalog,
  createKafkajsClient,
  createLogger,
  createObjectStore,
  loadConfig,
  readRecords,
  tieredSource,
} from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';
import {
  logTail,
  metricOf,
  spawnArchiver,
  stopProcess,
  waitForMetric,
  type ArchiverProcess,
} from '../helpers/process.js';
import { describeMountUsage, mountTmpfs, unmountTmpfs } from '../helpers/tmpfs.js';

const kafkaInfo = inject('kafka');
const log = createLogger({ level: 'silent' });
const mountDir = mkdtempSync(join(tmpdir(), 'ka-monitor-'));
const outside = mkdtempSync(join(tmpdir(), 'ka-monitor-out-'));
const refused = mountTmpfs(mountDir, '64m');
if (refused !== null)
  console.log(`[disk monitor test] skipped: cannot mount a tmpfs here (${refused})`);

let proc: ArchiverProcess | null = null;
afterAll(async () => {
  if (proc !== null) await stopProcess(proc, 'SIGKILL');
  if (refused === null) unmountTmpfs(mountDir);
  rmSync(mountDir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const usedPercent = () => {
  const s = statfsSync(mountDir);
  return ((s.blocks - s.bavail) / s.blocks) * 100;
};

describe.skipIf(refused !== null)(`disk watermarks on Kafka ${kafkaInfo.version}`, () => {
  it('high: tier + evict; flood: pause + release one reserve; below low: resume + re-arm', async () => {
    const topic = `monitor-${Math.random().toString(36).slice(2, 8)}`;
    const client = createKafkajsClient(
      { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
      log,
    );
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: 2 }]);
    const env = {
      KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
      KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(mountDir, 'hot'),
      KAFKA_ARCHIVE_CATALOG__DIR: join(outside, 'catalog'),
      KAFKA_ARCHIVE_STORAGE__LOCAL__DIR: join(outside, 'cold'),
      KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
      KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
      KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '300',
      KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS: '20',
      // Only disk pressure tiers here: the schedule would wait a day, and keeps hot copies.
      KAFKA_ARCHIVE_TIERING__MIN_AGE_MS: '1d',
      KAFKA_ARCHIVE_TIERING__EVICT_HOT: 'false',
      KAFKA_ARCHIVE_DISK__MONITOR__INTERVAL_MS: '300',
      KAFKA_ARCHIVE_DISK__WATERMARKS__LOW: '50',
      KAFKA_ARCHIVE_DISK__WATERMARKS__HIGH: '70',
      KAFKA_ARCHIVE_DISK__WATERMARKS__FLOOD: '85',
      KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '3',
      KAFKA_ARCHIVE_DISK__RESERVE__SIZE: '4MiB',
      KAFKA_ARCHIVE_SERVER__PORT: '0', // any free port: several archivers run at once
      KAFKA_ARCHIVE_LOG__LEVEL: 'info',
    };
    const producer = await client.producer();
    let produced = 0;
    const produce = async (n: number) => {
      for (let i = 0; i < n; i += 10) {
        await producer.send(
          topic,
          Array.from({ length: 10 }, (_, k) => ({
            partition: (i + k) % 2,
            key: Buffer.from(`r${produced + i + k}`),
            value: randomBytes(32 * 1024),
          })),
        );
      }
      produced += n;
    };

    proc = spawnArchiver(['run'], env);
    const p = proc;
    try {
      await drive(p);
    } catch (err) {
      console.log(`[disk monitor test] the archiver's last log lines:\n${logTail(p, 80)}`);
      console.log(`[disk monitor test] what occupies the volume:\n${describeMountUsage(mountDir)}`);
      throw err;
    }
    proc = null;
    await producer.disconnect();
    await admin.disconnect();

    async function drive(p: ArchiverProcess): Promise<void> {
      const msgs = (m: string) => p.logs.filter((l) => l.msg === m);
      await waitFor('3 reserves armed', () => msgs('reserve blocks armed').length > 0, 60_000);

      // 1. Above high: the oldest segments are tiered (verified) and evicted, down towards low.
      await produce(1100); // ~35 MiB of incompressible values on a 64 MiB volume with 12 MiB reserves
      await waitFor(
        'disk pressure relieved by tiering',
        () => msgs('disk pressure: tiered and evicted the oldest verified segments').length > 0,
        90_000,
      );
      await waitFor('back under high', () => usedPercent() < 70, 60_000);
      // The monitor holds `high` (and keeps evicting) until a sample sees usage below low. Wait
      // for that: eviction still running while the filler lands would free space under it and
      // keep the volume below flood, so no reserve would ever be released.
      await waitForMetric(
        p,
        'volume_watermark_state{volume="hot",kind="hot"}',
        (v) => v <= 1,
        60_000,
      );

      // 2. Flood (another tenant fills the disk): pause, release exactly one reserve, one alert.
      const s = statfsSync(mountDir);
      writeFileSync(
        join(mountDir, 'filler'),
        Buffer.alloc(Math.max(0, s.bavail * s.bsize - Math.floor(0.1 * s.blocks * s.bsize))),
      );
      await waitFor('flood handled', () => msgs('reserve block released').length > 0, 30_000);
      // Five more monitor rounds at flood: still exactly one release, one alert, one pause.
      const samplesAtFlood = (await metricOf(p, 'disk_monitor_samples_total')) ?? 0;
      await waitForMetric(p, 'disk_monitor_samples_total', (n) => n >= samplesAtFlood + 5, 30_000);
      expect(await metricOf(p, 'reserve_releases_total')).toBe(1);
      expect(await metricOf(p, 'disk_flood_entries_total')).toBe(1);
      expect(msgs('reserve block released')).toHaveLength(1);
      expect(p.logs.filter((l) => l.code === 'DISK_FLOOD')).toHaveLength(1);
      expect(msgs('consumption paused')).toHaveLength(1);
      await produce(40); // arrives while paused

      // 3. Space returns: resume, re-arm, and everything produced gets archived.
      rmSync(join(mountDir, 'filler'));
      await waitFor('consumption resumed', () => msgs('consumption resumed').length > 0, 30_000);
      await waitFor('reserves re-armed', () => msgs('reserve blocks armed').length > 1, 30_000);
      const config = loadConfig({ env });
      const countArchived = async () => {
        const c = await Catalog.open(config.catalog.dir, { writable: false });
        return [...c.entries()].reduce((n, e) => n + e.recordCount, 0);
      };
      await waitFor(
        'all records archived',
        async () => (await countArchived()) >= produced,
        60_000,
      );
      expect(p.isRunning()).toBe(true);
      expect(await stopProcess(p)).toBe(0);

      // Nothing unsafe was deleted: every evicted segment is verified in the object store, and
      // every produced record reads back exactly once from whichever tier holds it.
      const catalog = await Catalog.open(config.catalog.dir, { writable: false });
      const entries = [...catalog.entries()];
      const evicted = entries.filter((e) => !e.hot);
      expect(evicted.length).toBeGreaterThan(0);
      expect(evicted.every((e) => e.cold)).toBe(true);
      const store = createObjectStore(config.storage, log);
      const source = tieredSource(config.archiver.hotDir, store);
      const offsets = await archivedOffsets(catalog, source, topic);
      expect(offsets.reduce((n, o) => n + o.records, 0)).toBe(produced);
      const keys = new Set<string>();
      for (const o of offsets) {
        for await (const r of readRecords(catalog, source, {
          topic,
          partition: o.partition,
          fromOffset: o.firstOffset,
        })) {
          expect(r.value).toHaveLength(32 * 1024);
          keys.add(r.key!.toString());
        }
      }
      expect(keys.size).toBe(produced);
      await store.close();
      console.log(
        `[disk monitor test] ${produced} records; ${evicted.length} of ${entries.length} segments evicted under pressure (all verified cold first); 1 reserve released at flood, re-armed below low`,
      );
    }
  }, 300_000);
});
