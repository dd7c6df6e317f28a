import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogDirScan } from './kafka-logdir.js';
import type { VolumeKind, VolumeSample } from './volume.js';

/**
 * Disk usage history: one sample per report run — per volume its allocated bytes and the
 * filesystem's used / available bytes, per Kafka partition its allocated, log and index bytes —
 * kept as JSON lines in `<disk.historyDir>/samples.jsonl`, trimmed to `disk.historyMaxAgeMs`.
 * From it: growth rates (least-squares slope over a window) and days until the high and flood
 * watermarks are reached at that rate.
 */

export const HISTORY_FILE = 'samples.jsonl';
const DAY_MS = 86_400_000;

export interface VolumePoint {
  path: string;
  kind: VolumeKind;
  /** Bytes allocated under the volume directory (reserves excluded). */
  allocated: number;
  apparent: number;
  /** Filesystem used / available (df "Avail") / size. */
  fsUsed: number;
  fsAvailable: number;
  fsSize: number;
  budget: number;
  usedPercent: number;
}

/** [allocated bytes, .log bytes, .index + .timeindex allocated bytes, segments] */
export type PartitionPoint = [number, number, number, number];

export interface HistorySample {
  v: 1;
  /** ISO 8601 time of the sample. */
  t: string;
  volumes: Record<string, VolumePoint>;
  /** log.dir path → "topic-partition" → point. */
  logDirs: Record<string, Record<string, PartitionPoint>>;
}

export function makeHistorySample(
  volumes: VolumeSample[],
  scans: LogDirScan[],
  now: Date = new Date(),
): HistorySample {
  const sample: HistorySample = { v: 1, t: now.toISOString(), volumes: {}, logDirs: {} };
  for (const v of volumes) {
    sample.volumes[v.name] = {
      path: v.path,
      kind: v.kind,
      allocated: v.usage.allocatedBytes,
      apparent: v.usage.apparentBytes,
      fsUsed: v.filesystem.usedBytes,
      fsAvailable: v.filesystem.availableBytes,
      fsSize: v.filesystem.sizeBytes,
      budget: v.budgetBytes,
      usedPercent: Math.round(v.usedPercent * 1000) / 1000,
    };
  }
  for (const s of scans) {
    const parts: Record<string, PartitionPoint> = {};
    for (const p of s.partitions) {
      if (p.state !== 'live') continue;
      parts[`${p.topic}-${p.partition}`] = [
        p.allocatedBytes,
        p.log.apparentBytes,
        p.index.allocatedBytes + p.timeindex.allocatedBytes,
        p.segments,
      ];
    }
    sample.logDirs[s.path] = parts;
  }
  return sample;
}

function isSample(x: unknown): x is HistorySample {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return (
    o.v === 1 &&
    typeof o.t === 'string' &&
    Number.isFinite(Date.parse(o.t)) &&
    typeof o.volumes === 'object' &&
    o.volumes !== null &&
    typeof o.logDirs === 'object' &&
    o.logDirs !== null
  );
}

/** Samples of a history file, oldest first; lines that do not parse (a torn last line) are counted. */
export function parseHistory(text: string): { samples: HistorySample[]; malformed: number } {
  const samples: HistorySample[] = [];
  let malformed = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (isSample(parsed)) samples.push(parsed);
      else malformed++;
    } catch {
      malformed++;
    }
  }
  samples.sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
  return { samples, malformed };
}

/** The samples not older than maxAgeMs at `now`. */
export function trimHistory(
  samples: HistorySample[],
  now: Date,
  maxAgeMs: number,
): HistorySample[] {
  const cutoff = now.getTime() - maxAgeMs;
  return samples.filter((s) => Date.parse(s.t) >= cutoff);
}

/** The append-only store. One writer at a time (the service's scheduler or one CLI run). */
export class DiskHistory {
  readonly file: string;

  constructor(
    readonly dir: string,
    readonly maxAgeMs: number,
  ) {
    this.file = join(dir, HISTORY_FILE);
  }

