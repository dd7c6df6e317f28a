export { LocalSegmentIndex } from './local-index.js';
export type { LocalSegment } from './local-index.js';
export { archivedOffsets, matchArchivedTopics } from './offsets.js';
export type { PartitionOffsets, OffsetRange } from './offsets.js';
