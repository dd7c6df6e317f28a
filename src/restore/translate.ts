import type { GroupSnapshot } from '../archive/index.js';
import { ArchiveError, ErrorCodes } from '../errors.js';
import type { Admin } from '../kafka/index.js';
import type { JobState } from './job-store.js';
import { RunIndex, type OffsetRun } from './offset-map.js';

/**
 * Consumer-group offset translation through a job's offset map. A committed offset X is the
 * next record the group would read. On the restored topic that is the first record the job
 * restored with original offset >= X:
 *
 *   X inside a run                      newFrom + (X - from)
 *   X in a hole between runs            the first record after the hole (offsets removed by
 *                                       compaction, transaction markers, aborted records, or
 *                                       records outside the restored time range)
 *   X at or before the first record     the first restored record ("before": the group had not
 *                                       yet read anything the job restored)
 *   X past the last record              the offset after the last restored record ("after":
 *                                       the group had read all of it)
 */
export type TranslationKind = 'exact' | 'gap' | 'before' | 'after';

export interface Translation {
  offset: bigint;
  kind: TranslationKind;
}

/** Translates X through one source partition's runs, sorted by `from` (null: no runs). */
export function translateOffset(runs: readonly OffsetRun[], x: bigint): Translation | null {
  if (runs.length === 0) return null;
  const first = runs[0]!;
  if (x < first.from) return { offset: first.newFrom, kind: 'before' };
  // The first run whose last offset is >= x.
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (runs[mid]!.to < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo === runs.length) {
    const last = runs[runs.length - 1]!;
    return { offset: last.newFrom + (last.to - last.from) + 1n, kind: 'after' };
  }
  const r = runs[lo]!;
  if (x < r.from) return { offset: r.newFrom, kind: 'gap' };
  return { offset: r.newFrom + (x - r.from), kind: 'exact' };
}

export interface TranslatedPartition {
  topic: string;
  partition: number;
  targetTopic: string;
  targetPartition: number;
  /** The group's committed offset on the source, null when it has none for the partition. */
  sourceOffset: bigint | null;
  /** The offset to commit on the target, null when there is nothing to translate. */
  restoredOffset: bigint | null;
  /**
   * How it was found (translateOffset), `empty` when the job restored no record of the
   * partition (the target partition's offset when the job began writing to it), or `none` when
   * the group has no offset for the partition.
   */
  kind: TranslationKind | 'empty' | 'none';
}

/**
 * Every partition of the job's plan, translated. Refused for jobs that are not done (their map
 * may hold runs of uncommitted transactions) and for `--repartition` jobs (one source offset
 * has no single position in a target partition fed by several source partitions).
 */
export function translateJob(
  state: JobState,
  runs: readonly OffsetRun[],
  sourceOffsets: ReadonlyMap<string, ReadonlyMap<number, bigint>>,
): TranslatedPartition[] {
  if (state.status !== 'done') {
    throw new ArchiveError(
      ErrorCodes.RESTORE_TRANSLATE_REFUSED,
      `restore job ${state.id} is ${state.status}, not done: run it to the end first (the same restore command resumes it)`,
    );
  }
  if (state.spec.repartition !== null) {
    throw new ArchiveError(
      ErrorCodes.RESTORE_TRANSLATE_REFUSED,
      `restore job ${state.id} was repartitioned (--repartition ${state.spec.repartition}): records of several source partitions share a target partition, so a group position cannot be translated`,
    );
  }
  const index = new RunIndex(runs);
  const out: TranslatedPartition[] = [];
  for (const p of state.plan) {
    const pr = index.source(p.topic, p.partition);
    const targetPartition = pr[0]?.targetPartition ?? p.partition;
    if (pr.some((r) => r.targetPartition !== targetPartition || r.targetTopic !== p.targetTopic)) {
      throw new ArchiveError(
        ErrorCodes.RESTORE_TRANSLATE_REFUSED,
        `restore job ${state.id} wrote ${p.topic}/${p.partition} to more than one target partition: a group position cannot be translated`,
      );
    }
    const x = sourceOffsets.get(p.topic)?.get(p.partition) ?? null;
    const row: TranslatedPartition = {
      topic: p.topic,
      partition: p.partition,
      targetTopic: p.targetTopic,
      targetPartition,
      sourceOffset: x,
      restoredOffset: null,
      kind: 'none',
    };
    if (x !== null) {
      const t = translateOffset(pr, x);
      if (t !== null) {
        row.restoredOffset = t.offset;
        row.kind = t.kind;
      } else {
        const start = state.targets.find((t) => t.topic === p.targetTopic)?.startOffsets[
          String(targetPartition)
        ];
        if (start !== undefined && /^\d+$/.test(start)) {
          row.restoredOffset = BigInt(start);
          row.kind = 'empty';
        }
      }
    }
    out.push(row);
  }
  return out;
}

/** Where the group's source positions came from. */
export type PositionSource =
  { kind: 'live' } | { kind: 'archive'; asOfMs: number; snapshotAtMs: number; key: string };

export interface TranslateReport {
  jobId: string;
  group: string;
  source: PositionSource;
  partitions: TranslatedPartition[];
  /** With --apply: the offsets committed on the target (read back), else null. */
  applied: Array<{ topic: string; partition: number; offset: bigint }> | null;
}

