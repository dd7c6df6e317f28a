import { topicOfStream } from '../archive/index.js';
import { ArchiveError, describeError, ErrorCodes } from '../errors.js';
import type { Admin, KafkaClient, TransactionalProducer } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import type { ArchiveAccess } from './access.js';
import {
  chunkRecords,
  offsetHeaders,
  recordSize,
  tooLarge,
  BATCH_OVERHEAD,
  type PendingRecord,
} from './batch.js';
import { JobStore, type JobResult, type JobState } from './job-store.js';
import {
  buildRuns,
  committedRuns,
  loadRuns,
  OffsetMapWriter,
  partitionKey,
  writeRuns,
  type OffsetRun,
} from './offset-map.js';
import { targetPartition } from './partitioner.js';
import { makePlan } from './plan.js';
import {
  groupIdOf,
  progressKey,
  progressOffset,
  readProgress,
  type ProgressKey,
} from './progress.js';
import { RateLimiter } from './rate-limiter.js';
import { scanPartition } from './scan.js';
import { canonicalSpec, jobId, sameSpec } from './spec.js';
import { prepareTargets, refreshTargets } from './target.js';
import {
  planTotals,
  type PartitionPlan,
  type PlanTotals,
  type RestorePlan,
  type RestoreProgress,
  type RestoreRequest,
  type RunOptions,
  type TargetPlan,
} from './types.js';

export interface RestoreDeps {
  access: ArchiveAccess;
  /** The target cluster. */
  target: KafkaClient;
  stateDir: string;
  log: Logger;
}

export interface RestoreEvents {
  /** The job's plan, before anything is produced (also for a resumed job). */
  onStart?(info: {
    jobId: string;
    resumed: boolean;
    totals: PlanTotals;
    done: RestoreProgress;
  }): void;
  /** After every committed transaction. */
  onProgress?(p: RestoreProgress): void;
  /** One partition's progress: at the start (what earlier runs did), after each of its transactions. */
  onPartition?(p: PartitionProgress): void;
}

/** Records (and estimated record bytes) of one source partition restored so far, over all runs. */
export interface PartitionProgress {
  topic: string;
  partition: number;
  records: number;
  recordBytes: number;
  done: boolean;
}

/** Record bytes of `records` records of a planned partition, estimated from the plan. */
const estimateBytes = (p: PartitionPlan, records: number) =>
  p.records > 0 ? Math.round((p.recordBytes * records) / p.records) : 0;

export type RestoreOutcome =
  | {
      kind: 'dry-run';
      jobId: string;
      plan: RestorePlan;
      totals: PlanTotals;
      bytesRead: number;
      existing: JobState | null;
    }
  | {
      kind: 'done';
      jobId: string;
      state: JobState;
      resumed: boolean;
      alreadyDone: boolean;
      progress: RestoreProgress;
    };

interface PartitionStart {
  plan: PartitionPlan;
  key: ProgressKey;
  from: bigint;
  /** The committed progress, or null when nothing was committed yet. */
  committed: bigint | null;
  txn: number;
  done: boolean;
  records: number;
}

const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);

/**
 * Restores archived records into a cluster, exactly once across crashes: each source
 * partition is written by its own transactional producer (transactional id
 * `kafka-archive-restore.<job>.<topic>.<partition>`, so a re-run fences a killed run's producer
 * and aborts its open transaction), one transaction per batch, and every transaction also
 * commits the job's progress in that partition (the next original offset) as a group offset
 * (progress.ts). Running the same request again resumes after the last committed transaction.
 */
