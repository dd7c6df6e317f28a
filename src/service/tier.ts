import { LocalSegmentIndex } from '../archive/index.js';
import { reconcileHot } from '../catalog/index.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { createObjectStore } from '../storage/index.js';
import { Tierer, type TierFilter, type TierRoundResult } from '../tiering/index.js';
import { openCatalogForWrite } from './catalog.js';

export interface TierPassResult extends TierRoundResult {
  /** Where the segments went (the object store's description). */
  store: string;
}

/**
 * One tiering pass by hand (`kafka-archive tier`): the catalog checked against the hot
 * directory, objects left by a crash adopted, then one round under the filter. Needs the catalog
 * writer lock, so the running service (which tiers on its own) must be stopped.
 */
export async function runTierPass(
  config: Config,
  log: Logger,
  filter: Omit<TierFilter, 'evict' | 'maxBytes'>,
): Promise<TierPassResult> {
  const catalog = await openCatalogForWrite(
    config.catalog.dir,
    'the running service tiers on its own (tiering.minAgeMs); stop it to tier by hand',
    log,
  );
  const store = createObjectStore(config.storage, log);
  try {
    await reconcileHot(catalog, new LocalSegmentIndex(config.archiver.hotDir), log);
    const tierer = new Tierer({
      catalog,
      store,
      hotDir: config.archiver.hotDir,
      config: config.tiering,
      log,
      segmentOptions: {
        compression: config.archiver.compression,
        rowGroupBytes: config.archiver.rowGroupBytes,
      },
    });
    await store.checkAccess();
    await tierer.adoptObjects();
    try {
      return { ...(await tierer.runOnce(filter)), store: store.description };
    } finally {
      await tierer.stop(); // its segment writer, if it trimmed a segment
    }
  } finally {
    await catalog.close();
    await store.close();
  }
}
