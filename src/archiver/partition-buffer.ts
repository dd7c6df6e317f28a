import type { KafkaRecord } from '../kafka/index.js';
import type { RotationPolicy } from '../config/index.js';
import type { SegmentContent } from '../segment/index.js';

export type { SegmentContent };

const RECORD_OVERHEAD = 24;

export function recordSize(r: KafkaRecord): number {
  let n = RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += h.key.length + (h.value?.length ?? 0) + 8;
  return n;
}

/**
 * The open (unsealed) segment of one partition: records in offset order and the span of offsets
 * the consumer covered. Rotation limits are applied record by record, so segment boundaries
 * depend only on the records (count, bytes, record time), not on how Kafka batched them.
 */
export class PartitionBuffer {
  readonly records: KafkaRecord[] = [];
  bytes = 0;
  minTimestamp = 0n;
  maxTimestamp = 0n;
  /** Last offset the consumer covered (records or skipped control/aborted offsets). */
  rangeEnd: bigint;
  readonly openedAtMs: number;

  constructor(
    /** First offset covered by this segment. */
    readonly rangeStart: bigint,
    private readonly policy: RotationPolicy,
    now: number,
  ) {
    this.rangeEnd = rangeStart - 1n;
    this.openedAtMs = now;
  }

  get isEmpty(): boolean {
    return this.records.length === 0;
  }

  get firstTimestamp(): bigint {
    return this.records[0]?.timestamp ?? 0n;
  }

  /** Would adding `r` break a rotation limit? (Never true for an empty buffer.) */
  wouldOverflow(r: KafkaRecord, size: number): boolean {
    if (this.records.length === 0) return false;
    const p = this.policy;
    return (
      this.records.length + 1 > p.maxRecords ||
      this.bytes + size > p.maxBytes ||
      r.timestamp - this.firstTimestamp >= BigInt(p.maxAgeMs)
    );
  }

  add(r: KafkaRecord, size: number): void {
    if (this.records.length === 0) {
      this.minTimestamp = r.timestamp;
      this.maxTimestamp = r.timestamp;
    } else {
      if (r.timestamp < this.minTimestamp) this.minTimestamp = r.timestamp;
      if (r.timestamp > this.maxTimestamp) this.maxTimestamp = r.timestamp;
    }
    this.records.push(r);
    this.bytes += size;
    this.rangeEnd = r.offset;
  }

  /** Full by count or bytes: seal now rather than wait for the next record. */
  get isFull(): boolean {
    return this.records.length >= this.policy.maxRecords || this.bytes >= this.policy.maxBytes;
  }
}

/**
 * The part of a sealed buffer that is not yet in the archive, given the archive's high-water
 * mark for the partition (another member sharing the hot directory may have sealed some of these
 * offsets after a rebalance), and only the offsets below `below` when given (the records proven
 * to be of the archived incarnation of a topic re-created meanwhile). Null when nothing is left.
 */
export function unarchivedContent(
  buf: PartitionBuffer,
  archivedHighWatermark: bigint | null,
  below?: bigint,
): SegmentContent | null {
  const floor = archivedHighWatermark === null ? null : archivedHighWatermark + 1n;
  const cut = below !== undefined && below <= buf.rangeEnd ? below : null;
  const records =
    (floor === null || buf.rangeStart >= floor) && cut === null
      ? buf.records
      : buf.records.filter(
          (r) => (floor === null || r.offset >= floor) && (cut === null || r.offset < cut),
        );
  const first = records[0];
  const last = records[records.length - 1];
  if (first === undefined || last === undefined) return null;
  let minTimestamp = first.timestamp;
  let maxTimestamp = first.timestamp;
  if (records === buf.records) {
    minTimestamp = buf.minTimestamp;
    maxTimestamp = buf.maxTimestamp;
  } else {
    for (const r of records) {
      if (r.timestamp < minTimestamp) minTimestamp = r.timestamp;
      if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
    }
  }
  return {
    records,
    firstOffset: first.offset,
    lastOffset: last.offset,
    rangeStart: floor !== null && floor > buf.rangeStart ? floor : buf.rangeStart,
    rangeEnd: cut === null ? buf.rangeEnd : cut - 1n,
    minTimestamp,
    maxTimestamp,
  };
}
