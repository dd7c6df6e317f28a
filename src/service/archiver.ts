import { Archiver, GenerationResolver, GroupSnapshotter } from '../archiver/index.js';
import {
  LocalSegmentIndex,
  tieredSource,
  topicOfStream,
  type SegmentSource,
} from '../archive/index.js';
import { archivedHighWatermark, Catalog, entryFromMeta, reconcileHot } from '../catalog/index.js';
import type { Config } from '../config/index.js';
import {
  DiskMonitor,
  DiskReportScheduler,
  LocalReserves,
  resolveVolumes,
  type ReserveControl,
} from '../disk/index.js';
import { ArchiveError, describeError, ErrorCodes } from '../errors.js';
import type { Admin } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { SegmentWriter } from '../segment/index.js';
import { createObjectStore, type ObjectStore } from '../storage/index.js';
import { Tierer } from '../tiering/index.js';
import { createKafkaClient } from './kafka.js';
import { FleetWatcher } from './fleet.js';
import { RestoreJobs } from './restore-jobs.js';
import { CatalogRebuilds } from './rebuild.js';

export interface ArchiverService {
  archiver: Archiver;
  /** The persisted catalog, or null when another process sharing it is its writer. */
  catalog: Catalog | null;
  store: ObjectStore;
  /** Opens catalogued segments from the hot directory or the object store. */
  source: SegmentSource;
  /** Null when tiering is disabled or another process writes the catalog. */
  tierer: Tierer | null;
  /** Null when disk.monitor.enabled is off. */
  monitor: DiskMonitor | null;
  /** The scheduled disk report (disk.reportSchedule), null when disk.monitor.enabled is off. */
  reports: DiskReportScheduler | null;
  /** Consumer-group positions to the object store (archiver.groups), null when none are set. */
  groups: GroupSnapshotter | null;
  /** Restore jobs started over the HTTP API; close() aborts the running ones (resumable). */
  restores: RestoreJobs;
  /** The disk fleet read from disk.fleet.topic, null unless disk.fleet.enabled. */
  fleet: FleetWatcher | null;
  /** Catalog rebuilds asked for over the HTTP API (beside the running writers). */
  rebuilds: CatalogRebuilds;
  /** Reserve release / re-arm over the HTTP API: through the disk monitor when it runs. */
  reserves: ReserveControl;
  /** Starts consuming and, when enabled, tiering and the disk monitor. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** How often the service adopts segments sealed by other members sharing its hot directory. */
const RECONCILE_INTERVAL_MS = 30_000;

/** The catalog as its writer, or null (with a warning) when another process writes it. */
async function openServiceCatalog(config: Config, log: Logger): Promise<Catalog | null> {
  try {
    return await Catalog.open(config.catalog.dir, { writable: true, log });
  } catch (err) {
    if (!(err instanceof ArchiveError) || err.code !== ErrorCodes.CATALOG_LOCKED) throw err;
    log.warn(
      { catalogDir: config.catalog.dir, holder: err.details?.holder },
      'another process writes this catalog; it will adopt the segments this one seals',
    );
    return null;
  }
}

/** Keeps the catalog in step with the hot directory: once now, then every RECONCILE_INTERVAL_MS. */
async function startReconciling(
  catalog: Catalog,
  hot: LocalSegmentIndex,
  log: Logger,
): Promise<NodeJS.Timeout> {
  const t0 = Date.now();
  const r = await reconcileHot(catalog, hot, log);
  log.info(
    { ...r, quarantined: r.quarantined.length, segments: catalog.size, ms: Date.now() - t0 },
    'catalog checked against the hot directory',
  );
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    reconcileHot(catalog, hot, log)
      .catch((err: unknown) => log.warn({ err: describeError(err) }, 'catalog check failed'))
      .finally(() => (running = false));
  }, RECONCILE_INTERVAL_MS);
  timer.unref();
  return timer;
}

/**
 * The archiver service with its production parts: Kafka client, segment writer, catalog (checked
 * against the hot directory at start; one entry per sealed segment, written before its offset is
 * committed), tierer, disk monitor and scheduled disk report. Call `start()` on the result.
 */
