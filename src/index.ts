/**
 * kafka-archive library entry and composition root: the one place where concrete backends
 * (the Kafka client, the DuckDB segment writer, the local hot-tier index) are chosen. The CLI is a thin
 * layer over these functions.
 */
import type { Config } from './config/index.js';
import type { Logger } from './log/index.js';
import {
  createKafkaClient as createKafkaClientFor,
  type Admin,
  type KafkaClient,
} from './kafka/index.js';
import { Catalog, entryFromMeta, LocalSegmentIndex, reconcileHot } from './catalog/index.js';
import { ArchiveError, describeError, ErrorCodes } from './errors.js';
import { createObjectStore, type ObjectStore } from './storage/index.js';
import { Tierer } from './tiering/index.js';
import { DiskMonitor, DiskReportScheduler, resolveVolumes } from './disk/index.js';
import { SegmentWriter } from './segment/index.js';
import { Archiver } from './archiver/index.js';

export * from './errors.js';
export * from './config/index.js';
export { createLogger } from './log/index.js';
export type { Logger } from './log/index.js';
export type * from './kafka/types.js';
export { createKafkajsClient } from './kafka/index.js';
export * from './segment/index.js';
export { Archiver } from './archiver/index.js';
export type { ArchiverStats, SealedSegmentEvent } from './archiver/index.js';
export * from './catalog/index.js';
export * from './storage/index.js';
export * from './tiering/index.js';
export * from './disk/index.js';

/** The Kafka client `kafka.client` selects (kafkajs or @platformatic/kafka). */
export function createKafkaClient(config: Config, log: Logger): KafkaClient {
  return createKafkaClientFor(config.kafka, log);
}

export interface ArchiverService {
  archiver: Archiver;
  /** The persisted catalog, or null when another process sharing it is its writer. */
  catalog: Catalog | null;
  store: ObjectStore;
  /** Null when tiering is disabled or another process writes the catalog. */
  tierer: Tierer | null;
  /** Null when disk.monitor.enabled is off. */
  monitor: DiskMonitor | null;
  /** The scheduled disk report (disk.reportSchedule), null when disk.monitor.enabled is off. */
  reports: DiskReportScheduler | null;
  /** Starts consuming and, when enabled, tiering and the disk monitor. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** How often the service adopts segments sealed by other members sharing its hot directory. */
const RECONCILE_INTERVAL_MS = 30_000;

/**
 * Build the archiver with its production dependencies, and the catalog it keeps up to date:
 * checked against the hot directory at start, one entry per sealed segment. Call
 * `archiver.start()` on the result.
 */
export async function createArchiver(config: Config, log: Logger): Promise<ArchiverService> {
  const writer = new SegmentWriter();
  const index = new LocalSegmentIndex(config.archiver.hotDir);
  const catalogLog = log.child({ component: 'catalog' });
  let catalog: Catalog | null = null;
  try {
    catalog = await Catalog.open(config.catalog.dir, { writable: true });
  } catch (err) {
    if (!(err instanceof ArchiveError) || err.code !== ErrorCodes.CATALOG_LOCKED) throw err;
    catalogLog.warn(
      { catalogDir: config.catalog.dir, holder: err.details?.holder },
      'another process writes this catalog; it will adopt the segments this one seals',
    );
  }
  const kafka = createKafkaClient(config, log);
  const store = createObjectStore(config.storage, log);
  const cat = catalog;
  const archiver = new Archiver({
    kafka,
    config: config.archiver,
    writer,
    // Tiered segments leave the hot directory: the catalog remembers them for resume points.
    index: {
      async highWatermark(topic: string, partition: number) {
        const hot = await index.highWatermark(topic, partition);
        const catalogued = cat?.segments(topic, partition).highWatermark() ?? null;
        return hot === null || (catalogued !== null && catalogued > hot) ? catalogued : hot;
      },
    },
    log: log.child({ component: 'archiver' }),
  });
  let timer: NodeJS.Timeout | null = null;
  if (catalog !== null) {
    const c = catalog;
    const t0 = Date.now();
    const r = await reconcileHot(c, index, catalogLog);
    catalogLog.info(
      { ...r, quarantined: r.quarantined.length, segments: c.size, ms: Date.now() - t0 },
      'catalog checked against the hot directory',
    );
    archiver.onSealed((e) => {
      void c
        .put(entryFromMeta(e.meta, e.bytes, { hot: true, cold: false }))
        .catch((err: unknown) =>
          catalogLog.warn(
            { err: describeError(err) },
            'catalog append failed; the next check repairs it',
          ),
        );
    });
    let running = false;
    timer = setInterval(() => {
      if (running) return;
      running = true;
      reconcileHot(c, index, catalogLog)
        .catch((err: unknown) =>
          catalogLog.warn({ err: describeError(err) }, 'catalog check failed'),
        )
        .finally(() => (running = false));
    }, RECONCILE_INTERVAL_MS);
    timer.unref();
  }
  let monitor: DiskMonitor | null = null;
  if (config.disk.monitor.enabled) {
    monitor = new DiskMonitor({
      volumes: await resolveVolumes(config),
      intervalMs: config.disk.monitor.intervalMs,
      log: log.child({ component: 'disk' }),
      actions: {
        async relieveHot(bytes) {
          if (tierer === null) return 0;
          const r = await tierer.runOnce({ olderThanMs: 0, evict: true, maxBytes: bytes });
          return r.evictedBytes;
        },
        pauseIngest: (reason) => archiver.pauseAll(reason),
        resumeIngest: () => archiver.resumeAll(),
      },
    });
  }
  const reports = config.disk.monitor.enabled
    ? new DiskReportScheduler({ config, log: log.child({ component: 'disk-report' }) })
    : null;
  let tierer: Tierer | null = null;
  let admin: Promise<Admin> | null = null;
  if (catalog !== null && config.tiering.enabled) {
    tierer = new Tierer({
      catalog,
      store,
      hotDir: config.archiver.hotDir,
      config: config.tiering,
      log: log.child({ component: 'tiering' }),
      describeTopic: async (topic) => (await (admin ??= kafka.admin())).describeTopic(topic),
    });
  }
  return {
    archiver,
    catalog,
    store,
    tierer,
    monitor,
    reports,
    async start() {
      await archiver.start();
      tierer?.start();
      monitor?.start();
      reports?.start();
      void reports?.runOnce(); // a first report (and its gauges) now, not at the first cron tick
    },
    async close() {
      if (timer !== null) clearInterval(timer);
      await reports?.stop();
      await monitor?.stop();
      await tierer?.stop();
      await archiver.stop();
      writer.close();
      await catalog?.close();
      if (admin !== null) await (await admin.catch(() => null))?.disconnect();
      await store.close();
    },
  };
}
