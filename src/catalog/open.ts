import type { Logger } from '../log/index.js';
import { LocalSegmentIndex } from '../archive/index.js';
import { reconcileHot } from './reconcile.js';
import { Catalog } from './store.js';

/**
 * The catalog as a reading command sees it: the persisted one when the service (or `catalog
 * rebuild`) has written it, else one built in memory from the hot directory's segment footers.
 */
export async function openCatalogForRead(
  catalogDir: string,
  hotDir: string,
  log: Logger,
): Promise<Catalog> {
  if (await Catalog.exists(catalogDir)) return Catalog.open(catalogDir, { writable: false });
  log.info(
    { catalogDir, hotDir },
    'no catalog yet: reading segment footers from the hot directory (run `kafka-archive catalog rebuild` to persist one)',
  );
  const catalog = Catalog.memory();
  await reconcileHot(catalog, new LocalSegmentIndex(hotDir), log);
  return catalog;
}
