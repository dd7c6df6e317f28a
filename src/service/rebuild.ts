import { rename, rm } from 'node:fs/promises';
import { LocalSegmentIndex } from '../archive/index.js';
import { adoptObjects, Catalog, reconcileHot } from '../catalog/index.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { createObjectStore } from '../storage/index.js';
import { openCatalogForWrite } from './catalog.js';

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
  await (await openCatalogForWrite(dir, 'stop the service before rebuilding its catalog')).close();
  const next = await Catalog.open(work, { writable: true });
  const r = await reconcileHot(next, new LocalSegmentIndex(config.archiver.hotDir), log, {
    concurrency: options.concurrency,
  });
  const store = createObjectStore(config.storage, log);
  let cold: number;
  try {
    cold = await adoptObjects(next, store, config.archiver.hotDir, log);
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
