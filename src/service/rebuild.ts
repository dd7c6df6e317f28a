import { randomUUID } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { LocalSegmentIndex } from '../archive/index.js';
import {
  adoptObjects,
  Catalog,
  mergeRebuilt,
  reconcileHot,
  type MergeResult,
} from '../catalog/index.js';
import type { Config } from '../config/index.js';
import { ArchiveError, describeError, ErrorCodes, isArchiveError } from '../errors.js';
import type { Logger } from '../log/index.js';
import { createObjectStore } from '../storage/index.js';
import type { Tierer } from '../tiering/index.js';
import { openCatalogForWrite } from './catalog.js';

/** How often a rebuild reports progress (log lines, on stderr for the CLI). */
const PROGRESS_MS = 5_000;

export interface RebuildResult {
  catalogDir: string;
  segments: number;
  /** Segments read: hot files' and objects' footers, and objects taken from segment indexes. */
  read: number;
  /** Of those, objects of the store. */
  cold: number;
  /** Of those, objects taken from their partition's segment index (no footer read). */
  indexed: number;
  quarantined: string[];
  seconds: number;
  segmentsPerSecond: number;
  /** Who rebuilt it: this process (`local`), or the running service through its API. */
  via: 'local' | 'service';
  /** Service only: what changed in its live catalog (see mergeRebuilt). */
  merge?: MergeResult;
}

export interface RebuildProgress {
  /** hot: footers of the hot tier; objects: listing and footers of the bucket; merge: applying. */
  phase: 'hot' | 'objects' | 'merge';
  /** Segment objects listed so far. */
  listed: number;
  /** Segments read so far (hot files plus objects, footers and segment-index entries). */
  read: number;
  /** Of those, objects taken from their partition's segment index. */
  indexed: number;
  seconds: number;
  footersPerSecond: number;
}

interface ScanOptions {
  concurrency: number;
  /** Take objects from the partitions' segment indexes (adoptObjects' useIndex). */
  useIndex: boolean;
  progress: (p: RebuildProgress) => void;
  /** Runs the hot-tier scan so that nothing removes a hot file meanwhile (the service's tierer). */
  holdHot?: <T>(fn: () => Promise<T>) => Promise<T>;
  signal?: AbortSignal;
}

/**
 * Reads every segment's footer into `next`: hot files (reconcileHot), then every object in the
 * store (adoptObjects, range requests). Entries already in `next` (an interrupted rebuild) are
 * not read again; its hot entries are checked against the hot tier.
 */
async function scanInto(
  next: Catalog,
  config: Config,
  log: Logger,
  options: ScanOptions,
): Promise<{ hotRead: number; cold: number; indexed: number; quarantined: string[] }> {
  const t0 = Date.now();
  const report = (phase: RebuildProgress['phase'], listed: number, read: number, indexed = 0) => {
    const seconds = (Date.now() - t0) / 1000;
    options.progress({
      phase,
      listed,
      read,
      indexed,
      seconds: Math.round(seconds * 10) / 10,
      footersPerSecond: Math.round(read / Math.max(0.001, seconds)),
    });
  };
  report('hot', 0, 0);
  const hot = new LocalSegmentIndex(config.archiver.hotDir);
  const scanHot = () => reconcileHot(next, hot, log, { concurrency: options.concurrency });
  const r = await (options.holdHot !== undefined ? options.holdHot(scanHot) : scanHot());
  options.signal?.throwIfAborted();
  report('objects', 0, r.adopted);
  const store = createObjectStore(config.storage, log);
  try {
    let indexed = 0;
    const cold = await adoptObjects(next, store, config.archiver.hotDir, log, {
      concurrency: options.concurrency,
      useIndex: options.useIndex,
      progress: (p) => {
        options.signal?.throwIfAborted(); // ends the listing (adoptObjects rethrows it)
        indexed = p.indexed;
        report('objects', p.listed, r.adopted + p.read + p.indexed, p.indexed);
      },
    });
    return { hotRead: r.adopted, cold, indexed, quarantined: r.quarantined };
  } finally {
    await store.close();
  }
}