export async function runRestore(
  deps: RestoreDeps,
  req: RestoreRequest,
  opts: RunOptions,
  events: RestoreEvents = {},
  signal?: AbortSignal,
): Promise<RestoreOutcome> {
  const id = jobId(req);
  const spec = canonicalSpec(req);
  const store = new JobStore(deps.stateDir);
  const log = deps.log.child({ job: id });
  const existing = await store.load(id);
  if (existing !== null && !sameSpec(existing.spec, spec)) {
    throw new ArchiveError(
      ErrorCodes.RESTORE_JOB_CONFLICT,
      `restore job ${id} exists with another request (${JSON.stringify(existing.spec)}); choose another --job name, or repeat that job's own options`,
    );
  }
  const counter = { bytesRead: 0 };
  if (opts.dryRun) {
    const plan =
      existing !== null
        ? { partitions: existing.plan, gaps: existing.gaps }
        : await makePlan(deps.access, req, true, counter);
    return {
      kind: 'dry-run',
      jobId: id,
      plan,
      totals: planTotals(plan.partitions),
      bytesRead: counter.bytesRead,
      existing,
    };
  }
  const unlock = await store.lock(id);
  let admin: Admin | null = null;
  let state: JobState | null = existing;
  const t0 = performance.now();
  const progress: RestoreProgress = {
    jobId: id,
    records: 0,
    recordBytes: 0,
    totalRecords: 0,
    totalRecordBytes: 0,
    transactions: 0,
    partitionsDone: 0,
    partitions: 0,
    bytesRead: 0,
  };
  try {
    if (existing?.status === 'done') {
      progress.records = existing.result?.records ?? 0;
      return {
        kind: 'done',
        jobId: id,
        state: existing,
        resumed: true,
        alreadyDone: true,
        progress,
      };
    }
    const brokers = req.targetBrokers.join(',');
    admin = await deps.target.admin();
    let targets: TargetPlan[];
    if (state === null) {
      const plan = await makePlan(deps.access, req, opts.allowGaps, counter);
      for (const g of plan.gaps)
        log.warn(
          { topic: g.topic, partition: g.partition, from: g.from.toString(), to: g.to.toString() },
          'archive gap inside the range: restored without these offsets (--allow-gaps)',
        );
      targets = await prepareTargets(admin, deps.access, plan.partitions, req, opts, brokers, log);
      const now = new Date().toISOString();
      state = {
        version: 1,
        id,
        spec,
        status: 'running',
        createdAt: now,
        updatedAt: now,
        groupId: groupIdOf(id),
        plan: plan.partitions,
        gaps: plan.gaps,
        targets,
        result: null,
        error: null,
      };
      await store.save(state);
    } else {
      targets = await refreshTargets(admin, state.targets, brokers);
      state.targets = targets;
      state.status = 'running';
      state.error = null;
      await store.save(state);
    }
    const resumed = existing !== null;
    const job = state;
    const targetOf = new Map(targets.map((t) => [t.topic, t]));
    const keys = new Map<string, ProgressKey>();
    for (const p of job.plan) {
      const t = targetOf.get(p.targetTopic) as TargetPlan;
      keys.set(partitionKey(p.topic, p.partition), progressKey(id, p, t));
    }
    const committed = await readProgress(admin, keys);
    const starts = await reconcile(store.mapPath(id), job.plan, keys, committed, log);
    const totals = planTotals(job.plan);
    progress.totalRecords = totals.records;
    progress.totalRecordBytes = totals.recordBytes;
    progress.partitions = job.plan.length;
    for (const s of starts) {
      progress.records += s.records;
      if (s.done) progress.partitionsDone++;
    }
    // Bytes done so far are estimated from the records done (the plan's bytes per record).
    progress.recordBytes =
      totals.records > 0 ? Math.round((totals.recordBytes * progress.records) / totals.records) : 0;
    events.onStart?.({ jobId: id, resumed, totals, done: { ...progress } });
    for (const s of starts)
      events.onPartition?.({
        topic: s.plan.topic,
        partition: s.plan.partition,
        records: s.records,
        recordBytes: s.done ? s.plan.recordBytes : estimateBytes(s.plan, s.records),
        done: s.done,
      });
    if (resumed)
      log.info(
        { records: progress.records, partitionsDone: progress.partitionsDone },
        'resuming restore job after its last committed transaction',
      );
    const writer = await OffsetMapWriter.open(store.mapPath(id));
    const limiter = new RateLimiter({
      bytesPerSecond: opts.bytesPerSecond,
      recordsPerSecond: opts.recordsPerSecond,
    });
    // One partition failing stops the others after their current transaction: the job ends
    // (and its state is saved) only when no worker is producing any more.
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true) stop.abort();
    try {
      const todo = starts.filter((s) => !s.done);
      let next = 0;
      const worker = async () => {
        for (;;) {
          if (stop.signal.aborted) return;
          const s = todo[next++];
          if (s === undefined) return;
          await restorePartition(
            deps,
            job,
            s,
            targetOf.get(s.plan.targetTopic) as TargetPlan,
            req,
            opts,
            {
              writer,
              limiter,
              counter,
              progress,
              events,
              log,
              signal: stop.signal,
            },
          ).catch((err: unknown) => {
            stop.abort();
            throw err;
          });
          progress.partitionsDone++;
          events.onProgress?.({ ...progress, bytesRead: counter.bytesRead });
        }
      };
      const results = await Promise.allSettled(
        Array.from({ length: Math.max(1, Math.min(opts.concurrency, todo.length)) }, worker),
      );
      // The first real failure, not the interruptions it caused in the other workers.
      const failures = results.flatMap((r) =>
        r.status === 'rejected' ? [r.reason as unknown] : [],
      );
      const first =
        failures.find(
          (e) => !(e instanceof ArchiveError && e.code === ErrorCodes.RESTORE_INTERRUPTED),
        ) ?? failures[0];
      if (first !== undefined) throw first;
      if (signal?.aborted === true) throw interrupted();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await writer.close();
    }
    progress.bytesRead = counter.bytesRead;
    job.status = 'done';
    job.result = result(progress, t0);
    await store.save(job);
    log.info({ ...job.result }, 'restore job done');
    return { kind: 'done', jobId: id, state: job, resumed, alreadyDone: false, progress };
  } catch (err) {
    if (state !== null) {
      progress.bytesRead = counter.bytesRead;
      state.status = 'failed';
      state.result = result(progress, t0);
      state.error = {
        code: err instanceof ArchiveError ? err.code : ErrorCodes.INTERNAL,
        message: describeError(err),
      };
      await store
        .save(state)
        .catch((e: unknown) => log.warn({ err: describeError(e) }, 'job state not saved'));
    }
    throw err;
  } finally {
    await admin?.disconnect().catch(() => undefined);
    await unlock();
  }
}

