import {
  decideGeneration,
  listGenerations,
  recordGeneration,
  streamName,
  type GenerationRecord,
} from '../archive/index.js';
import type { ArchivedHighWatermark } from '../catalog/index.js';
import { ErrorCodes } from '../errors.js';
import type { Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/index.js';

/** What the resolver needs to know of the topic in Kafka now. */
export interface TopicFacts {
  /** Kafka's topic id, null when the client does not read it. */
  topicId: string | null;
  /** Log end offset (high-water mark) per partition, null when it could not be read. */
  logEnds: Map<number, bigint> | null;
}

/** Attempts at recording a new generation when other members keep winning the race. */
const RECORD_ATTEMPTS = 5;

/**
 * Maps a topic, as Kafka shows it now, to the stream of its generation (archive/layout.ts):
 * generation records in the object store (archive/generations.ts) are shared by every member,
 * so all of them archive one incarnation under one generation.
 */
export class GenerationResolver {
  constructor(
    private readonly deps: {
      store: ObjectStore;
      index: ArchivedHighWatermark;
      log: Logger;
      now?: () => number;
    },
  ) {}

  async streamOf(
    topic: string,
    facts: TopicFacts,
  ): Promise<{ stream: string; record: GenerationRecord }> {
    const { store, log } = this.deps;
    for (let attempt = 0; ; attempt++) {
      const records = await listGenerations(store, topic);
      const newest = records[records.length - 1];
      const logsEndBelowArchive =
        newest !== undefined && facts.topicId === null
          ? await this.logsEndBelow(streamName(topic, newest.generation), facts.logEnds)
          : false;
      const decision = decideGeneration(topic, records, {
        topicId: facts.topicId,
        logsEndBelowArchive,
        now: this.deps.now?.() ?? Date.now(),
      });
      if (decision.kind === 'existing') {
        return { stream: streamName(topic, decision.record.generation), record: decision.record };
      }
      const { record, written } = await recordGeneration(store, decision.record);
      if (written) {
        if (record.generation > 1) {
          log.warn(
            {
              code: ErrorCodes.TOPIC_GENERATION_NEW,
              topic,
              generation: record.generation,
              topicId: record.topicId,
              previousTopicId: record.previousTopicId,
              reason: record.reason,
            },
            record.reason === 'topic-id'
              ? `topic ${topic} was deleted and re-created (Kafka topic id ${record.topicId ?? '?'}, was ${record.previousTopicId ?? '?'}): archiving it as generation ${record.generation}, apart from the records of generation ${record.generation - 1}`
              : `the partition logs of ${topic} end below what generation ${record.generation - 1} archived (the topic was re-created, or its logs truncated; the client gives no topic id to tell which): archiving it as generation ${record.generation}, apart from the archived records`,
          );
        } else {
          log.info({ topic, topicId: record.topicId }, 'topic generation 1 recorded');
        }
        return { stream: streamName(topic, record.generation), record };
      }
      if (attempt + 1 >= RECORD_ATTEMPTS) {
        return { stream: streamName(topic, record.generation), record };
      }
      // Another member recorded this number first: decide again with its record.
    }
  }

  /** Some partition's log ends below the stream's archived high-water mark + 1. */
  private async logsEndBelow(
    stream: string,
    logEnds: Map<number, bigint> | null,
  ): Promise<boolean> {
    if (logEnds === null) return false;
    for (const [partition, high] of logEnds) {
      const hwm = await this.deps.index.highWatermark(stream, partition);
      if (hwm !== null && high <= hwm) return true;
    }
    return false;
  }
}