/** Progress as log lines, at most every PROGRESS_MS (and at each new phase). */
function progressLogger(log: Logger): (p: RebuildProgress) => void {
  let last = 0;
  let phase = '';
  return (p) => {
    if (p.phase === phase && Date.now() - last < PROGRESS_MS) return;
    last = Date.now();
    phase = p.phase;
    log.info(
      { ...p },
      `catalog rebuild: ${p.phase === 'objects' ? 'reading object footers' : p.phase === 'hot' ? 'reading hot segment footers' : 'applying'}`,
    );
  };
}

/**
 * Rebuilds the catalog from the segments alone: hot files, then every segment object in the
 * store (footers read with range requests), into `<dir>.rebuild`, which then replaces the
 * catalog. Resumable: entries already in an interrupted rebuild's log are not read again.
 * Refuses (CATALOG_LOCKED) while the service writes the catalog: the CLI then asks the service
 * (CatalogRebuilds below).
 */
export async function rebuildCatalog(
  config: Config,
  log: Logger,
  options: { concurrency: number; useIndex: boolean },
): Promise<RebuildResult> {
  const dir = config.catalog.dir;
  const work = `${dir}.rebuild`;
  const t0 = Date.now();
  // Refuse while the service writes the catalog (it holds the writer lock).
  await (
    await openCatalogForWrite(
      dir,
      'the running service rebuilds its own catalog through its API (server.enabled)',
      log,
    )
  ).close();
  const next = await Catalog.open(work, { writable: true, log });
  let scan: Awaited<ReturnType<typeof scanInto>>;
  try {
    scan = await scanInto(next, config, log, {
      concurrency: options.concurrency,
      useIndex: options.useIndex,
      progress: progressLogger(log),
    });
    await next.compact();
  } finally {
    await next.close();
  }
  await rm(`${dir}.old`, { recursive: true, force: true });
  await rename(dir, `${dir}.old`).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(work, dir);
  await rm(`${dir}.old`, { recursive: true, force: true });
  const seconds = (Date.now() - t0) / 1000;
  const read = scan.hotRead + scan.cold;
  return {
    catalogDir: dir,
    segments: next.size,
    read,
    cold: scan.cold,
    indexed: scan.indexed,
    quarantined: scan.quarantined,
    seconds,
    segmentsPerSecond: Math.round(read / Math.max(0.001, seconds)),
    via: 'local',
  };
}

/** A rebuild job of the running service, as GET /api/catalog/rebuild/{id} shows it. */
export interface RebuildJobView {
  id: string;
  state: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  concurrency: number;
  progress: RebuildProgress;
  result: RebuildResult | null;
  error: { code: string; error: string } | null;
}

export interface CatalogRebuildsDeps {
  config: Config;
  log: Logger;
  /** The service's live catalog; null when another process writes it. */
  catalog: Catalog | null;
  /** The service's tierer (held while the hot tier is read), null when tiering is off. */
  tierer: Pick<Tierer, 'hold'> | null;
}

/** Jobs kept for GET after they finish. */
const KEEP_JOBS = 10;

/**
 * `catalog rebuild` inside the running service, beside its writers (archiver seals, tierer,
 * the periodic hot-tier check), with no pause of archiving:
 *
 *   1. watch the live catalog: every entry its writers put or remove from now on is noted
 *   2. scan into <dir>.rebuild, exactly as the CLI does (hot tier with tiering held, so no hot
 *      file is evicted under the scan; then the bucket, with tiering running)
 *   3. merge into the live catalog (mergeRebuilt): every entry not written since step 1 becomes
 *      what the scan found (added, corrected, or dropped when its segment is neither on the hot
 *      tier nor in the bucket); entries written since step 1 are newer than the scan and kept
 *
 * The live catalog is never closed or swapped, so readers, restore jobs and the archiver's
 * high-water marks see it throughout. One job at a time (409 CATALOG_REBUILD_RUNNING).
 */
export class CatalogRebuilds {
  private readonly jobs = new Map<string, RebuildJobView>();
  private running: { id: string; done: Promise<void>; abort: AbortController } | null = null;

  constructor(private readonly deps: CatalogRebuildsDeps) {}

