import type { PartitionProgress, RestoreOutcome } from './engine.js';
import type { JobState } from './job-store.js';
import type { CanonicalSpec } from './spec.js';
import {
  planTotals,
  type Gap,
  type PartitionPlan,
  type PlanTotals,
  type RestoreProgress,
  type RunOptions,
} from './types.js';
import type { VerifyReport } from './verify.js';

/**
 * What a restore job looks like from outside (the HTTP API's RestoreJob): the stored state
 * (job.json) joined with the live progress of a run in this process. Pure functions.
 */
export type JobPhase = 'planning' | 'running' | 'verifying' | 'done' | 'failed';

export interface PartitionView {
  topic: string;
  partition: number;
  targetTopic: string;
  startOffset: bigint;
  endOffset: bigint;
  records: number;
  recordBytes: number;
  totalRecords: number;
  totalRecordBytes: number;
  done: boolean;
}

export interface JobProgressView {
  records: number;
  recordBytes: number;
  totalRecords: number;
  totalRecordBytes: number;
  transactions: number;
  partitionsDone: number;
  partitions: number;
  bytesRead: number;
  /** Of this process's run of the job (0 when none runs). */
  recordsPerSecond: number;
  bytesPerSecond: number;
  /** Seconds left at the current rate; null when not running or no rate yet. */
  etaSeconds: number | null;
}

export interface JobView {
  id: string;
  state: JobPhase;
  /** Run by this process now. */
  live: boolean;
  spec: CanonicalSpec;
  createdAt: string | null;
  updatedAt: string | null;
  progress: JobProgressView;
  partitions: PartitionView[];
  targets: Array<{ topic: string; partitions: number; created: boolean }>;
  gaps: Gap[];
  error: { code: string; message: string } | null;
  /** Failed, but running the same request again continues after its last transaction. */
  resumable: boolean;
  verify: VerifyReport | null;
}

/** What this process knows of a run it started (null fields: not reached yet). */
export interface LiveRun {
  phase: JobPhase;
  spec: CanonicalSpec;
  startedAt: number;
  /** Progress when the run started (earlier runs' work) and now. */
  atStart: RestoreProgress | null;
  progress: RestoreProgress | null;
  partitions: Map<string, PartitionProgress>;
  error: { code: string; message: string } | null;
  verify: VerifyReport | null;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Codes after which the same request continues where the job stopped. */
const RESUMABLE = new Set([
  'RESTORE_INTERRUPTED',
  'KAFKA_UNAVAILABLE',
  'KAFKA_REQUEST_FAILED',
  'KAFKA_PRODUCER_FENCED',
  'STORAGE_UNAVAILABLE',
  'RESTORE_JOB_LOCKED',
]);

/**
 * The view of a job. `stored` is job.json (null before the plan is saved), `live` the run of this
 * process (null for jobs of other or earlier processes), `recorded` the records per source
 * partition in the offset map (for jobs not running here).
 */
export function jobView(
  id: string,
  stored: JobState | null,
  live: LiveRun | null,
  recorded: ReadonlyMap<string, number>,
  now = Date.now(),
): JobView {
  const running = live !== null && ['planning', 'running', 'verifying'].includes(live.phase);
  const plan: PartitionPlan[] = stored?.plan ?? [];
  const totals: PlanTotals = planTotals(plan);
  const storedDone = stored?.status === 'done';
  const partitions = plan.map((p): PartitionView => {
    const lp = live?.partitions.get(key(p.topic, p.partition));
    const records =
      lp?.records ?? (storedDone ? p.records : (recorded.get(key(p.topic, p.partition)) ?? 0));
    const done = lp?.done ?? (storedDone || records >= p.records);
    return {
      topic: p.topic,
      partition: p.partition,
      targetTopic: p.targetTopic,
      startOffset: p.startOffset,
      endOffset: p.endOffset,
      records,
      recordBytes:
        lp?.recordBytes ??
        (done
          ? p.recordBytes
          : p.records > 0
            ? Math.round((p.recordBytes * records) / p.records)
            : 0),
      totalRecords: p.records,
      totalRecordBytes: p.recordBytes,
      done,
    };
  });
  const sum = (f: (p: PartitionView) => number) => partitions.reduce((n, p) => n + f(p), 0);
  const lp = live?.progress ?? null;
  const progress: JobProgressView = {
    records: sum((p) => p.records),
    recordBytes: sum((p) => p.recordBytes),
    totalRecords: totals.records,
    totalRecordBytes: totals.recordBytes,
    transactions: lp?.transactions ?? stored?.result?.transactions ?? 0,
    partitionsDone: partitions.filter((p) => p.done).length,
    partitions: plan.length,
    bytesRead: lp?.bytesRead ?? stored?.result?.bytesRead ?? 0,
    recordsPerSecond: 0,
    bytesPerSecond: 0,
    etaSeconds: null,
  };
  if (running && lp !== null && live.atStart !== null) {
    const s = (now - live.startedAt) / 1000;
    if (s > 0) {
      progress.recordsPerSecond = (lp.records - live.atStart.records) / s;
      progress.bytesPerSecond = (lp.recordBytes - live.atStart.recordBytes) / s;
    }
    const left = progress.totalRecordBytes - progress.recordBytes;
    if (progress.bytesPerSecond > 0)
      progress.etaSeconds = Math.max(0, left / progress.bytesPerSecond);
  }
  const state: JobPhase =
    live !== null
      ? live.phase
      : stored?.status === 'running'
        ? 'running'
        : (stored?.status ?? 'failed');
  const error = live !== null ? live.error : (stored?.error ?? null);
  return {
    id,
    state,
    live: running,
    spec: stored?.spec ?? (live as LiveRun).spec,
    createdAt: stored?.createdAt ?? null,
    updatedAt: stored?.updatedAt ?? null,
    progress,
    partitions,
    targets: (stored?.targets ?? []).map((t) => ({
      topic: t.topic,
      partitions: t.partitions,
      created: t.create,
    })),
    gaps: stored?.gaps ?? [],
    error,
    resumable: state === 'failed' && error !== null && RESUMABLE.has(error.code),
    verify: live?.verify ?? null,
  };
}

/** Records per source partition in offset-map runs (as `key`). */
export function recordedRecords(
  runs: ReadonlyArray<{ topic: string; partition: number; from: bigint; to: bigint }>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of runs) {
    const k = key(r.topic, r.partition);
    out.set(k, (out.get(k) ?? 0) + Number(r.to - r.from + 1n));
  }
  return out;
}

export { key as partitionViewKey };

/** The plan of a dry run, as `restore --dry-run --json` prints it and the API answers it. */
export interface DryRunView {
  jobId: string;
  dryRun: true;
  totals: PlanTotals;
  partitions: PartitionPlan[];
  gaps: Gap[];
  estimatedSecondsAtRate: number | null;
  existingJob: JobState['status'] | null;
}

export function dryRunView(
  o: Extract<RestoreOutcome, { kind: 'dry-run' }>,
  opts: RunOptions,
): DryRunView {
  const t = o.totals;
  const rateMs = Math.max(
    opts.bytesPerSecond > 0 ? (t.recordBytes / opts.bytesPerSecond) * 1000 : 0,
    opts.recordsPerSecond > 0 ? (t.records / opts.recordsPerSecond) * 1000 : 0,
  );
  return {
    jobId: o.jobId,
    dryRun: true,
    totals: t,
    partitions: o.plan.partitions,
    gaps: o.plan.gaps,
    estimatedSecondsAtRate: rateMs > 0 ? rateMs / 1000 : null,
    existingJob: o.existing?.status ?? null,
  };
}
