import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { DiskReport, FleetReport } from '../disk/index.js';
import type { Catalog } from '../catalog/index.js';
import type { DiskMonitorCounters, VolumeSample, WatermarkState } from '../disk/index.js';
import type { Tierer } from '../tiering/index.js';
import { readiness, type ArchiverView } from './health.js';
import type { VolumeSampler } from './volumes.js';

/** Every metric name starts with this (default Node.js metrics included). */
export const METRIC_PREFIX = 'kafka_archive_';

export interface MetricsDeps {
  archiver: ArchiverView;
  /** The service's disk monitor, when it runs. */
  monitor?: { counters?: DiskMonitorCounters } | null;
  catalog: Catalog | null;
  tierer: Pick<Tierer, 'totals' | 'failures'> | null;
  volumes: VolumeSampler;
  reports?: { lastReport: DiskReport | null } | null;
  /** Consumer-group snapshots (archiver.groups), when configured. */
  groups?: { stats: GroupSnapshotStats } | null;
  /** The disk fleet (disk.fleet.enabled): per broker and log.dir gauges. */
  fleet?: FleetSource | null;
  /** True once the server is closing (readiness). */
  stopping: () => boolean;
}

/** The fleet report as of now, null until the fleet topic was read (FleetWatcher). */
export interface FleetSource {
  report(now?: number): FleetReport | null;
  lastError(): string | null;
}

/** The running totals of the consumer-group snapshotter (GroupSnapshotter.stats). */
export interface GroupSnapshotStats {
  rounds: number;
  written: number;
  failures: number;
  lastWrittenAtMs: number;
}

export interface Metrics {
  registry: Registry;
  /** Count one HTTP request (route is the path for known routes, else "other"). */
  request(route: string, status: number): void;
}

/** Watermark states as numbers, for alerts such as `kafka_archive_volume_watermark_state >= 2`. */
export const WATERMARK_LEVEL: Record<WatermarkState, number> = { ok: 0, low: 1, high: 2, flood: 3 };

/** Values this fresh are reused across the metrics of one scrape (one pass over the catalog). */
function memo<T>(fn: () => T, ms = 500): () => T {
  let at = -Infinity;
  let value: T;
  return () => {
    const now = performance.now();
    if (now - at >= ms) {
      value = fn();
      at = now;
    }
    return value;
  };
}

/**
 * The service's Prometheus registry. Every value is read when scraped (collect callbacks): the
 * archiver's and the tierer's counters, the catalog's size, and one sample per configured disk
 * volume; plus the default Node.js process metrics.
 */
