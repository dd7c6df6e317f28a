import { rename, rm } from 'node:fs/promises';
import { LocalSegmentIndex } from '../archive/index.js';
import { adoptObjects, Catalog, reconcileHot } from '../catalog/index.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { createObjectStore } from '../storage/index.js';
import { openCatalogForWrite } from './catalog.js';

/** How often a rebuild reports progress (log lines, on stderr for the CLI). */
const PROGRESS_MS = 5_000;

export interface RebuildResult {
  catalogDir: string;
  segments: number;
  /** Footers read (hot files plus objects). */
  read: number;
  /** Of those, objects read from the store. */
  cold: number;
  quarantined: string[];
  seconds: number;
  segmentsPerSecond: number;
}

/**
 * Rebuilds the catalog from the segments alone: hot files, then every segment object in the
 * store (footers read with range requests), into `<dir>.rebuild`, which then replaces the
 * catalog. Resumable: entries already in an interrupted rebuild's log are not read again.
 */
export async function rebuildCatalog(
  config: Config,
  log: Logger,
  options: { concurrency: number },
): Promise<RebuildResult> {
  const dir = config.catalog.dir;
  const work = `${dir}.rebuild`;
  const t0 = Date.now();
  // Refuse while the service writes the catalog (it holds the writer lock).
  await (
    await openCatalogForWrite(dir, 'stop the service before rebuilding its catalog', log)
  ).close();
  const next = await Catalog.open(work, { writable: true, log });
  const r = await reconcileHot(next, new LocalSegmentIndex(config.archiver.hotDir), log, {
    concurrency: options.concurrency,
  });
  const store = createObjectStore(config.storage, log);
  let cold: number;
  try {
    let lastReport = Date.now();
    cold = await adoptObjects(next, store, config.archiver.hotDir, log, {
      concurrency: options.concurrency,
      progress: (p) => {
        if (Date.now() - lastReport < PROGRESS_MS) return;
        lastReport = Date.now();
        const s = (Date.now() - t0) / 1000;
        log.info(
          {
            ...p,
            seconds: Math.round(s),
            footersPerSecond: Math.round(p.read / Math.max(0.001, s)),
          },
          'catalog rebuild: reading object footers',
        );
      },
    });
  } finally {
    await store.close();
  }
  await next.compact();
  await next.close();
  await rm(`${dir}.old`, { recursive: true, force: true });
  await rename(dir, `${dir}.old`).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(work, dir);
  await rm(`${dir}.old`, { recursive: true, force: true });
  const seconds = (Date.now() - t0) / 1000;
  return {
    catalogDir: dir,
    segments: next.size,
    read: r.adopted + cold,
    cold,
    quarantined: r.quarantined,
    seconds,
    segmentsPerSecond: Math.round((r.adopted + cold) / Math.max(0.001, seconds)),
  };
}