function result(p: RestoreProgress, t0: number): JobResult {
  return {
    records: p.records,
    recordBytes: p.recordBytes,
    transactions: p.transactions,
    seconds: Math.round(performance.now() - t0) / 1000,
    bytesRead: p.bytesRead,
  };
}

/**
 * Where each partition continues: after its committed progress. Offset-map lines of a
 * transaction that did not commit are dropped. Lines without any committed progress mean the
 * group's offsets are gone (expired after offsets.retention.minutes, or deleted): then whether
 * the last transaction committed cannot be known, and the job refuses to guess.
 */
async function reconcile(
  mapPath: string,
  plan: readonly PartitionPlan[],
  keys: ReadonlyMap<string, ProgressKey>,
  committed: ReadonlyMap<string, bigint>,
  log: Logger,
): Promise<PartitionStart[]> {
  const runs = await loadRuns(mapPath);
  const withRuns = new Set(runs.map((r) => partitionKey(r.topic, r.partition)));
  for (const k of withRuns) {
    if (!committed.has(k)) {
      const key = keys.get(k);
      throw new ArchiveError(
        ErrorCodes.RESTORE_PROGRESS_UNKNOWN,
        `the job's offset map has records of ${k.replace('\u0000', '/')} but its progress is not committed in group ${key?.groupId ?? '?'} on the target (group offsets expire after offsets.retention.minutes, 7 days by default, or were deleted): it cannot tell whether its last transaction committed. Verify with \`kafka-archive restore verify --job ...\`, or restore the rest as a new job`,
      );
    }
  }
  const { kept, dropped } = committedRuns(runs, committed);
  if (dropped > 0)
    log.info({ dropped }, 'offset map: dropped the lines of transactions that did not commit');
  // Rewritten every time: a line torn by a crash mid-append must not be continued by the next.
  await writeRuns(mapPath, kept);
  const byPartition = new Map<string, OffsetRun[]>();
  for (const r of kept) {
    const k = partitionKey(r.topic, r.partition);
    (byPartition.get(k) ?? byPartition.set(k, []).get(k)!).push(r);
  }
  return plan.map((p) => {
    const k = partitionKey(p.topic, p.partition);
    const c = committed.get(k);
    const mine = byPartition.get(k) ?? [];
    const from = c === undefined ? p.startOffset : maxBig(c, p.startOffset);
    return {
      plan: p,
      key: keys.get(k) as ProgressKey,
      from,
      committed: c ?? null,
      txn: mine.reduce((n, r) => (r.txn > n ? r.txn : n), 0),
      done: c !== undefined && c >= p.endOffset,
      records: mine.reduce((n, r) => n + Number(r.to - r.from + 1n), 0),
    };
  });
}

interface PartitionContext {
  writer: OffsetMapWriter;
  limiter: RateLimiter;
  counter: { bytesRead: number };
  progress: RestoreProgress;
  events: RestoreEvents;
  log: Logger;
  signal?: AbortSignal;
}

function interrupted(): ArchiveError {
  return new ArchiveError(
    ErrorCodes.RESTORE_INTERRUPTED,
    'restore interrupted; run the same command again to resume after the last committed transaction',
  );
}