export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const p = METRIC_PREFIX;
  collectDefaultMetrics({ register: registry, prefix: p });

  /** A counter mirroring a running total kept elsewhere. */
  const total = (name: string, help: string, value: () => number) =>
    new Counter({
      name: p + name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  /** A counter per label set; a series appears with its first count. */
  const labelledTotal = (
    name: string,
    help: string,
    labelNames: string[],
    values: () => Array<[Record<string, string>, number]>,
  ) =>
    new Counter({
      name: p + name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [labels, v] of values()) this.inc(labels, v);
      },
    });
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({
      name: p + name,
      help,
      registers,
      collect() {
        this.set(value());
      },
    });

  // ---- archiver ------------------------------------------------------------------------------
  const stats = memo(() => deps.archiver.getStats());
  total(
    'records_archived_total',
    'Records written to sealed segments.',
    () => stats().recordsArchived,
  );
  total(
    'segments_sealed_total',
    "Segments sealed (written, fsync'd, renamed).",
    () => stats().segmentsSealed,
  );
  total(
    'segment_bytes_written_total',
    'Bytes of sealed segment files.',
    () => stats().bytesWritten,
  );
  total(
    'seal_failures_total',
    'Failed attempts to seal a segment (each retry counts).',
    () => stats().sealFailures,
  );
  total(
    'commit_failures_total',
    'Failed offset commits (the next commit catches up).',
    () => stats().commitFailures,
  );
  labelledTotal(
    'lost_records_total',
    'Records deleted from Kafka (retention, DeleteRecords) before they were archived (code RECORDS_LOST), per partition.',
    ['topic', 'partition'],
    () =>
      (stats().lostRecordsByPartition ?? []).map((l) => [
        { topic: l.topic, partition: String(l.partition) },
        l.records,
      ]),
  );
  gauge(
    'diverged_partitions',
    'Partitions not archived because their log ends before the archive does: re-created topic or truncated partition (code TOPIC_DIVERGED).',
    () => stats().divergedPartitions,
  );
  gauge(
    'paused_partitions',
    'Partitions whose consumption is paused (failing seals, full disk).',
    () => stats().pausedPartitions,
  );
  gauge(
    'buffered_bytes',
    'Record bytes held in open and sealing segments.',
    () => stats().bufferedBytes,
  );
  gauge(
    'assigned_partitions',
    'Partitions this member archives (those that have delivered records).',
    () => stats().assignedPartitions,
  );
  gauge('subscribed_topics', 'Topics the consumer is subscribed to.', () => stats().topics.length);
  gauge('ready', '1 when /readyz answers 200.', () =>
    readiness(deps.archiver, deps.stopping()).ready ? 1 : 0,
  );

  // ---- tiering -------------------------------------------------------------------------------
  gauge('tiering_enabled', '1 when this process tiers segments to the object store.', () =>
    deps.tierer === null ? 0 : 1,
  );
  const tierer = deps.tierer;
  if (tierer !== null) {
    const t = tierer.totals;
    total('tiering_segments_uploaded_total', 'Segments uploaded and verified.', () => t.uploaded);
    total(
      'tiering_segments_adopted_total',
      'Segments whose object already existed and was verified.',
      () => t.adopted,
    );
    total(
      'tiering_segments_evicted_total',
      'Hot copies deleted after their object was verified.',
      () => t.evicted,
    );
    total('tiering_bytes_total', 'Bytes uploaded (or adopted) and verified.', () => t.bytes);
    total(
      'tiering_duplicates_dropped_total',
      'Hot segments not uploaded because the bucket already held all their records (another member).',
      () => t.duplicates,
    );
    total(
      'tiering_segments_trimmed_total',
      'Hot segments the bucket held in part, replaced by trimmed segments of the other records.',
      () => t.trimmed,
    );
    total(
      'tiering_bucket_overlaps_total',
      'Overlapping objects found right after an upload (members uploading at the same moment).',
      () => t.overlaps,
    );
    total(
      'tiering_failed_rounds_total',
      'Tiering rounds that failed (object store outage).',
      () => t.failedRounds,
    );
    gauge(
      'tiering_consecutive_failures',
      'Failed tiering rounds in a row (0 = healthy).',
      () => tierer.failures,
    );
  }

  // ---- consumer-group snapshots ---------------------------------------------------------------
  const groups = deps.groups?.stats;
  if (groups !== undefined) {
    total(
      'group_snapshots_written_total',
      'Consumer-group position snapshots written to the object store.',
      () => groups.written,
    );
    total(
      'group_snapshot_failures_total',
      'Failed consumer-group snapshots (listing, reading offsets or writing; each counts).',
      () => groups.failures,
    );
    gauge(
      'group_snapshot_last_written_timestamp_seconds',
      'When the last consumer-group snapshot was written (0 = none yet by this process).',
      () => groups.lastWrittenAtMs / 1000,
    );
  }

  // ---- disk monitor --------------------------------------------------------------------------
  const monitorCounters = deps.monitor?.counters;
  if (monitorCounters !== undefined) {
    const c = monitorCounters;
    total(
      'disk_monitor_samples_total',
      'Rounds of the disk monitor over every volume.',
      () => c.samples,
    );
    total(
      'disk_flood_entries_total',
      'Times a volume entered its flood watermark.',
      () => c.floods,
    );
    total(
      'reserve_releases_total',
      'Reserve blocks released (the escape hatch).',
      () => c.releases,
    );
    total('reserve_rearms_total', 'Reserve blocks re-armed after space returned.', () => c.rearms);
  }

  // ---- catalog -------------------------------------------------------------------------------
  gauge('catalog_writer', '1 when this process holds (writes) the catalog.', () =>
    deps.catalog === null ? 0 : 1,
  );
  const catalog = deps.catalog;
  if (catalog !== null) {
    const summary = memo(() => catalog.summary());
    gauge('catalog_segments', 'Segments in the catalog.', () => summary().segments);
    gauge(
      'catalog_records',
      'Records in catalogued segments (overlaps counted twice).',
      () => summary().records,
    );
    gauge('catalog_bytes', 'Bytes of catalogued segments.', () => summary().bytes);
    new Gauge({
      name: `${p}catalog_tier_bytes`,
      help: 'Bytes of catalogued segments with a copy on the tier (a segment can be on both).',
      labelNames: ['tier'],
      registers,
      collect() {
        const s = summary();
        this.set({ tier: 'hot' }, s.hot);
        this.set({ tier: 'cold' }, s.cold);
      },
    });
  }

  // ---- disk volumes --------------------------------------------------------------------------
  const volume = (name: string, help: string, value: (s: VolumeSample) => number) =>
    new Gauge({
      name: p + name,
      help,
      labelNames: ['volume', 'kind'],
      registers,
      async collect() {
        const samples = await deps.volumes.samples();
        this.reset();
        for (const s of samples) this.set({ volume: s.name, kind: s.kind }, value(s));
      },
    });
  volume(
    'volume_size_bytes',
    'Size of the filesystem holding the volume.',
    (s) => s.filesystem.sizeBytes,
  );
  volume(
    'volume_free_bytes',
    'Free bytes of the filesystem (including root-reserved blocks).',
    (s) => s.filesystem.freeBytes,
  );
  volume(
    'volume_available_bytes',
    'Bytes an unprivileged writer may still allocate (df Avail).',
    (s) => s.filesystem.availableBytes,
  );
  volume(
    'volume_allocated_bytes',
    'Bytes allocated under the volume path (du; reserves excluded).',
    (s) => s.usage.allocatedBytes,
  );
  volume(
    'volume_apparent_bytes',
    'Apparent size of the files under the volume path (du --apparent-size).',
    (s) => s.usage.apparentBytes,
  );
  volume('volume_budget_bytes', "The volume's budget in bytes.", (s) => s.budgetBytes);
  volume(
    'volume_budget_used_ratio',
    'Allocated bytes / budget (0-1, above 1 when over budget).',
    (s) => s.budgetUsedPercent / 100,
  );
  volume(
    'volume_used_ratio',
    'The fullness the watermarks compare: max(filesystem use, budget use), 0-1.',
    (s) => s.usedPercent / 100,
  );
  volume(
    'volume_watermark_state',
    'Watermark state: 0 ok, 1 low, 2 high, 3 flood.',
    (s) => WATERMARK_LEVEL[s.state],
  );
  volume(
    'volume_reserves_armed',
    'Reserve files armed (allocated for real).',
    (s) => s.reserve.armed,
  );
  volume('volume_reserves_total', 'Reserve files configured.', (s) => s.reserve.count);
  new Counter({
    name: `${p}volume_sample_failures_total`,
    help: 'Failed volume measurements (see the service log).',
    registers,
    async collect() {
      await deps.volumes.samples(); // this scrape's round first
      this.reset();
      this.inc(deps.volumes.failures);
    },
  });

  // ---- the last scheduled disk report: growth, forecasts, unclean-restart headroom -----------
  const fromReport = (
    name: string,
    help: string,
    values: (r: DiskReport) => Array<[Record<string, string>, number | null]>,
    labelNames: string[] = ['volume'],
  ) =>
    new Gauge({
      name: p + name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        const r = deps.reports?.lastReport;
        if (r === null || r === undefined) return;
        for (const [labels, v] of values(r))
          if (v !== null && Number.isFinite(v)) this.set(labels, v);
      },
    });
  fromReport(
    'volume_growth_bytes_per_day',
    'Growth of allocated bytes per day (last report).',
    (r) => r.volumes.map((v) => [{ volume: v.sample.name }, v.forecast.allocatedBytesPerDay]),
  );
  fromReport(
    'volume_days_to_high',
    'Days until the high watermark at the current growth (last report).',
    (r) => r.volumes.map((v) => [{ volume: v.sample.name }, v.forecast.daysToHigh]),
  );
  fromReport(
    'volume_days_to_flood',
    'Days until the flood watermark at the current growth (last report).',
    (r) => r.volumes.map((v) => [{ volume: v.sample.name }, v.forecast.daysToFlood]),
  );
  const headroom = (
    r: DiskReport,
    f: (h: NonNullable<DiskReport['volumes'][number]['headroom']>) => number,
  ) =>
    r.volumes.flatMap((v): Array<[Record<string, string>, number]> =>
      v.headroom === null ? [] : [[{ volume: v.sample.name }, f(v.headroom)]],
    );
  fromReport(
    'logdir_unclean_restart_needed_bytes',
    'Extra bytes Kafka recovery would need after an unclean restart now (upper bound).',
    (r) => headroom(r, (h) => h.unclean.verdict.neededBytes),
  );
  fromReport(
    'logdir_unclean_restart_has_bytes',
    'Bytes recovery could use: available plus releasable reserves.',
    (r) => headroom(r, (h) => h.unclean.verdict.hasBytes),
  );
  fromReport(
    'logdir_survives_unclean_restart',
    '1 yes, 0.5 only by releasing reserves, 0 no (last report).',
    (r) =>
      headroom(r, (h) =>
        h.unclean.verdict.verdict === 'yes' ? 1 : h.unclean.verdict.verdict === 'no' ? 0 : 0.5,
      ),
  );
  fromReport(
    'logdir_full_rebuild_needed_bytes',
    'Extra bytes a rebuild of every index would need (upper bound).',
    (r) => headroom(r, (h) => h.fullRebuild.verdict.neededBytes),
  );

  // ---- the disk fleet: every broker's log.dirs, from the agents' topic ------------------------
  const fromFleet = (
    name: string,
    help: string,
    value: (e: FleetReport['entries'][number]) => number | null,
  ) =>
    new Gauge({
      name: p + name,
      help,
      labelNames: ['broker', 'log_dir'],
      registers,
      collect() {
        this.reset();
        const r = deps.fleet?.report();
        if (r === null || r === undefined) return;
        for (const e of r.entries) {
          const v = value(e);
          if (v !== null && Number.isFinite(v))
            this.set({ broker: String(e.brokerId), log_dir: e.logDir }, v);
        }
      },
    });
  if (deps.fleet != null) {
    fromFleet('disk_fleet_used_ratio', 'Used share of the log.dir filesystem, 0-1.', (e) =>
      e.usedPercent === null ? null : e.usedPercent / 100,
    );
    fromFleet(
      'disk_fleet_days_to_flood',
      'Days until the flood watermark at the growth seen in the fleet topic.',
      (e) => e.daysToFlood,
    );
    fromFleet(
      'disk_fleet_survives_unclean_restart',
      '1 when the log.dir would survive an unclean restart now (reserves released), else 0.',
      (e) => (e.survivesUncleanRestart === null ? null : e.survivesUncleanRestart ? 1 : 0),
    );
    fromFleet(
      'disk_fleet_reserves_armed',
      'Reserve blocks armed on the log.dir (agents only).',
      (e) => e.reserves?.armed ?? null,
    );
    fromFleet(
      'disk_fleet_reserves_total',
      'Reserve blocks configured on the log.dir (agents only).',
      (e) => e.reserves?.total ?? null,
    );
    fromFleet(
      'disk_fleet_agent_stale',
      "1 when the log.dir's agent has not published for disk.fleet.staleAfterMs.",
      (e) => (e.source === 'agent' ? (e.stale ? 1 : 0) : null),
    );
    fromFleet(
      'disk_fleet_last_seen_seconds',
      "Seconds since the log.dir's agent last published.",
      (e) => (e.lastSeen === null ? null : Math.max(0, (Date.now() - e.lastSeen) / 1000)),
    );
    fromFleet(
      'disk_fleet_estimate',
      '1 when the row is a DescribeLogDirs estimate (no agent on that broker).',
      (e) => (e.estimate ? 1 : 0),
    );
  }

  // ---- HTTP ----------------------------------------------------------------------------------
  const requests = new Counter({
    name: `${p}http_requests_total`,
    help: 'HTTP requests answered, by route and status code.',
    labelNames: ['route', 'status'],
    registers,
  });

  return {
    registry,
    request(route, status) {
      requests.inc({ route, status: String(status) });
    },
  };
}
