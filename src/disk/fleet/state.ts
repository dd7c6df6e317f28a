/**
 * The fleet as the compacted topic tells it: the latest record per key (broker|log.dir), the
 * samples seen per key (growth from successive records), staleness, and the report's rows
 * (agent rows, then DescribeLogDirs estimates for brokers without an agent).
 */
import { daysUntil, leastSquares } from '../history.js';
import { classifyWatermark, type Watermarks } from '../volume.js';
import { decodeFleetRecord, fleetKey, type FleetRecord } from './record.js';
import type { FleetEntry, FleetEstimate, FleetPoint } from './types.js';

const DAY_MS = 86_400_000;
/** Samples kept per key (the topic is compacted: older ones may be gone anyway). */
const MAX_SAMPLES = 2_000;

export class FleetState {
  private readonly latestByKey = new Map<string, FleetRecord>();
  private readonly samples = new Map<string, FleetPoint[]>();
  /** Values that could not be read (not JSON, missing fields, key mismatch). */
  malformed = 0;
  /** The reason of the last malformed value, for a warning. */
  lastProblem: string | null = null;

  /** Apply one record of the topic, in offset order. A tombstone removes its key. */
  apply(key: Buffer | null, value: Buffer | null): void {
    if (value === null) {
      if (key !== null) {
        const k = key.toString('utf8');
        this.latestByKey.delete(k);
        this.samples.delete(k);
      }
      return;
    }
    const decoded = decodeFleetRecord(value, key);
    if (!decoded.ok) {
      this.malformed++;
      this.lastProblem = decoded.reason;
      return;
    }
    this.add(decoded.record);
  }

  /** Apply a record already decoded (the agent's own, the tests). */
  add(r: FleetRecord): void {
    const k = fleetKey(r.brokerId, r.logDir);
    const prev = this.latestByKey.get(k);
    if (prev === undefined || r.at >= prev.at) this.latestByKey.set(k, r);
    const s = this.samples.get(k) ?? [];
    const point: FleetPoint = [r.at, r.usedBytes, r.usedPercent];
    if (s.length === 0 || (s[s.length - 1] as FleetPoint)[0] < r.at) s.push(point);
    else if (!s.some(([t]) => t === r.at)) {
      s.push(point);
      s.sort((a, b) => a[0] - b[0]);
    }
    if (s.length > MAX_SAMPLES) s.splice(0, s.length - MAX_SAMPLES);
    this.samples.set(k, s);
  }

  /** The latest record of every key, by broker id then log.dir. */
  latest(): FleetRecord[] {
    return [...this.latestByKey.values()].sort(
      (a, b) => a.brokerId - b.brokerId || a.logDir.localeCompare(b.logDir),
    );
  }

  get(brokerId: number, logDir: string): FleetRecord | undefined {
    return this.latestByKey.get(fleetKey(brokerId, logDir));
  }

  /** [at, usedBytes, usedPercent] per key, oldest first. */
  series(): Record<string, FleetPoint[]> {
    return Object.fromEntries([...this.samples].map(([k, v]) => [k, [...v]]));
  }

  /**
   * Growth of a key's used bytes per day: the agent's own figure when it has one, else the
   * least-squares slope of the samples within `windowMs` of the latest (null with fewer than 2).
   */
  growthBytesPerDay(brokerId: number, logDir: string, windowMs = 7 * DAY_MS): number | null {
    const k = fleetKey(brokerId, logDir);
    const latest = this.latestByKey.get(k);
    if (latest === undefined) return null;
    if (latest.growthBytesPerDay !== null) return latest.growthBytesPerDay;
    const s = (this.samples.get(k) ?? [])
      .filter(([t]) => t >= latest.at - windowMs)
      .map(([t, used]) => [t, used] as const);
    const fit = leastSquares(s);
    return fit === null ? null : fit.slope * DAY_MS;
  }
}

/** Whether a record is stale at `now`: older than staleAfterMs (default 3 × its interval). */
export function isStale(r: FleetRecord, now: number, staleAfterMs?: number): boolean {
  return now - r.at > (staleAfterMs ?? 3 * r.intervalMs);
}

/** Days until used bytes reach `percent` of the usable bytes (used + available) at this growth. */
export function daysToPercentOf(
  usedBytes: number,
  availableBytes: number,
  percent: number,
  growthBytesPerDay: number | null,
): number | null {
  const remaining = (percent / 100) * (usedBytes + availableBytes) - usedBytes;
  const d = daysUntil(remaining, growthBytesPerDay);
  return d === null ? null : Math.round(d * 100) / 100;
}

export interface FleetRowOptions {
  now: number;
  /** disk.fleet.staleAfterMs; default 3 × each record's intervalMs. */
  staleAfterMs?: number;
  /** The reader's watermarks (days to high / flood; the state of estimate rows). */
  watermarks: Watermarks;
  /** Growth window over successive records (default 7 days). */
  windowMs?: number;
}

/**
 * The report's rows: one per agent record (latest per key), then one per estimate of a broker
 * that has no agent record at all. Ordered by broker id, then log.dir.
 */
export function buildFleetEntries(
  state: FleetState,
  estimates: FleetEstimate[],
  opts: FleetRowOptions,
): FleetEntry[] {
  const entries: FleetEntry[] = [];
  const withAgent = new Set<number>();
  for (const r of state.latest()) {
    withAgent.add(r.brokerId);
    const growth = state.growthBytesPerDay(r.brokerId, r.logDir, opts.windowMs);
    entries.push({
      brokerId: r.brokerId,
      logDir: r.logDir,
      source: 'agent',
      host: r.host,
      stale: isStale(r, opts.now, opts.staleAfterMs),
      lastSeen: r.at,
      sizeBytes: r.sizeBytes,
      usedBytes: r.usedBytes,
      availableBytes: r.availableBytes,
      usedPercent: r.usedPercent,
      state: r.state,
      growthBytesPerDay: growth,
      daysToHigh: daysToPercentOf(r.usedBytes, r.availableBytes, opts.watermarks.high, growth),
      daysToFlood: daysToPercentOf(r.usedBytes, r.availableBytes, opts.watermarks.flood, growth),
      reserves: { ...r.reserves },
      survivesUncleanRestart: r.headroom.survives,
      needsBytes: r.headroom.needsBytes,
      hasBytes: r.headroom.hasBytes,
      estimate: false,
    });
  }
  for (const e of estimates) {
    if (withAgent.has(e.brokerId)) continue;
    entries.push({
      brokerId: e.brokerId,
      logDir: e.logDir,
      source: 'describe-log-dirs',
      host: null,
      stale: false,
      lastSeen: null,
      sizeBytes: e.sizeBytes,
      usedBytes: e.usedBytes,
      availableBytes: e.availableBytes,
      usedPercent: e.usedPercent,
      state: e.usedPercent === null ? 'unknown' : classifyWatermark(e.usedPercent, opts.watermarks),
      growthBytesPerDay: null,
      daysToHigh: null,
      daysToFlood: null,
      reserves: null,
      survivesUncleanRestart: e.survivesUncleanRestart,
      needsBytes: e.needsBytes,
      hasBytes: e.hasBytes,
      estimate: true,
    });
  }
  return entries.sort((a, b) => a.brokerId - b.brokerId || a.logDir.localeCompare(b.logDir));
}