async function restorePartition(
  deps: RestoreDeps,
  job: JobState,
  s: PartitionStart,
  target: TargetPlan,
  req: RestoreRequest,
  opts: RunOptions,
  ctx: PartitionContext,
): Promise<void> {
  const { plan } = s;
  const log = ctx.log.child({ topic: plan.topic, partition: plan.partition });
  const producer: TransactionalProducer = await deps.target.transactionalProducer({
    transactionalId: `${job.groupId}.${plan.topic}.${plan.partition}`,
    compression: opts.compression,
    transactionTimeoutMs: opts.transactionTimeoutMs,
  });
  let txn = s.txn;
  let committedNext: bigint | null = s.committed;
  let pending: PendingRecord[] = [];
  let pendingBytes = 0;
  const mine = { records: s.records, recordBytes: estimateBytes(plan, s.records) };
  const maxRecord = target.maxMessageBytes - BATCH_OVERHEAD;
  const commit = async (next: bigint) => {
    if (ctx.signal?.aborted === true) throw interrupted();
    const records = pending;
    const bytes = pendingBytes;
    pending = [];
    pendingBytes = 0;
    if (records.length === 0 && committedNext !== null && committedNext >= next) return;
    const chunks = chunkRecords(records, target.maxMessageBytes);
    await ctx.limiter.acquire(bytes, records.length, ctx.signal).catch((err: unknown) => {
      throw ctx.signal?.aborted === true ? interrupted() : err;
    });
    const seq = ++txn;
    await producer.commitTransaction(
      chunks.map((c) => ({ topic: target.topic, records: c.records.map((r) => r.produce) })),
      { groupId: s.key.groupId, offsets: [progressOffset(s.key, next)] },
      async (produced) => {
        if (produced.length !== chunks.length)
          throw new ArchiveError(
            ErrorCodes.INTERNAL,
            `expected ${chunks.length} produce results, got ${produced.length}`,
          );
        const items: Array<{ offset: bigint; targetPartition: number; newOffset: bigint }> = [];
        chunks.forEach((c, i) => {
          const p = produced[i]!;
          if (p.partition !== c.partition || p.count !== c.records.length)
            throw new ArchiveError(
              ErrorCodes.INTERNAL,
              `produce result for partition ${p.partition} (${p.count} records) does not match the batch sent to ${c.partition} (${c.records.length})`,
            );
          c.records.forEach((r, j) =>
            items.push({
              offset: r.source.offset,
              targetPartition: c.partition,
              newOffset: p.baseOffset + BigInt(j),
            }),
          );
        });
        // Runs in original-offset order (chunks of several partitions interleave).
        items.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
        await ctx.writer.append(
          buildRuns(items, {
            topic: plan.topic,
            partition: plan.partition,
            targetTopic: target.topic,
            txn: seq,
            next,
          }),
        );
      },
    );
    committedNext = next;
    ctx.progress.records += records.length;
    ctx.progress.recordBytes += bytes;
    ctx.progress.transactions++;
    mine.records += records.length;
    mine.recordBytes += bytes;
    ctx.events.onPartition?.({
      topic: plan.topic,
      partition: plan.partition,
      ...mine,
      done: next >= plan.endOffset,
    });
    ctx.events.onProgress?.({ ...ctx.progress, bytesRead: ctx.counter.bytesRead });
  };
  try {
    const window = {
      fromOffset: s.from,
      endOffset: plan.endOffset,
      fromTime: req.fromTime,
      toTime: req.toTime,
    };
    for await (const chunk of scanPartition(
      deps.access,
      plan.topic,
      plan.partition,
      window,
      ctx.counter,
    )) {
      for (const r of chunk.records) {
        const headers = req.offsetHeader
          ? [
              ...r.headers,
              ...offsetHeaders(topicOfStream(plan.topic).topic, plan.partition, r.offset),
            ]
          : r.headers;
        const partition =
          req.repartition === null
            ? plan.partition
            : targetPartition(req.repartition, r.key, plan.partition, r.offset, target.partitions);
        const size = recordSize({ key: r.key, value: r.value, headers });
        if (size > maxRecord) throw tooLarge(r, plan, target.topic, size, target.maxMessageBytes);
        if (
          pending.length > 0 &&
          (pendingBytes + size > opts.batchBytes || pending.length >= opts.batchRecords)
        )
          await commit(r.offset);
        pending.push({
          source: r,
          produce: { partition, key: r.key, value: r.value, headers, timestamp: r.timestamp },
          size,
        });
        pendingBytes += size;
      }
    }
    await commit(plan.endOffset);
    log.debug({ transactions: txn - s.txn }, 'partition restored');
  } finally {
    await producer
      .disconnect()
      .catch((err: unknown) => log.debug({ err: describeError(err) }, 'producer disconnect'));
  }
}
