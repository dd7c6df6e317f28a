/**
 * The engine of `kafka-archive disk agent`: on a broker host, samples the broker's log.dirs,
 * keeps their reserve blocks exactly as the service's disk monitor does for its own volumes
 * (DiskMonitor: one block released on each entry into flood, re-armed once below low), and
 * publishes one FleetRecord per log.dir: every `intervalMs`, and at once when a log.dir's
 * watermark state or its count of armed reserves changes. No archiver, catalog or object store:
 * the caller gives `publish` (a Kafka producer in the service layer).
 *
 *   every sampleIntervalMs:  DiskMonitor.tick()  (sample, release / re-arm)
 *                            state or reserves changed, or intervalMs passed?
 *                              -> scan the log.dirs (headroom), publish one record per log.dir
 */
import { describeError } from '../../errors.js';
import type { Logger } from '../../log/index.js';
import { measureFilesystem } from '../fs-stats.js';
import { leastSquares } from '../history.js';
import { DiskMonitor } from '../monitor.js';
import { assessLogDirHeadroom } from '../report/logdir-state.js';
import { reserveStatus } from '../reserve.js';
import type { VolumeSample, VolumeSpec, WatermarkState } from '../volume.js';
import { FLEET_RECORD_VERSION, fleetKey, type FleetRecord } from './record.js';
import { FleetState } from './state.js';

const DAY_MS = 86_400_000;

export interface FleetAgentDeps {
  /** The broker's log.dirs (volumes of kind kafka-log-dir). */
  volumes: VolumeSpec[];
  brokerId: number;
  host: string;
  /** Publish at least this often (disk.fleet.intervalMs). */
  intervalMs: number;
  /** Sample watermarks this often (disk.monitor.intervalMs, at most intervalMs). */
  sampleIntervalMs: number;
  publish(records: FleetRecord[]): Promise<void>;
  log: Logger;
  /** The broker's server.properties (index settings, recovery threads), when known. */
  serverProperties?: Map<string, string>;
  kafkaVersion?: string;
  /** What the topic already holds (this agent's earlier records: growth across restarts). */
  history?: FleetState;
  /** Growth window over the records (default 7 days). */
  growthWindowMs?: number;
  now?: () => number;
}

export interface FleetAgentStats {
  scans: number;
  publishes: number;
  publishFailures: number;
  /** CPU (user + system) and wall time of the last scan, ms. */
  lastScanCpuMs: number;
  lastScanMs: number;
}

/** Nothing to relieve or pause on a broker host: the monitor only keeps the reserves. */
const NO_ACTIONS = {
  relieveHot: () => Promise.resolve(0),
  pauseIngest: () => undefined,
  resumeIngest: () => undefined,
};

export class FleetAgent {
  private readonly monitor: DiskMonitor;
  private readonly history: FleetState;
  private readonly published = new Map<string, { state: WatermarkState; armed: number }>();
  private lastPublishAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  readonly stats: FleetAgentStats = {
    scans: 0,
    publishes: 0,
    publishFailures: 0,
    lastScanCpuMs: 0,
    lastScanMs: 0,
  };

