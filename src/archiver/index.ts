export { Archiver } from './archiver.js';
export type { ArchiverDeps, ArchiverStats, SealedSegmentEvent } from './archiver.js';
export { resolveTopics } from './topic-resolver.js';
