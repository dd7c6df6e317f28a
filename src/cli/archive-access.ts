import {
  createObjectStore,
  openCatalogForRead,
  tieredSource,
  type Catalog,
  type ObjectStore,
  type SegmentSource,
} from '../index.js';
import type { CommandContext } from './context.js';

/** What the reading commands use: the catalog and a way to open its segments from either tier. */
export async function openArchive(
  ctx: CommandContext,
): Promise<{ catalog: Catalog; source: SegmentSource; store: ObjectStore }> {
  const { catalog: c, archiver, storage } = ctx.config;
  const store = createObjectStore(storage, ctx.log);
  return {
    catalog: await openCatalogForRead(c.dir, archiver.hotDir, ctx.log),
    source: tieredSource(archiver.hotDir, store),
    store,
  };
}