  start(options: { concurrency: number; useIndex: boolean }): RebuildJobView {
    const catalog = this.deps.catalog;
    if (catalog === null) {
      throw new ArchiveError(
        ErrorCodes.CATALOG_LOCKED,
        'this process does not hold the catalog (another process sharing it writes it): ask that process',
      );
    }
    if (this.running !== null) {
      throw new ArchiveError(
        ErrorCodes.CATALOG_REBUILD_RUNNING,
        `a catalog rebuild is already running (job ${this.running.id}): poll /api/catalog/rebuild/${this.running.id}`,
        { details: { id: this.running.id } },
      );
    }
    const id = randomUUID();
    const view: RebuildJobView = {
      id,
      state: 'running',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      concurrency: options.concurrency,
      progress: { phase: 'hot', listed: 0, read: 0, indexed: 0, seconds: 0, footersPerSecond: 0 },
      result: null,
      error: null,
    };
    this.jobs.set(id, view);
    for (const old of this.jobs.keys()) {
      if (this.jobs.size <= KEEP_JOBS) break;
      if (old !== id) this.jobs.delete(old);
    }
    const abort = new AbortController();
    const done = this.run(catalog, view, options.useIndex, abort.signal).finally(
      () => (this.running = null),
    );
    this.running = { id, done, abort };
    return { ...view };
  }

  get(id: string): RebuildJobView {
    const v = this.jobs.get(id);
    if (v === undefined)
      throw new ArchiveError(
        ErrorCodes.NOT_FOUND,
        `no catalog rebuild job ${JSON.stringify(id)} in this service (jobs are kept until it restarts)`,
      );
    return { ...v, progress: { ...v.progress } };
  }

  /** Stops a running rebuild (its <dir>.rebuild is kept: the next one resumes from it). */
  async close(): Promise<void> {
    const r = this.running;
    if (r === null) return;
    r.abort.abort();
    await r.done;
  }

  private async run(
    live: Catalog,
    view: RebuildJobView,
    useIndex: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const { config, log: parent, tierer } = this.deps;
    const log = parent.child({ component: 'catalog-rebuild', job: view.id });
    const t0 = Date.now();
    const written = new Set<string>();
    const unwatch = live.watch((k) => written.add(k));
    const work = `${config.catalog.dir}.rebuild`;
    const logProgress = progressLogger(log);
    try {
      log.info(
        { catalogDir: config.catalog.dir, concurrency: view.concurrency },
        'catalog rebuild started',
      );
      const next = await Catalog.open(work, { writable: true, log });
      let scan: Awaited<ReturnType<typeof scanInto>>;
      let merge: MergeResult;
      try {
        scan = await scanInto(next, config, log, {
          concurrency: view.concurrency,
          useIndex,
          progress: (p) => {
            view.progress = p;
            logProgress(p);
          },
          ...(tierer !== null ? { holdHot: <T>(fn: () => Promise<T>) => tierer.hold(fn) } : {}),
          signal,
        });
        view.progress = { ...view.progress, phase: 'merge' };
        logProgress(view.progress);
        merge = await mergeRebuilt(live, next, written);
      } finally {
        await next.close();
      }
      await rm(work, { recursive: true, force: true });
      const seconds = (Date.now() - t0) / 1000;
      const read = scan.hotRead + scan.cold;
      view.result = {
        catalogDir: config.catalog.dir,
        segments: live.size,
        read,
        cold: scan.cold,
        indexed: scan.indexed,
        quarantined: scan.quarantined,
        seconds,
        segmentsPerSecond: Math.round(read / Math.max(0.001, seconds)),
        via: 'service',
        merge,
      };
      view.state = 'done';
      log.info(
        { ...view.result, quarantined: scan.quarantined.length },
        'catalog rebuilt in the running service',
      );
    } catch (err) {
      view.state = 'failed';
      view.error = signal.aborted
        ? {
            code: ErrorCodes.CATALOG_REBUILD_INTERRUPTED,
            error:
              'the service stopped during the catalog rebuild; run it again: it resumes where it stopped',
          }
        : {
            code: isArchiveError(err) ? err.code : ErrorCodes.INTERNAL,
            error: isArchiveError(err) ? err.message : describeError(err),
          };
      log.error(
        { ...view.error, err: describeError(err) },
        'catalog rebuild failed; the live catalog is unchanged',
      );
    } finally {
      unwatch();
      view.finishedAt = new Date().toISOString();
    }
  }
}
