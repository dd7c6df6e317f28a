export { Catalog, catalogWriter } from './store.js';
export type { CatalogOpenOptions, CatalogSummary } from './store.js';
export { entryFromMeta, entryKey, entryTiers } from './entry.js';
export type { CatalogEntry, Tier } from './entry.js';
export { PartitionSegments } from './partition-segments.js';
export { reconcileHot, forEachLimit } from './reconcile.js';
export type { ReconcileResult } from './reconcile.js';
export { openCatalogForRead } from './open.js';
export {
  archivedOffsets,
  lookupTime,
  archivedGenerations,
  archivedStream,
  matchArchivedTopics,
  readRecords,
  requireDataAtTime,
  topicSpecMatcher,
} from './query.js';
export type {
  GenerationChoice,
  OffsetRange,
  PartitionOffsets,
  ReadRequest,
  TimeLookup,
} from './query.js';
export { adoptObjects } from './adopt.js';
export type { AdoptOptions, AdoptProgress } from './adopt.js';
export { archivedHighWatermark } from './high-watermark.js';
export type { ArchivedHighWatermark } from './high-watermark.js';
export { mergeRebuilt } from './merge.js';
export type { MergeResult } from './merge.js';
export {
  decodeSegmentIndex,
  encodeSegmentIndex,
  readSegmentIndex,
  writeSegmentIndex,
} from './segment-index.js';