export async function createArchiverService(config: Config, log: Logger): Promise<ArchiverService> {
  const writer = new SegmentWriter();
  const hot = new LocalSegmentIndex(config.archiver.hotDir);
  const catalogLog = log.child({ component: 'catalog' });
  const catalog = await openServiceCatalog(config, catalogLog);
  const kafka = createKafkaClient(config, log);
  // Now, not at the first assignment: loading can block the event loop for most of a second.
  await kafka.load();
  const store = createObjectStore(config.storage, log);
  const archiver = new Archiver({
    kafka,
    config: config.archiver,
    writer,
    index: archivedHighWatermark(hot, catalog),
    generations: new GenerationResolver({
      store,
      index: archivedHighWatermark(hot, catalog),
      log: log.child({ component: 'archiver' }),
    }),
    ...(catalog !== null
      ? {
          recordSealed: (e) =>
            catalog.put(entryFromMeta(e.meta, e.bytes, { hot: true, cold: false })),
        }
      : {}),
    log: log.child({ component: 'archiver' }),
  });
  const timer = catalog !== null ? await startReconciling(catalog, hot, catalogLog) : null;
  let admin: Promise<Admin> | null = null;
  // Connected on first use; a failed connect is forgotten so the next call tries again.
  const tierAdmin = (): Promise<Admin> =>
    (admin ??= kafka.admin().catch((err: unknown) => {
      admin = null;
      throw err;
    }));
  // The group's committed offsets per topic, read at most once a second (tiering asks per segment).
  const committedCache = new Map<string, { at: number; offsets: Promise<Map<number, bigint>> }>();
  const committedOffsets = (topic: string): Promise<Map<number, bigint>> => {
    const hit = committedCache.get(topic);
    if (hit !== undefined && Date.now() - hit.at < 1000) return hit.offsets;
    const offsets = (async () => {
      const all = await (await tierAdmin()).groupOffsets(config.archiver.groupId, [topic]);
      const out = new Map<number, bigint>();
      for (const [p, c] of all.get(topic) ?? new Map()) out.set(p, c.offset);
      return out;
    })();
    offsets.catch(() => committedCache.delete(topic));
    committedCache.set(topic, { at: Date.now(), offsets });
    return offsets;
  };
  const tierer =
    catalog !== null && config.tiering.enabled
      ? new Tierer({
          catalog,
          store,
          hotDir: config.archiver.hotDir,
          config: config.tiering,
          log: log.child({ component: 'tiering' }),
          describeTopic: async (topic) => (await tierAdmin()).describeTopic(topic),
          ownership: {
            owns: (topic, partition) => archiver.owns(topic, partition),
            // Asked for the current generation's streams only (a past one's: owns() is true).
            committed: async (stream, partition) =>
              (await committedOffsets(topicOfStream(stream).topic)).get(partition) ?? null,
          },
          segmentOptions: {
            compression: config.archiver.compression,
            rowGroupBytes: config.archiver.rowGroupBytes,
          },
        })
      : null;
  const monitor = config.disk.monitor.enabled
    ? new DiskMonitor({
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
      })
    : null;
  const reports = config.disk.monitor.enabled
    ? new DiskReportScheduler({ config, log: log.child({ component: 'disk-report' }) })
    : null;
  const groups =
    config.archiver.groups.length > 0
      ? new GroupSnapshotter({
          kafka,
          store,
          patterns: config.archiver.groups,
          intervalMs: config.archiver.groupsIntervalMs,
          topics: () => archiver.getStats().topics,
          log: log.child({ component: 'groups' }),
        })
      : null;
  const restores = new RestoreJobs({ config, log, catalog, store });
  const fleet = config.disk.fleet.enabled
    ? new FleetWatcher(config, log.child({ component: 'disk-fleet' }), kafka)
    : null;
  const rebuilds = new CatalogRebuilds({ config, log, catalog, tierer });
  const reserves: ReserveControl =
    monitor ?? new LocalReserves(await resolveVolumes(config), log.child({ component: 'disk' }));
  return {
    fleet,
    rebuilds,
    reserves,
    archiver,
    catalog,
    store,
    groups,
    restores,
    source: tieredSource(config.archiver.hotDir, store),
    tierer,
    monitor,
    reports,
    async start() {
      await archiver.start();
      tierer?.start();
      monitor?.start();
      reports?.start();
      groups?.start();
      fleet?.start();
      void reports?.runOnce(); // a first report (and its gauges) now, not at the first cron tick
    },
    async close() {
      await rebuilds.close();
      await restores.close();
      if (timer !== null) clearInterval(timer);
      await groups?.stop();
      await fleet?.stop();
      await reports?.stop();
      await monitor?.stop();
      await tierer?.stop();
      await archiver.stop();
      await writer.close();
      await catalog?.close();
      if (admin !== null) await (await admin.catch(() => null))?.disconnect();
      await store.close();
    },
  };
}
