import {
  FetchIsolationLevels,
  type ClusterMetadata,
  type ConnectionPool,
  type Consumer,
} from '@platformatic/kafka';
import type { FetchSizes, PartitionBatch } from '../types.js';
import { hasApiError, responseOf } from './errors.js';
import { decodePartition, type RawPartition } from './records.js';

/**
 * The fetch wait. The sizes are `kafka.fetch.*`: @platformatic/kafka parses and decompresses a
 * whole fetch response in one synchronous step on the event loop (lz4 in WebAssembly, zstd
 * through zlib's sync call), about 6 ms of CPU per MiB on the wire for parsing plus 2 ms for this
 * adapter's decoding (lz4 batches of 1 KiB records, 2.4x compression).
 */
export const FETCH = {
  maxWaitMs: 500,
} as const;

export const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export interface Requested {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface Round {
  /** The join generation (this adapter's count) the round was started in. */
  generation: number;
  /** Fetch requests sent (0: no partition had a leader). */
  requests: number;
  requested: Map<string, Requested>;
  /** Decoded batches in response order, per node. */
  batches: PartitionBatch[];
  /** Partitions whose fetch offset is out of range, with the log start the broker reported. */
  outOfRange: Array<Requested & { logStartOffset: bigint; highWatermark: bigint }>;
  /** Errors of nodes (or partitions) that failed; the round's other data is still good. */
  errors: unknown[];
}

const OFFSET_OUT_OF_RANGE = 1;

type RawPartitionWithError = RawPartition & {
  errorCode: number;
  logStartOffset: bigint;
};

/**
 * One fetch round: the wanted partitions at their offsets, one Fetch request per partition
 * leader (topics by id, as Fetch v13+ wants) on the adapter's own connection pool, read_committed,
 * bounded sizes; every partition of the responses decoded. Never rejects: failures are in
 * `errors`, and the partitions that did answer are still used (a response with failed partitions
 * arrives as an error that carries it).
 */
export async function fetchRound(
  consumer: Consumer,
  pool: ConnectionPool,
  topics: string[],
  wanted: Requested[],
  generation: number,
  sizes: FetchSizes,
): Promise<Round> {
  const requested = new Map(wanted.map((r) => [keyOf(r.topic, r.partition), r]));
  const out: Round = {
    generation,
    requests: 0,
    requested,
    batches: [],
    outOfRange: [],
    errors: [],
  };
  let metadata: ClusterMetadata;
  try {
    metadata = await consumer.metadata({ topics });
  } catch (err) {
    out.errors.push(err);
    return out;
  }
  // One request per partition leader; topics by id, as Fetch v13+ wants.
  const byNode = new Map<number, Map<string, Requested[]>>();
  const names = new Map<string, string>();
  for (const r of wanted) {
    const t = metadata.topics.get(r.topic);
    const leader = t?.partitions[r.partition]?.leader;
    if (t === undefined || leader === undefined || leader < 0) continue;
    names.set(t.id, r.topic);
    let topics = byNode.get(leader);
    if (topics === undefined) byNode.set(leader, (topics = new Map()));
    const list = topics.get(t.id) ?? [];
    list.push(r);
    topics.set(t.id, list);
  }
  out.requests = byNode.size;
  const settled = await Promise.allSettled(
    [...byNode].map(([node, topics]) =>
      consumer.fetch({
        node,
        connectionPool: pool,
        minBytes: 1,
        maxBytes: sizes.maxBytes,
        maxWaitTime: FETCH.maxWaitMs,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
        topics: [...topics].map(([topicId, parts]) => ({
          topicId,
          partitions: parts.map((p) => ({
            partition: p.partition,
            fetchOffset: p.offset,
            partitionMaxBytes: sizes.maxBytesPerPartition,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          })),
        })),
      }),
    ),
  );
  for (const s of settled) {
    // A response with failed partitions arrives as an error that carries it.
    const response = (s.status === 'fulfilled' ? s.value : responseOf(s.reason)) as
      | { responses?: Array<{ topicId: string; partitions: Array<RawPartitionWithError> }> }
      | undefined;
    if (s.status === 'rejected') out.errors.push(s.reason);
    for (const t of response?.responses ?? []) {
      const topic = names.get(t.topicId);
      if (topic === undefined) continue;
      for (const p of t.partitions) {
        const req = requested.get(keyOf(topic, p.partitionIndex));
        if (req === undefined) continue; // lingering in the fetch session, not asked for
        if (p.errorCode === OFFSET_OUT_OF_RANGE) {
          out.outOfRange.push({
            ...req,
            logStartOffset: p.logStartOffset,
            highWatermark: p.highWatermark,
          });
          continue;
        }
        if (p.errorCode !== 0) continue;
        const batch = decodePartition(topic, p, req.offset);
        if (batch !== null) out.batches.push(batch);
      }
    }
  }
  if (out.outOfRange.length > 0 && out.errors.every((e) => hasApiError(e, 'OFFSET_OUT_OF_RANGE')))
    out.errors = [];
  return out;
}
