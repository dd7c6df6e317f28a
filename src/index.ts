/**
 * kafka-archive library entry and composition root: the one place where concrete backends
 * (kafkajs, the DuckDB segment writer, the local hot-tier index) are chosen. The CLI is a thin
 * layer over these functions.
 */
import type { Config } from './config/index.js';
import type { Logger } from './log/index.js';
import { createKafkajsClient, type KafkaClient } from './kafka/index.js';
import { LocalSegmentIndex } from './catalog/index.js';
import { SegmentWriter } from './segment/index.js';
import { Archiver } from './archiver/index.js';

export * from './errors.js';
export * from './config/index.js';
export { createLogger } from './log/index.js';
export type { Logger } from './log/index.js';
export type * from './kafka/types.js';
export { createKafkajsClient } from './kafka/index.js';
export { LocalSegmentIndex } from './catalog/index.js';
export type { LocalSegment } from './catalog/index.js';
export * from './segment/index.js';
export { Archiver } from './archiver/index.js';
export type { ArchiverStats, SealedSegmentEvent } from './archiver/index.js';
export { archivedOffsets } from './catalog/index.js';
export type { PartitionOffsets, OffsetRange } from './catalog/index.js';

export function createKafkaClient(config: Config, log: Logger): KafkaClient {
  return createKafkajsClient(config.kafka, log);
}

export interface ArchiverService {
  archiver: Archiver;
  close(): Promise<void>;
}

/** Build the archiver with its production dependencies. Call start() on the result. */
export function createArchiver(config: Config, log: Logger): ArchiverService {
  const writer = new SegmentWriter();
  const archiver = new Archiver({
    kafka: createKafkaClient(config, log),
    config: config.archiver,
    writer,
    index: new LocalSegmentIndex(config.archiver.hotDir),
    log: log.child({ component: 'archiver' }),
  });
  return {
    archiver,
    async close() {
      await archiver.stop();
      writer.close();
    },
  };
}
