import type { KafkaHeader, KafkaRecord, PartitionBatch, ProduceRecord } from '../types.js';

/**
 * Pure conversions between @platformatic/kafka's wire structures and the product's records.
 * The shapes below are the subset of the client's `FetchResponsePartition` / `RecordsBatch` /
 * `KafkaRecord` this module reads (structurally compatible, so unit tests can build them).
 */

export interface RawRecord {
  timestampDelta: bigint;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  /** In wire order, duplicates kept. */
  headers: Array<[Buffer | null, Buffer | null]>;
}

export interface RawBatch {
  firstOffset: bigint;
  attributes: number;
  lastOffsetDelta: number;
  firstTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  records: RawRecord[];
}

export interface RawPartition {
  partitionIndex: number;
  highWatermark: bigint;
  abortedTransactions: Array<{ producerId: bigint; firstOffset: bigint }> | null;
  records?: RawBatch[] | null;
}

// Record batch attributes (Kafka's DefaultRecordBatch).
const TIMESTAMP_TYPE_LOG_APPEND = 1 << 3;
const IS_TRANSACTIONAL = 1 << 4;
const IS_CONTROL = 1 << 5;
/** Control record key: version (int16), type (int16; 0 = abort, 1 = commit). */
const CONTROL_ABORT = 0;

function isAbortMarker(batch: RawBatch): boolean {
  const key = batch.records[0]?.key;
  return (
    key !== null && key !== undefined && key.length >= 4 && key.readInt16BE(2) === CONTROL_ABORT
  );
}

/**
 * One partition of a read_committed fetch response as a PartitionBatch, or null when it holds no
 * record batch. Like Kafka's own consumer:
 *  - control batches (transaction markers) are dropped;
 *  - batches of aborted transactions are dropped: a producer listed in `abortedTransactions`
 *    is aborted from its first offset until its abort marker, which may lie in a later fetch
 *    (the broker lists the transaction again then);
 *  - records below `fetchOffset` (the broker returns whole batches) are dropped;
 *  - a LogAppendTime batch's records carry the batch's max timestamp (the broker's append time).
 * `nextOffset` is the offset after the last batch, control and aborted batches included.
 *
 * The client's own read_committed filter (Consumer#filterUncommittedMessages in 2.12.1) drops an
 * aborted transaction only when its abort marker is in the same response and keeps one range per
 * producer, so it lets aborted records through when a fetch ends between an aborted batch and its
 * marker, or when a producer aborted twice in one response; this filter does not depend on it.
 */
export function decodePartition(
  topic: string,
  p: RawPartition,
  fetchOffset: bigint,
): PartitionBatch | null {
  const batches = p.records;
  if (batches === null || batches === undefined || batches.length === 0) return null;
  const pending = [...(p.abortedTransactions ?? [])].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  );
  const aborted = new Set<bigint>();
  const records: KafkaRecord[] = [];
  let nextOffset = fetchOffset;
  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (lastOffset + 1n > nextOffset) nextOffset = lastOffset + 1n;
    if ((batch.attributes & IS_TRANSACTIONAL) !== 0) {
      while (
        pending.length > 0 &&
        (pending[0] as { firstOffset: bigint }).firstOffset <= lastOffset
      ) {
        aborted.add((pending.shift() as { producerId: bigint }).producerId);
      }
      if ((batch.attributes & IS_CONTROL) !== 0) {
        if (isAbortMarker(batch)) aborted.delete(batch.producerId);
        continue;
      }
      if (aborted.has(batch.producerId)) continue;
    } else if ((batch.attributes & IS_CONTROL) !== 0) {
      continue;
    }
    const logAppend = (batch.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0;
    for (const r of batch.records) {
      const offset = batch.firstOffset + BigInt(r.offsetDelta);
      if (offset < fetchOffset) continue;
      const headers: KafkaHeader[] = new Array<KafkaHeader>(r.headers.length);
      for (let i = 0; i < r.headers.length; i++) {
        const [k, v] = r.headers[i] as [Buffer | null, Buffer | null];
        headers[i] = { key: k === null ? '' : k.toString('utf8'), value: v };
      }
      records.push({
        offset,
        timestamp: logAppend ? batch.maxTimestamp : batch.firstTimestamp + r.timestampDelta,
        timestampType: logAppend ? 1 : 0,
        key: r.key,
        value: r.value,
        headers,
      });
    }
  }
  return {
    topic,
    partition: p.partitionIndex,
    records,
    fetchedOffset: fetchOffset,
    nextOffset,
    highWatermark: p.highWatermark,
  };
}

/** What @platformatic/kafka's producer takes for one record (its MessageToProduce). */
export interface OutgoingMessage {
  topic: string;
  partition?: number;
  key?: Buffer;
  value?: Buffer;
  headers: Map<Buffer, Buffer>;
  timestamp?: bigint;
}

/**
 * A record for @platformatic/kafka's producer. Headers go as a Map keyed by a fresh Buffer per
 * header, so order and duplicate names survive (the producer writes the Map in insertion
 * order). null key, value and header value become absent/null, which its writer encodes as
 * Kafka's null (length -1); empty Buffers stay empty.
 */
export function toOutgoing(topic: string, r: ProduceRecord): OutgoingMessage {
  const headers = new Map<Buffer, Buffer>();
  for (const h of r.headers ?? []) {
    // The record writer encodes a null header value as Kafka's null (varint -1).
    headers.set(Buffer.from(h.key, 'utf8'), h.value as Buffer);
  }
  return {
    topic,
    ...(r.partition !== undefined ? { partition: r.partition } : {}),
    ...(r.key !== null ? { key: r.key } : {}),
    ...(r.value !== null ? { value: r.value } : {}),
    headers,
    ...(r.timestamp !== undefined ? { timestamp: r.timestamp } : {}),
  };
}

/**
 * Kafka's topic id (16 bytes) in Kafka's own string form, base64url without padding, from the
 * client's hyphenated hex form; undefined for the all-zero id or a name (Metadata v8 and older
 * carry no ids and the client puts the topic name there).
 */
export function kafkaTopicId(hyphenatedHex: string | undefined): string | undefined {
  if (hyphenatedHex === undefined) return undefined;
  const hex = hyphenatedHex.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex) || /^0+$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex').toString('base64url');
}
