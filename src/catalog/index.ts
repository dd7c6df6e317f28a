export { LocalSegmentIndex } from './local-index.js';
export type { LocalSegment } from './local-index.js';
export { Catalog } from './store.js';
export type { CatalogOpenOptions } from './store.js';
export { entryFromMeta, entryKey, entryTiers } from './entry.js';
export type { CatalogEntry, Tier } from './entry.js';
export { PartitionSegments } from './partition-segments.js';
export { reconcileHot, forEachLimit } from './reconcile.js';
export type { ReconcileResult } from './reconcile.js';
export { openCatalogForRead } from './open.js';
export {
  archivedOffsets,
  hotSource,
  lookupTime,
  matchArchivedTopics,
  readRecords,
  requireDataAtTime,
  topicSpecMatcher,
} from './query.js';
export type {
  OffsetRange,
  PartitionOffsets,
  ReadRequest,
  SegmentSource,
  TimeLookup,
} from './query.js';
