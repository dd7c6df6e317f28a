export { Archiver } from './archiver.js';
export type { ArchiverDeps, ArchiverStats, SealedSegmentEvent } from './archiver.js';
export { resolveTopics } from './topic-resolver.js';
export { GroupSnapshotter, groupMatcher } from './group-snapshots.js';
export type { GroupSnapshotterDeps, SnapshotRound } from './group-snapshots.js';
export { GenerationResolver } from './generations.js';
export type { TopicFacts } from './generations.js';
