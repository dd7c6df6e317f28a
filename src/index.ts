/**
 * kafka-archive's public API: the typed surface the CLI and the HTTP server are built on.
 * Re-exports only; the wiring of concrete parts lives in src/service/ (the composition root).
 */
export * from './errors.js';
export * from './config/index.js';
export { createLogger } from './log/index.js';
export type { Logger } from './log/index.js';
export type { KafkaHeader, KafkaRecord } from './record.js';
export type * from './kafka/types.js';
export { createKafkajsClient } from './kafka/index.js';
export * from './archive/index.js';
export * from './segment/index.js';
export { Archiver, GroupSnapshotter, groupMatcher } from './archiver/index.js';
export type {
  ArchiverDeps,
  ArchiverStats,
  GroupSnapshotterDeps,
  SealedSegmentEvent,
  SnapshotRound,
} from './archiver/index.js';
export * from './catalog/index.js';
export * from './storage/index.js';
export * from './tiering/index.js';
export * from './disk/index.js';
export * from './service/index.js';
// Two modules name a BrokerLogDirs: the disk one (a broker's log.dirs from server.properties)
// keeps the public name; Kafka's DescribeLogDirs answer is exported as DescribedLogDirs.
export type { BrokerLogDirs } from './disk/index.js';
export type { BrokerLogDirs as DescribedLogDirs } from './kafka/types.js';
