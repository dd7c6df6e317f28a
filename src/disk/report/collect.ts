import { resolve } from 'node:path';
import type { Config } from '../../config/index.js';
import { formatBytes } from '../../config/units.js';
import type { TopicIndexOverrides } from '../headroom.js';
import {
  DiskHistory,
  forecastVolume,
  makeHistorySample,
  partitionGrowth,
  type PartitionGrowth,
  type VolumeForecast,
} from '../history.js';
import { readServerProperties, type FileKindBytes, type LogDirScan } from '../kafka-logdir.js';
import { resolveVolumes, sampleVolume, type VolumeSample } from '../volume.js';
import { headroomFromState, readLogDirState, type LogDirHeadroom } from './logdir-state.js';

/**
 * The disk report: every volume now (usage, watermark state, reserves), its history and
 * forecast (growth per day, days until high / flood), for Kafka log.dirs the unclean-restart
 * headroom, the partitions growing fastest, and index vs log bytes. Collecting it records one
 * history sample (unless told not to).
 */

export const DEFAULT_REPORT_WINDOW_MS = 7 * 86_400_000;

export interface DiskReportOptions {
  /** A broker's server.properties: its log.dirs become volumes, its index settings feed the model. */
  serverProperties?: string;
  /** More Kafka log.dirs. */
  logDirs?: string[];
  /** History window for growth rates (default 7 days). */
  windowMs?: number;
  /** Partitions listed by growth (default 10). */
  top?: number;
  /** Append this run's sample to the history (default true). */
  record?: boolean;
  /** Probe sparse-file support in each log.dir (default true). */
  probeSparse?: boolean;
  /** Broker version, for the default number of recovery threads. */
  kafkaVersion?: string;
  /** Per-topic index overrides (segment.index.bytes, index.interval.bytes). */
  topics?: ReadonlyMap<string, TopicIndexOverrides>;
  now?: Date;
}

export interface VolumeReport {
  sample: VolumeSample;
  forecast: VolumeForecast;
  /** Kafka log.dirs only. */
  headroom: LogDirHeadroom | null;
  /** Why there is no headroom estimate for a Kafka log.dir (unreadable, missing). */
  headroomError: string | null;
}

export interface TopIndexPartition {
  topic: string;
  partition: number;
  segments: number;
  logBytes: number;
  indexApparentBytes: number;
  indexAllocatedBytes: number;
}

export interface IndexVsLog {
  volume: string;
  logDir: string;
  partitions: number;
  segments: number;
  log: FileKindBytes;
  /** .index + .timeindex */
  indexes: FileKindBytes;
  txnindex: FileKindBytes;
  other: FileKindBytes;
  /** Partitions with the most allocated index bytes. */
  topPartitions: TopIndexPartition[];
}

export interface DiskReport {
  generatedAt: string;
  windowMs: number;
  history: {
    dir: string;
    file: string;
    /** Samples in the window, this run's included. */
    samplesInWindow: number;
    /** Oldest sample kept. */
    since: string | null;
    recorded: boolean;
    malformedLines: number;
    trimmedSamples: number;
  };
  volumes: VolumeReport[];
  topPartitions: PartitionGrowth[];
  indexVsLog: IndexVsLog[];
}

const addKinds = (a: FileKindBytes, b: FileKindBytes): FileKindBytes => ({
  files: a.files + b.files,
  apparentBytes: a.apparentBytes + b.apparentBytes,
  allocatedBytes: a.allocatedBytes + b.allocatedBytes,
});

function indexVsLog(volume: string, scan: LogDirScan, top: number): IndexVsLog {
  const t = scan.totals;
  return {
    volume,
    logDir: scan.path,
    partitions: t.partitions,
    segments: t.segments,
    log: t.log,
    indexes: addKinds(t.index, t.timeindex),
    txnindex: t.txnindex,
    other: t.other,
    topPartitions: scan.partitions
      .map((p) => ({
        topic: p.topic,
        partition: p.partition,
        segments: p.segments,
        logBytes: p.log.apparentBytes,
        indexApparentBytes: p.index.apparentBytes + p.timeindex.apparentBytes,
        indexAllocatedBytes: p.index.allocatedBytes + p.timeindex.allocatedBytes,
      }))
      .sort((a, b) => b.indexAllocatedBytes - a.indexAllocatedBytes || b.logBytes - a.logBytes)
      .slice(0, top),
  };
}

