/**
 * Restore jobs run in the background of the service (POST /api/restores): the same parsing and
 * engine as `kafka-archive restore`, started here, watched by polling. A job's identity is its
 * request (spec.ts), so a job the service stopped, or one the CLI began, continues when the same
 * request is posted again. Stopping the service aborts the running jobs through their
 * AbortSignal after their current transaction: they end failed with RESTORE_INTERRUPTED, and
 * resumable.
 */
import type { Catalog } from '../catalog/index.js';
import { restoreStateDir, restoreTargetKafka, type Config } from '../config/index.js';
import { ArchiveError, describeError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log/index.js';
import {
  canonicalSpec,
  dryRunView,
  jobId,
  jobView,
  JobStore,
  loadRuns,
  parseRestoreRequest,
  parseRunOptions,
  partitionViewKey,
  recordedRecords,
  type DryRunView,
  type JobView,
  type LiveRun,
  type OptionLabel,
  type RestoreInput,
} from '../restore/index.js';
import type { ObjectStore } from '../storage/index.js';
import { createRestore, type RestoreOverrides, type RestoreService } from './restore.js';

export interface RestoreJobsDeps {
  config: Config;
  log: Logger;
  /** The service's live catalog; null when another process writes it (then each job reads it). */
  catalog: Catalog | null;
  store: ObjectStore;
  /** Builds a job's restore service (tests: another target client). */
  open?: (overrides: RestoreOverrides) => Promise<RestoreService>;
}

export type StartResult = { kind: 'dry-run'; plan: DryRunView } | { kind: 'started'; job: JobView };

interface Entry extends LiveRun {
  controller: AbortController;
  done: Promise<void>;
}

/** Finished runs of this process kept in memory (their verify reports and early errors). */
const KEEP_FINISHED = 100;
/** Job ids: what spec.ts makes (a sanitized topic prefix and a hash, or a --job name). */
const JOB_ID = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,199}$/;

