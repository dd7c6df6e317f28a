import { ArchiveError, ErrorCodes } from '../errors.js';
import type { KafkaHeader, ProduceRecord } from '../kafka/index.js';
import type { KafkaRecord } from '../record.js';

/** Bytes of a record batch's header in Kafka's format (v2). */
export const BATCH_OVERHEAD = 61;

/** Headers `--offset-header` appends (values are UTF-8 decimal strings / the topic name). */
export const OFFSET_HEADERS = {
  topic: 'kafka-archive.original-topic',
  partition: 'kafka-archive.original-partition',
  offset: 'kafka-archive.original-offset',
} as const;

export function offsetHeaders(topic: string, partition: number, offset: bigint): KafkaHeader[] {
  return [
    { key: OFFSET_HEADERS.topic, value: Buffer.from(topic) },
    { key: OFFSET_HEADERS.partition, value: Buffer.from(String(partition)) },
    { key: OFFSET_HEADERS.offset, value: Buffer.from(offset.toString()) },
  ];
}

/**
 * An upper bound of a record's size inside an uncompressed Kafka record batch (v2): length,
 * attributes, timestamp and offset deltas and the length prefixes as their largest varints.
 */
export function recordSize(r: {
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeader[];
}): number {
  let n = 26 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += 10 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return n;
}

export interface PendingRecord {
  source: KafkaRecord;
  produce: ProduceRecord & { partition: number };
  size: number;
}

/** One produce call: records of one target partition, at most max.message.bytes in all. */
export interface ProduceChunk {
  partition: number;
  records: PendingRecord[];
}

/**
 * Splits a transaction's records into produce calls: per target partition, in order, each
 * call's records fitting one record batch of at most `maxMessageBytes` (sizes uncompressed,
 * so a batch always fits whatever the compression does).
 */
export function chunkRecords(
  records: readonly PendingRecord[],
  maxMessageBytes: number,
): ProduceChunk[] {
  const chunks: ProduceChunk[] = [];
  const open = new Map<number, { chunk: ProduceChunk; bytes: number }>();
  for (const r of records) {
    const p = r.produce.partition;
    let cur = open.get(p);
    if (cur !== undefined && cur.bytes + r.size > maxMessageBytes) cur = undefined;
    if (cur === undefined) {
      cur = { chunk: { partition: p, records: [] }, bytes: BATCH_OVERHEAD };
      chunks.push(cur.chunk);
      open.set(p, cur);
    }
    cur.chunk.records.push(r);
    cur.bytes += r.size;
  }
  return chunks;
}

/** The error for a record that cannot fit the target topic's max.message.bytes. */
export function tooLarge(
  r: KafkaRecord,
  source: { topic: string; partition: number },
  target: string,
  size: number,
  maxMessageBytes: number,
): ArchiveError {
  return new ArchiveError(
    ErrorCodes.RESTORE_RECORD_TOO_LARGE,
    `record ${source.topic}/${source.partition} offset ${r.offset} is ${size + BATCH_OVERHEAD} bytes as a record batch (key ${r.key?.length ?? 0} B, value ${r.value?.length ?? 0} B, ${r.headers.length} headers), larger than the target topic ${target}'s max.message.bytes of ${maxMessageBytes}; raise it (kafka-configs --alter --entity-type topics --entity-name ${target} --add-config max.message.bytes=${size + BATCH_OVERHEAD}; the broker's message.max.bytes bounds it for new topics) and run the same command again`,
    {
      details: { offset: r.offset.toString(), size: size + BATCH_OVERHEAD, maxMessageBytes },
    },
  );
}
