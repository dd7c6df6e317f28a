import { Consumer, FetchIsolationLevels } from '@platformatic/kafka';
import { randomUUID } from 'node:crypto';
import { ArchiveError, ErrorCodes } from '../../errors.js';
import type { Logger } from '../../log/index.js';
import { backoffMs, sleep } from '../../util/backoff.js';
import type { FetchSizes, KafkaRecord, PartitionRange, TopicPartition } from '../types.js';
import { describeKafkaError, toArchiveError } from './errors.js';
import { fetchRound, keyOf, type Requested } from './fetch-round.js';
import { fetchPool, forwardClientEvents, type ClientSettings } from './options.js';

/** Consecutive failed fetch rounds before giving up (with back-off, about a minute). */
const MAX_FAILURES = 8;

/**
 * Committed records of partition ranges, outside any consumer group: the adapter's fetch rounds
 * (read_committed) from each range's start until every position reached its end. Positions
 * follow each batch's end, so transaction markers and aborted records count as passed.
 */
export async function readCommittedRanges(
  settings: ClientSettings,
  ranges: PartitionRange[],
  onRecords: (tp: TopicPartition, records: KafkaRecord[]) => Promise<void> | void,
  log: Logger,
  sizes: FetchSizes,
): Promise<void> {
  const want = new Map<string, PartitionRange>();
  const position = new Map<string, bigint>();
  for (const r of ranges) {
    if (r.toOffset <= r.fromOffset) continue;
    want.set(keyOf(r.topic, r.partition), r);
    position.set(keyOf(r.topic, r.partition), r.fromOffset);
  }
  if (want.size === 0) return;
  const topics = [...new Set([...want.values()].map((r) => r.topic))];
  // Fetching needs no group membership; the group id is never joined.
  const consumer = new Consumer({
    ...settings,
    retries: 3,
    groupId: `kafka-archive-reader-${randomUUID()}`,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    autocommit: false,
  });
  forwardClientEvents(consumer, log);
  consumer.topics.trackAll(...topics);
  const pool = fetchPool(settings, log);
  try {
    for (let failures = 0; want.size > 0;) {
      const wanted: Requested[] = [...want].map(([k, r]) => ({
        topic: r.topic,
        partition: r.partition,
        offset: position.get(k) ?? r.fromOffset,
      }));
      const round = await fetchRound(consumer, pool, topics, wanted, 0, sizes);
      if (round.outOfRange.length > 0) {
        const r = round.outOfRange[0] as (typeof round.outOfRange)[number];
        throw new ArchiveError(
          ErrorCodes.KAFKA_REQUEST_FAILED,
          `reading ${r.topic}/${r.partition} from offset ${r.offset}: out of range (log start ${r.logStartOffset}, high-water mark ${r.highWatermark})`,
        );
      }
      if (round.batches.length === 0 && (round.errors.length > 0 || round.requests === 0)) {
        failures++;
        consumer.clearMetadata();
        if (failures >= MAX_FAILURES) {
          throw toArchiveError(
            round.errors.at(-1) ?? 'no partition leader',
            `reading ${topics.join(', ')}`,
          );
        }
        log.debug(
          { attempt: failures, err: describeKafkaError(round.errors.at(-1)) },
          'fetch failed; retrying',
        );
        await sleep(backoffMs(failures, 300, 30_000));
        continue;
      }
      failures = 0;
      for (const b of round.batches) {
        const k = keyOf(b.topic, b.partition);
        const r = want.get(k);
        if (r === undefined) continue;
        const records = b.records.filter((x) => x.offset < r.toOffset);
        if (records.length > 0)
          await onRecords({ topic: b.topic, partition: b.partition }, records);
        position.set(k, b.nextOffset);
        if (b.nextOffset >= r.toOffset) want.delete(k);
      }
    }
  } finally {
    await consumer.close(true).catch(() => undefined);
    await pool.close().catch(() => undefined);
  }
}
