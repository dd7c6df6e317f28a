import type { KafkaRecord } from '../kafka/index.js';
import type { RotationPolicy } from '../config/index.js';
import { PackedRecords, type PackedRange, type SegmentContent } from '../segment/index.js';

const RECORD_OVERHEAD = 24;

export function recordSize(r: KafkaRecord): number {
  let n = RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += h.key.length + (h.value?.length ?? 0) + 8;
  return n;
}

/**
 * The open (unsealed) segment of one partition: records in offset order, held packed (see
 * PackedRecords), and the span of offsets the consumer covered. Rotation limits are applied
 * record by record, so segment boundaries depend only on the records (count, bytes, record
 * time), not on how Kafka batched them.
 */
export class PartitionBuffer {
  readonly records = new PackedRecords();
  bytes = 0;
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
    return this.records.count === 0;
  }

  get firstTimestamp(): bigint {
    return this.records.count === 0 ? 0n : this.records.timestampAt(0);
  }

  /** Would adding `r` break a rotation limit? (Never true for an empty buffer.) */
  wouldOverflow(r: KafkaRecord, size: number): boolean {
    if (this.records.count === 0) return false;
    const p = this.policy;
    return (
      this.records.count + 1 > p.maxRecords ||
      this.bytes + size > p.maxBytes ||
      r.timestamp - this.firstTimestamp >= BigInt(p.maxAgeMs)
    );
  }

  add(r: KafkaRecord, size: number): void {
    this.records.append(r);
    this.bytes += size;
    this.rangeEnd = r.offset;
  }

  /** Full by count or bytes: seal now rather than wait for the next record. */
  get isFull(): boolean {
    return this.records.count >= this.policy.maxRecords || this.bytes >= this.policy.maxBytes;
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
): SegmentContent<PackedRange> | null {
  const floor = archivedHighWatermark === null ? null : archivedHighWatermark + 1n;
  const cut = below !== undefined && below <= buf.rangeEnd ? below : null;
  const packed = buf.records;
  const records = packed.range(
    floor === null ? 0 : packed.lowerBound(floor),
    cut === null ? packed.count : packed.lowerBound(cut),
  );
  if (records === null) return null;
  return {
    records,
    firstOffset: records.firstOffset,
    lastOffset: records.lastOffset,
    rangeStart: floor !== null && floor > buf.rangeStart ? floor : buf.rangeStart,
    rangeEnd: cut === null ? buf.rangeEnd : cut - 1n,
    minTimestamp: records.minTimestamp,
    maxTimestamp: records.maxTimestamp,
  };
}