export async function collectDiskReport(
  config: Config,
  options: DiskReportOptions = {},
): Promise<DiskReport> {
  const now = options.now ?? new Date();
  const windowMs = options.windowMs ?? DEFAULT_REPORT_WINDOW_MS;
  const top = options.top ?? 10;
  const specs = await resolveVolumes(config, {
    ...(options.serverProperties !== undefined
      ? { serverProperties: options.serverProperties }
      : {}),
    ...(options.logDirs !== undefined ? { logDirs: options.logDirs } : {}),
  });
  const propsFile = options.serverProperties ?? config.disk.kafka.serverProperties;
  const serverProperties =
    propsFile === undefined ? undefined : (await readServerProperties(propsFile)).properties;

  const samples: VolumeSample[] = [];
  for (const spec of specs) samples.push(await sampleVolume(spec));

  const scans: LogDirScan[] = [];
  const headrooms = new Map<string, { headroom: LogDirHeadroom | null; error: string | null }>();
  for (const s of samples) {
    if (s.kind !== 'kafka-log-dir') continue;
    try {
      const state = await readLogDirState(s.path, {
        ...(options.probeSparse !== undefined ? { probeSparse: options.probeSparse } : {}),
      });
      scans.push(state.scan);
      headrooms.set(s.name, {
        headroom: headroomFromState(state, {
          ...(serverProperties !== undefined ? { serverProperties } : {}),
          ...(options.kafkaVersion !== undefined ? { kafkaVersion: options.kafkaVersion } : {}),
          ...(options.topics !== undefined ? { topics: options.topics } : {}),
          availableBytes: s.filesystem.availableBytes,
          reserveBytes: s.reserve.armedBytes,
        }),
        error: null,
      });
    } catch (err) {
      headrooms.set(s.name, { headroom: null, error: (err as Error).message });
    }
  }

  const history = new DiskHistory(resolve(config.disk.historyDir), config.disk.historyMaxAgeMs);
  const loaded = await history.load(now);
  const current = makeHistorySample(samples, scans, now);
  const record = options.record !== false;
  if (record) await history.append(current);
  const all = [...loaded.samples, current];
  const from = now.getTime() - windowMs;

  return {
    generatedAt: now.toISOString(),
    windowMs,
    history: {
      dir: history.dir,
      file: history.file,
      samplesInWindow: all.filter((s) => Date.parse(s.t) >= from).length,
      since: all[0]?.t ?? null,
      recorded: record,
      malformedLines: loaded.malformed,
      trimmedSamples: loaded.trimmed,
    },
    volumes: samples.map((sample) => ({
      sample,
      forecast: forecastVolume(all, sample, { windowMs, now }),
      headroom: headrooms.get(sample.name)?.headroom ?? null,
      headroomError: headrooms.get(sample.name)?.error ?? null,
    })),
    topPartitions: partitionGrowth(all, { windowMs, now }).slice(0, top),
    indexVsLog: scans.map((scan) =>
      indexVsLog(samples.find((s) => s.path === scan.path)?.name ?? scan.path, scan, top),
    ),
  };
}

const days = (d: number | null): string =>
  d === null
    ? 'not growing'
    : d === 0
      ? 'now'
      : d < 1
        ? `${(d * 24).toFixed(1)} h`
        : `${d.toFixed(1)} d`;

/** Days until a watermark as text: "n/a" while the history has a single sample. */
export function forecastDays(f: VolumeForecast, d: number | null): string {
  if (d === null && f.allocatedBytesPerDay === null && f.fsUsedBytesPerDay === null)
    return 'n/a (1 sample)';
  return days(d);
}

/** One line for the log: the state of every volume, the headroom verdicts, the fastest partition. */
export function summarizeDiskReport(report: DiskReport): string {
  const parts = report.volumes.map((v) => {
    const s = v.sample;
    let text = `${s.name} ${s.usedPercent.toFixed(1)}% ${s.state}, flood in ${forecastDays(v.forecast, v.forecast.daysToFlood)}`;
    if (v.headroom !== null) {
      const h = v.headroom.unclean.verdict;
      text += `, unclean restart: ${h.verdict} (needs ${formatBytes(h.neededBytes)}, has ${formatBytes(h.hasBytes)})`;
    } else if (v.headroomError !== null) {
      text += `, unclean restart: unknown (${v.headroomError})`;
    }
    return text;
  });
  const fastest = report.topPartitions[0];
  if (fastest !== undefined && fastest.bytesPerDay > 0)
    parts.push(
      `fastest partition ${fastest.topic}-${fastest.partition} +${formatBytes(Math.round(fastest.bytesPerDay))}/day`,
    );
  return `disk report: ${parts.join('; ')}`;
}

export { days as formatDays };
