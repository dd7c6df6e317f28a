/**
 * Types shared by the fleet's parts: the agent's records (record.ts), the reader (state.ts) and
 * the DescribeLogDirs estimate for brokers without an agent (estimate.ts, which returns
 * FleetEstimate rows).
 */
import type { WatermarkState } from '../volume.js';

/**
 * A coarse row for a broker's log.dir that no agent reports, from DescribeLogDirs (log sizes,
 * no index files): estimateFromLogDirs in estimate.ts builds these.
 */
export interface FleetEstimate {
  brokerId: number;
  logDir: string;
  /** DescribeLogDirs v4+ (Kafka >= 3.3): total and usable bytes of the volume; else null. */
  sizeBytes: number | null;
  availableBytes: number | null;
  /** The sum of the partitions' log sizes (or size − usable, when known). */
  usedBytes: number;
  usedPercent: number | null;
  /** Null when the volume's free space is unknown (no verdict possible). */
  survivesUncleanRestart: boolean | null;
  needsBytes: number | null;
  hasBytes: number | null;
  /** The log.dir's error from DescribeLogDirs (e.g. KAFKA_STORAGE_ERROR), null when healthy. */
  error?: string | null;
}

/** One row of the fleet report: a broker's log.dir, from its agent or from an estimate. */
export interface FleetEntry {
  brokerId: number;
  logDir: string;
  source: 'agent' | 'describe-log-dirs';
  /** The agent's host (agent rows), else null. */
  host: string | null;
  /** No record for longer than staleAfterMs (agent rows; estimates are never stale). */
  stale: boolean;
  lastSeen: number | null;
  sizeBytes: number | null;
  usedBytes: number;
  availableBytes: number | null;
  usedPercent: number | null;
  /** The agent's watermark state; for estimates the state the reader's watermarks give, or "unknown". */
  state: WatermarkState | 'unknown';
  growthBytesPerDay: number | null;
  daysToHigh: number | null;
  daysToFlood: number | null;
  reserves: { armed: number; total: number; bytes: number } | null;
  survivesUncleanRestart: boolean | null;
  needsBytes: number | null;
  hasBytes: number | null;
  estimate: boolean;
}

/** `disk report --fleet --json` and GET /api/disk/fleet. */
export interface FleetReport {
  generatedAt: number;
  topic: string;
  staleAfterMs: number;
  entries: FleetEntry[];
  /** Values in the topic that could not be read (skipped). */
  malformed: number;
  /** Per key, the samples seen in the topic (oldest first), for the report's charts. */
  series: Record<string, FleetPoint[]>;
}

/** One sample of a log.dir: [at ms, used bytes, used percent]. */
export type FleetPoint = [number, number, number];