export interface TranslateDeps {
  /** The source cluster's admin (live positions). */
  sourceAdmin(): Promise<Admin>;
  /** The target cluster's admin (--apply). */
  targetAdmin(): Promise<Admin>;
  /** The latest archived snapshot of the group at or before a time. */
  snapshot(group: string, atMs: number): Promise<GroupSnapshot | null>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Translates group G's position on the job's source topics onto its targets: live from the
 * source cluster, or (asOfMs given) from the archived series, the latest snapshot at or before
 * that time. With `apply`, commits the translated offsets for G on the target, refusing when G
 * has active members there.
 */
export async function translateGroupOffsets(
  deps: TranslateDeps,
  state: JobState,
  runs: readonly OffsetRun[],
  opts: { group: string; asOfMs: number | null; apply: boolean },
): Promise<TranslateReport> {
  const topics = [...new Set(state.plan.map((p) => p.topic))].sort();
  const offsets = new Map<string, Map<number, bigint>>();
  let source: PositionSource;
  if (opts.asOfMs === null) {
    let admin: Admin;
    try {
      admin = await deps.sourceAdmin();
    } catch (err) {
      if (err instanceof ArchiveError && err.code === ErrorCodes.KAFKA_UNAVAILABLE)
        throw new ArchiveError(
          err.code,
          `${err.message}; the source cluster holds the live position of group ${opts.group}: give --as-of T (e.g. --as-of now) to use the archived positions instead`,
          { cause: err },
        );
      throw err;
    }
    try {
      for (const [t, m] of await admin.groupOffsets(opts.group, topics))
        offsets.set(t, new Map([...m].map(([p, c]) => [p, c.offset])));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if ([...offsets.values()].every((m) => m.size === 0))
      throw new ArchiveError(
        ErrorCodes.RESTORE_GROUP_UNKNOWN,
        `group ${opts.group} has no committed offset on ${topics.join(', ')} in the source cluster; with --as-of T the archived positions are used`,
      );
    source = { kind: 'live' };
  } else {
    const snap = await deps.snapshot(opts.group, opts.asOfMs);
    if (snap === null)
      throw new ArchiveError(
        ErrorCodes.RESTORE_GROUP_UNKNOWN,
        `no archived position of group ${opts.group} at or before ${iso(opts.asOfMs)} (is it in archiver.groups? snapshots are written every archiver.groupsIntervalMs)`,
      );
    for (const r of snap.offsets) {
      if (!topics.includes(r.topic)) continue;
      const m = offsets.get(r.topic) ?? new Map<number, bigint>();
      m.set(r.partition, r.offset);
      offsets.set(r.topic, m);
    }
    if (offsets.size === 0)
      throw new ArchiveError(
        ErrorCodes.RESTORE_GROUP_UNKNOWN,
        `the archived position of group ${opts.group} at ${iso(snap.capturedAtMs)} has no offset on ${topics.join(', ')}`,
      );
    source = {
      kind: 'archive',
      asOfMs: opts.asOfMs,
      snapshotAtMs: snap.capturedAtMs,
      key: snap.key,
    };
  }
  const partitions = translateJob(state, runs, offsets);
  const report: TranslateReport = {
    jobId: state.id,
    group: opts.group,
    source,
    partitions,
    applied: null,
  };
  if (!opts.apply) return report;
  const commits = partitions
    .filter((p) => p.restoredOffset !== null)
    .map((p) => ({
      topic: p.targetTopic,
      partition: p.targetPartition,
      offset: p.restoredOffset as bigint,
    }));
  if (commits.length === 0)
    throw new ArchiveError(
      ErrorCodes.RESTORE_GROUP_UNKNOWN,
      `nothing to commit: group ${opts.group} has no translatable offset on the job's partitions`,
    );
  const admin = await deps.targetAdmin();
  try {
    const d = await admin.describeGroup(opts.group);
    if (d.members.length > 0)
      throw new ArchiveError(
        ErrorCodes.RESTORE_GROUP_ACTIVE,
        `group ${opts.group} has ${d.members.length} active member(s) on the target (state ${d.state}; ${d.members
          .slice(0, 5)
          .map((m) => `${m.clientId}@${m.clientHost}`)
          .join(', ')}): stop its consumers, then run --apply again`,
        { details: { state: d.state, members: d.members.length } },
      );
    await admin.commitGroupOffsets(opts.group, commits);
    const targets = [...new Set(commits.map((c) => c.topic))];
    const back = await admin.groupOffsets(opts.group, targets);
    report.applied = commits.map((c) => ({
      topic: c.topic,
      partition: c.partition,
      offset: back.get(c.topic)?.get(c.partition)?.offset ?? -1n,
    }));
    const wrong = report.applied.filter((a, i) => a.offset !== commits[i]!.offset);
    if (wrong.length > 0)
      throw new ArchiveError(
        ErrorCodes.KAFKA_REQUEST_FAILED,
        `committed the offsets of group ${opts.group} on the target, but reading them back gave ${wrong
          .map((w) => `${w.topic}/${w.partition}=${w.offset}`)
          .join(', ')}`,
      );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  return report;
}