  constructor(private readonly deps: FleetAgentDeps) {
    this.monitor = new DiskMonitor({
      volumes: deps.volumes,
      actions: NO_ACTIONS,
      log: deps.log,
      intervalMs: deps.sampleIntervalMs,
    });
    this.history = deps.history ?? new FleetState();
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** One sample of every log.dir (with reserve actions); publishes when due or changed. */
  async step(force = false): Promise<FleetRecord[] | null> {
    const samples = await this.monitor.tick();
    const armed = await Promise.all(this.deps.volumes.map((v) => reserveStatus(v.reserve)));
    const changed = samples.some((s, i) => {
      const p = this.published.get(s.path);
      return p === undefined || p.state !== s.state || p.armed !== armed[i]?.armed;
    });
    const due = this.now() - this.lastPublishAt >= this.deps.intervalMs;
    if (!force && !changed && !due) return null;
    const records = await this.records(samples);
    await this.deps.publish(records);
    this.stats.publishes++;
    this.lastPublishAt = this.now();
    for (const r of records) {
      this.history.add(r);
      this.published.set(r.logDir, { state: r.state, armed: r.reserves.armed });
    }
    this.deps.log.info(
      {
        brokerId: this.deps.brokerId,
        logDirs: records.map((r) => `${r.logDir} ${r.state} ${r.usedPercent}%`),
        changed,
        scanMs: Math.round(this.stats.lastScanMs * 10) / 10,
        scanCpuMs: Math.round(this.stats.lastScanCpuMs * 10) / 10,
        rssBytes: process.memoryUsage.rss(),
      },
      'disk agent published',
    );
    return records;
  }

  /** The records of the samples: headroom from a scan of each log.dir, reserves after acting. */
  async records(samples: VolumeSample[]): Promise<FleetRecord[]> {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const out: FleetRecord[] = [];
    for (const [i, s] of samples.entries()) {
      const spec = this.deps.volumes[i] as VolumeSpec;
      // After the monitor acted (a reserve released or re-armed): the filesystem as it is now.
      const reserves = await reserveStatus(spec.reserve);
      const fs = await measureFilesystem(s.path);
      const usedPercent = Math.max(fs.usedPercent, s.budgetUsedPercent);
      const { state, headroom } = await assessLogDirHeadroom(s.path, {
        ...(this.deps.serverProperties !== undefined
          ? { serverProperties: this.deps.serverProperties }
          : {}),
        ...(this.deps.kafkaVersion !== undefined ? { kafkaVersion: this.deps.kafkaVersion } : {}),
        // No probe file on a volume that may be full: judge by the index files seen.
        probeSparse: false,
        availableBytes: fs.availableBytes,
        reserveBytes: reserves.armedBytes,
        partitionsShown: 0,
      });
      const t = state.scan.totals;
      const at = this.now();
      const v = headroom.unclean.verdict;
      out.push({
        v: FLEET_RECORD_VERSION,
        brokerId: this.deps.brokerId,
        logDir: s.path,
        host: this.deps.host,
        at,
        intervalMs: this.deps.intervalMs,
        sizeBytes: fs.sizeBytes,
        usedBytes: fs.usedBytes,
        availableBytes: fs.availableBytes,
        usedPercent: Math.round(usedPercent * 100) / 100,
        state: s.state,
        reserves: { armed: reserves.armed, total: spec.reserve.count, bytes: reserves.armedBytes },
        logBytes: t.log.apparentBytes,
        indexBytes: t.index.allocatedBytes + t.timeindex.allocatedBytes,
        partitions: t.partitions,
        headroom: { survives: v.verdict !== 'no', needsBytes: v.neededBytes, hasBytes: v.hasBytes },
        growthBytesPerDay: this.growth(s.path, at, fs.usedBytes),
      });
    }
    const cpu = process.cpuUsage(cpu0);
    this.stats.scans++;
    this.stats.lastScanCpuMs = (cpu.user + cpu.system) / 1000;
    this.stats.lastScanMs = performance.now() - t0;
    return out;
  }

  /** Used bytes per day over this log.dir's earlier records and now; null with none before. */
  private growth(logDir: string, at: number, usedBytes: number): number | null {
    const window = this.deps.growthWindowMs ?? 7 * DAY_MS;
    const earlier = (this.history.series()[fleetKey(this.deps.brokerId, logDir)] ?? [])
      .filter(([t]) => t >= at - window && t < at)
      .map(([t, used]) => [t, used] as const);
    const fit = leastSquares([...earlier, [at, usedBytes] as const]);
    return fit === null ? null : Math.round(fit.slope * DAY_MS);
  }

  /** Run until stop(): a step every sampleIntervalMs (never two at once). */
  start(): void {
    if (this.timer !== null) return;
    const run = () => {
      if (this.running !== null) return;
      this.running = this.step()
        .then(() => undefined)
        .catch((err: unknown) => {
          this.stats.publishFailures++;
          this.deps.log.warn({ err: describeError(err) }, 'disk agent: sample or publish failed');
        })
        .finally(() => (this.running = null));
    };
    run();
    this.timer = setInterval(run, Math.min(this.deps.sampleIntervalMs, this.deps.intervalMs));
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
