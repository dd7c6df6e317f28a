import { Catalog, openCatalogForRead } from '../catalog/index.js';
import { tieredSource, type SegmentSource } from '../archive/index.js';
import type { Config } from '../config/index.js';
import { ArchiveError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log/index.js';
import { createObjectStore, type ObjectStore } from '../storage/index.js';

/**
 * Opens the catalog as its one writer. When another process (the running service) holds it, the
 * CATALOG_LOCKED error says what to do instead: `hint`, e.g. "stop the service first".
 */
export async function openCatalogForWrite(
  dir: string,
  hint: string,
  log?: Logger,
): Promise<Catalog> {
  try {
    return await Catalog.open(dir, { writable: true, ...(log !== undefined ? { log } : {}) });
  } catch (err) {
    if (err instanceof ArchiveError && err.code === ErrorCodes.CATALOG_LOCKED) {
      throw new ArchiveError(ErrorCodes.CATALOG_LOCKED, `${err.message}: ${hint}`, {
        ...(err.details !== undefined ? { details: err.details } : {}),
      });
    }
    throw err;
  }
}

/** What reading needs: the catalog and a way to open its segments from either tier. */
export interface ArchiveReader {
  catalog: Catalog;
  source: SegmentSource;
  store: ObjectStore;
  close(): Promise<void>;
}

/** The archive opened for reading (never takes the writer lock; works beside a running service). */
export async function openArchiveForRead(config: Config, log: Logger): Promise<ArchiveReader> {
  const store = createObjectStore(config.storage, log);
  const catalog = await openCatalogForRead(config.catalog.dir, config.archiver.hotDir, log);
  return {
    catalog,
    source: tieredSource(config.archiver.hotDir, store),
    store,
    async close() {
      await catalog.close();
      await store.close();
    },
  };
}