  /**
   * The samples within maxAgeMs, oldest first. When older samples or unreadable lines were found
   * the file is rewritten without them (through a temporary file and a rename).
   */
  async load(
    now: Date = new Date(),
  ): Promise<{ samples: HistorySample[]; malformed: number; trimmed: number }> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { samples: [], malformed: 0, trimmed: 0 };
      throw err;
    }
    const { samples: all, malformed } = parseHistory(text);
    const samples = trimHistory(all, now, this.maxAgeMs);
    const trimmed = all.length - samples.length;
    if (trimmed > 0 || malformed > 0) {
      const tmp = `${this.file}.tmp-${process.pid}`;
      await writeFile(tmp, samples.map((s) => `${JSON.stringify(s)}\n`).join(''));
      await rename(tmp, this.file);
    }
    return { samples, malformed, trimmed };
  }

  async append(sample: HistorySample): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await appendFile(this.file, `${JSON.stringify(sample)}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// Growth

export interface LinearFit {
  /** Units of y per millisecond. */
  slope: number;
  intercept: number;
  n: number;
  spanMs: number;
}

/** Ordinary least squares of y over t (ms). Null with fewer than 2 points or no time span. */
export function leastSquares(points: ReadonlyArray<readonly [number, number]>): LinearFit | null {
  const n = points.length;
  if (n < 2) return null;
  // Centre t on its first value: epoch milliseconds squared lose precision in doubles.
  const t0 = (points[0] as readonly [number, number])[0];
  let st = 0;
  let sy = 0;
  let tMin = Infinity;
  let tMax = -Infinity;
  for (const [t, y] of points) {
    st += t - t0;
    sy += y;
    tMin = Math.min(tMin, t);
    tMax = Math.max(tMax, t);
  }
  const mt = st / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const [t, y] of points) {
    const dt = t - t0 - mt;
    sxx += dt * dt;
    sxy += dt * (y - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * (mt + t0), n, spanMs: tMax - tMin };
}

/**
 * Days until `remaining` bytes are used at `perDay`: 0 when already there, null when the
 * usage does not grow (or the rate is unknown).
 */
export function daysUntil(remaining: number, perDay: number | null): number | null {
  if (remaining <= 0) return 0;
  if (perDay === null || !(perDay > 0)) return null;
  return remaining / perDay;
}

export interface ForecastOptions {
  /** Only samples this recent take part in the fit. */
  windowMs: number;
  now?: Date;
}

export interface VolumeSeriesPoint {
  t: number;
  usedPercent: number;
  allocated: number;
  fsUsed: number;
}

export interface VolumeForecast {
  name: string;
  /** Points in the window (history plus the current sample), oldest first. */
  series: VolumeSeriesPoint[];
  spanMs: number;
  /** Growth of the volume directory's allocated bytes and of the filesystem's used bytes. */
  allocatedBytesPerDay: number | null;
  fsUsedBytesPerDay: number | null;
  /** Days until the watermark is reached at the current rates (0: already; null: not growing). */
  daysToHigh: number | null;
  daysToFlood: number | null;
  /** Projected usedPercent from now, for charts: [days ahead, percent]. */
  projection: Array<[number, number]>;
}

function usedPercentAt(
  current: VolumeSample,
  fsDelta: number,
  allocDelta: number,
): { fs: number; budget: number } {
  const fs = current.filesystem;
  const usable = fs.usedBytes + fs.availableBytes;
  return {
    fs: usable > 0 ? ((fs.usedBytes + fsDelta) / usable) * 100 : 100,
    budget:
      current.budgetBytes > 0
        ? ((current.usage.allocatedBytes + allocDelta) / current.budgetBytes) * 100
        : 100,
  };
}

/** Days until `percent` of the volume is used, as the watermarks see it (the worse of fs and budget). */
export function daysToPercent(
  current: VolumeSample,
  percent: number,
  fsUsedPerDay: number | null,
  allocatedPerDay: number | null,
): number | null {
  const fs = current.filesystem;
  const usable = fs.usedBytes + fs.availableBytes;
  const byFs = daysUntil((percent / 100) * usable - fs.usedBytes, fsUsedPerDay);
  const byBudget = daysUntil(
    (percent / 100) * current.budgetBytes - current.usage.allocatedBytes,
    allocatedPerDay,
  );
  if (byFs === null) return byBudget;
  if (byBudget === null) return byFs;
  return Math.min(byFs, byBudget);
}

export function forecastVolume(
  samples: HistorySample[],
  current: VolumeSample,
  options: ForecastOptions,
): VolumeForecast {
  const now = (options.now ?? new Date()).getTime();
  const from = now - options.windowMs;
  const series: VolumeSeriesPoint[] = [];
  for (const s of samples) {
    const t = Date.parse(s.t);
    const p = s.volumes[current.name];
    if (p === undefined || p.path !== current.path || t < from || t > now) continue;
    series.push({ t, usedPercent: p.usedPercent, allocated: p.allocated, fsUsed: p.fsUsed });
  }
  const last = series[series.length - 1];
  if (last === undefined || last.t < now)
    series.push({
      t: now,
      usedPercent: current.usedPercent,
      allocated: current.usage.allocatedBytes,
      fsUsed: current.filesystem.usedBytes,
    });
  const allocFit = leastSquares(series.map((p) => [p.t, p.allocated] as const));
  const fsFit = leastSquares(series.map((p) => [p.t, p.fsUsed] as const));
  const allocatedBytesPerDay = allocFit === null ? null : allocFit.slope * DAY_MS;
  const fsUsedBytesPerDay = fsFit === null ? null : fsFit.slope * DAY_MS;
  const horizonDays = Math.max(1, options.windowMs / DAY_MS);
  const projection: Array<[number, number]> = [];
  for (let i = 0; i <= 24; i++) {
    const d = (horizonDays * i) / 24;
    const u = usedPercentAt(current, (fsUsedBytesPerDay ?? 0) * d, (allocatedBytesPerDay ?? 0) * d);
    projection.push([d, Math.max(0, Math.max(u.fs, u.budget))]);
  }
  const first = series[0] as VolumeSeriesPoint;
  return {
    name: current.name,
    series,
    spanMs: now - first.t,
    allocatedBytesPerDay,
    fsUsedBytesPerDay,
    daysToHigh: daysToPercent(
      current,
      current.watermarks.high,
      fsUsedBytesPerDay,
      allocatedBytesPerDay,
    ),
    daysToFlood: daysToPercent(
      current,
      current.watermarks.flood,
      fsUsedBytesPerDay,
      allocatedBytesPerDay,
    ),
    projection,
  };
}

export interface PartitionGrowth {
  logDir: string;
  topic: string;
  partition: number;
  /** Growth of allocated bytes, least-squares over the window. */
  bytesPerDay: number;
  /** Growth of the .index + .timeindex allocated bytes. */
  indexBytesPerDay: number;
  allocatedBytes: number;
  logBytes: number;
  indexBytes: number;
  segments: number;
  samples: number;
  spanMs: number;
}

/**
 * Growth per partition over the window, fastest first. Partitions with fewer than two samples
 * in the window are left out.
 */
export function partitionGrowth(
  samples: HistorySample[],
  options: ForecastOptions,
): PartitionGrowth[] {
  const now = (options.now ?? new Date()).getTime();
  const from = now - options.windowMs;
  const series = new Map<
    string,
    { logDir: string; tp: string; points: Array<[number, PartitionPoint]> }
  >();
  for (const s of samples) {
    const t = Date.parse(s.t);
    if (t < from || t > now) continue;
    for (const [logDir, parts] of Object.entries(s.logDirs)) {
      for (const [tp, point] of Object.entries(parts)) {
        const key = `${logDir}\u0000${tp}`;
        let entry = series.get(key);
        if (entry === undefined) {
          entry = { logDir, tp, points: [] };
          series.set(key, entry);
        }
        entry.points.push([t, point]);
      }
    }
  }
  const out: PartitionGrowth[] = [];
  for (const { logDir, tp, points } of series.values()) {
    const fit = leastSquares(points.map(([t, p]) => [t, p[0]] as const));
    const indexFit = leastSquares(points.map(([t, p]) => [t, p[2]] as const));
    if (fit === null) continue;
    const dash = tp.lastIndexOf('-');
    const lastPoint = (points[points.length - 1] as [number, PartitionPoint])[1];
    out.push({
      logDir,
      topic: tp.slice(0, dash),
      partition: Number(tp.slice(dash + 1)),
      bytesPerDay: fit.slope * DAY_MS,
      indexBytesPerDay: indexFit === null ? 0 : indexFit.slope * DAY_MS,
      allocatedBytes: lastPoint[0],
      logBytes: lastPoint[1],
      indexBytes: lastPoint[2],
      segments: lastPoint[3],
      samples: points.length,
      spanMs: fit.spanMs,
    });
  }
  return out.sort((a, b) => b.bytesPerDay - a.bytesPerDay || a.topic.localeCompare(b.topic));
}