export class RestoreJobs {
  private readonly entries = new Map<string, Entry>();
  private readonly store: JobStore;
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly deps: RestoreJobsDeps) {
    this.store = new JobStore(restoreStateDir(deps.config));
    this.log = deps.log.child({ component: 'restore' });
  }

  private open(): Promise<RestoreService> {
    const overrides: RestoreOverrides = {
      store: this.deps.store,
      ...(this.deps.catalog !== null ? { catalog: this.deps.catalog } : {}),
    };
    return this.deps.open?.(overrides) ?? createRestore(this.deps.config, this.deps.log, overrides);
  }

  /**
   * Validates the request (USAGE naming the option as `label` spells it), then plans it (a dry
   * run, answered at once) or starts it in the background. RESTORE_JOB_LOCKED when it runs here
   * already, RESTORE_JOB_CONFLICT when its --job name holds another request.
   */
  async start(input: RestoreInput, label: OptionLabel): Promise<StartResult> {
    if (this.closed)
      throw new ArchiveError(ErrorCodes.RESTORE_INTERRUPTED, 'the service is stopping', {
        retryable: true,
      });
    const partial = parseRestoreRequest(input, label);
    const targetBrokers = restoreTargetKafka(this.deps.config).brokers;
    const req = { ...partial, targetBrokers };
    const id = jobId(req);
    const spec = canonicalSpec(req);
    const running = this.entries.get(id);
    if (running !== undefined && ['planning', 'running', 'verifying'].includes(running.phase))
      throw new ArchiveError(
        ErrorCodes.RESTORE_JOB_LOCKED,
        `restore job ${id} is already running in this service; poll GET /api/restores/${id}`,
      );
    const holder = await this.store.holder(id);
    if (holder !== null)
      throw new ArchiveError(
        ErrorCodes.RESTORE_JOB_LOCKED,
        `restore job ${id} is being run by another process (${holder}); wait for it or stop it`,
      );
    const existing = await this.store.load(id);
    if (existing !== null && JSON.stringify(existing.spec) !== JSON.stringify(spec))
      throw new ArchiveError(
        ErrorCodes.RESTORE_JOB_CONFLICT,
        `restore job ${id} exists with another request; choose another ${label('job')} name, or repeat that job's own options`,
      );
    if (input.dryRun === true) {
      const service = await this.open();
      try {
        const opts = parseRunOptions(input, service.defaults(), label);
        const o = await service.run(partial, opts);
        if (o.kind !== 'dry-run') throw new ArchiveError(ErrorCodes.INTERNAL, 'not a dry run');
        return { kind: 'dry-run', plan: dryRunView(o, opts) };
      } finally {
        await service.close();
      }
    }
    const service = await this.open();
    let opts;
    try {
      opts = parseRunOptions(input, service.defaults(), label);
    } catch (err) {
      await service.close();
      throw err;
    }
    const entry: Entry = {
      phase: 'planning',
      spec,
      startedAt: Date.now(),
      atStart: null,
      progress: null,
      partitions: new Map(),
      error: null,
      verify: null,
      controller: new AbortController(),
      done: Promise.resolve(),
    };
    this.entries.delete(id); // a finished run of the same job: this one replaces it
    this.entries.set(id, entry);
    this.trim();
    const log = this.log.child({ job: id });
    const signal = entry.controller.signal;
    entry.done = (async () => {
      try {
        await service.run(
          partial,
          opts,
          {
            onStart: (i) => {
              entry.phase = 'running';
              entry.startedAt = Date.now();
              entry.atStart = i.done;
              entry.progress = i.done;
            },
            onProgress: (p) => (entry.progress = p),
            onPartition: (p) => entry.partitions.set(partitionViewKey(p.topic, p.partition), p),
          },
          signal,
        );
        if (input.verify === true && !signal.aborted) {
          entry.phase = 'verifying';
          entry.verify = await service.verify(id);
          if (!entry.verify.ok)
            entry.error = {
              code: ErrorCodes.RESTORE_VERIFY_FAILED,
              message: `verify ${id}: the target differs from the archive (see verify)`,
            };
        }
        entry.phase = entry.error === null ? 'done' : 'failed';
        log.info({ state: entry.phase }, 'restore job ended');
      } catch (err) {
        entry.phase = 'failed';
        entry.error = {
          code: err instanceof ArchiveError ? err.code : ErrorCodes.INTERNAL,
          message:
            err instanceof ArchiveError
              ? err.message
              : 'internal error; the service log has the details',
        };
        log.warn({ code: entry.error.code, err: describeError(err) }, 'restore job failed');
      } finally {
        await service.close().catch(() => undefined);
      }
    })();
    log.info({ dryRun: false }, 'restore job started');
    return { kind: 'started', job: await this.get(id) };
  }

  /** One job: this process's run of it and/or its state in restore.stateDir. */
  async get(id: string): Promise<JobView> {
    if (!JOB_ID.test(id))
      throw new ArchiveError(
        ErrorCodes.RESTORE_JOB_UNKNOWN,
        `no restore job ${JSON.stringify(id.slice(0, 100))} (job ids are letters, digits, ".", "_" and "-")`,
      );
    const live = this.entries.get(id) ?? null;
    const stored = live === null ? await this.store.require(id) : await this.store.load(id);
    const running = live !== null && live.phase !== 'done' && live.phase !== 'failed';
    const recorded =
      stored !== null && stored.status !== 'done' && !running
        ? recordedRecords(await loadRuns(this.store.mapPath(id)).catch(() => []))
        : new Map<string, number>();
    return jobView(id, stored, live, recorded);
  }

  /** Every job: those in restore.stateDir and those this process is planning. */
  async list(): Promise<JobView[]> {
    const ids = new Set([...(await this.store.list()), ...this.entries.keys()]);
    const out: Array<JobView | null> = [];
    for (const id of [...ids].sort()) {
      out.push(
        await this.get(id).catch((err: unknown) => {
          if (err instanceof ArchiveError && err.code === ErrorCodes.RESTORE_JOB_UNKNOWN)
            return null;
          throw err;
        }),
      );
    }
    return out.filter((v): v is JobView => v !== null);
  }

  /** Aborts the running jobs (after their current transaction) and waits for them to end. */
  async close(): Promise<void> {
    this.closed = true;
    const runs = [...this.entries.values()];
    for (const e of runs) e.controller.abort();
    await Promise.all(runs.map((e) => e.done));
  }

  private trim(): void {
    const finished = [...this.entries].filter(
      ([, e]) => e.phase === 'done' || e.phase === 'failed',
    );
    for (const [id] of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED)))
      this.entries.delete(id);
  }
}
