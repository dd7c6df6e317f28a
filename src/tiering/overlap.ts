import type { KafkaRecord } from '../record.js';
import type { SegmentContent } from '../segment/index.js';

/**
 * The bucket guarantee's planner (README "Archive format", "One bucket, many members"): before a
 * hot segment of a partition is uploaded, its offset span is compared with the spans of the
 * objects already under the partition's prefix (segment names carry first-last offsets).
 *
 *   no overlap            -> upload it as it is
 *   wholly covered        -> a duplicate: never uploaded; the hot copy is dropped once its records
 *                            are found identical to the objects' (offset, timestamp, key, value,
 *                            headers)
 *   partly covered        -> the offsets not yet in the bucket ("keep" spans) are written as
 *                            trimmed segments and uploaded instead
 *
 * Pure functions: the tierer does the I/O.
 */
export interface OffsetSpan {
  firstOffset: bigint;
  lastOffset: bigint;
}

export type UploadPlan<T extends OffsetSpan = OffsetSpan> =
  | { kind: 'upload' }
  | { kind: 'covered'; overlapping: T[] }
  | { kind: 'trim'; overlapping: T[]; keep: OffsetSpan[] };

const byFirst = (a: OffsetSpan, b: OffsetSpan) =>
  a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0;

export function overlaps(a: OffsetSpan, b: OffsetSpan): boolean {
  return a.firstOffset <= b.lastOffset && b.firstOffset <= a.lastOffset;
}

/** What to do with segment `seg` given the spans of the objects already in the bucket. */
export function planUpload<T extends OffsetSpan>(
  seg: OffsetSpan,
  remote: readonly T[],
): UploadPlan<T> {
  const overlapping = remote.filter((r) => overlaps(seg, r)).sort(byFirst);
  if (overlapping.length === 0) return { kind: 'upload' };
  const keep: OffsetSpan[] = [];
  let next = seg.firstOffset;
  for (const r of overlapping) {
    if (r.firstOffset > next) keep.push({ firstOffset: next, lastOffset: r.firstOffset - 1n });
    if (r.lastOffset + 1n > next) next = r.lastOffset + 1n;
  }
  if (next <= seg.lastOffset) keep.push({ firstOffset: next, lastOffset: seg.lastOffset });
  return keep.length === 0 ? { kind: 'covered', overlapping } : { kind: 'trim', overlapping, keep };
}

/**
 * One trimmed segment: the hot copy's records inside a keep span, and the span it covers (its
 * covered range lies inside the original's and the keep span).
 */
export type TrimmedPiece = SegmentContent<KafkaRecord[]>;

/**
 * The pieces a partly covered segment is trimmed to: its records inside each keep span (spans
 * without a record give no piece; an empty result means the bucket holds every record).
 */
export function trimPieces(
  records: readonly KafkaRecord[],
  range: { rangeStart: bigint; rangeEnd: bigint },
  keep: readonly OffsetSpan[],
): TrimmedPiece[] {
  const out: TrimmedPiece[] = [];
  for (const span of keep) {
    const inside = records.filter(
      (r) => r.offset >= span.firstOffset && r.offset <= span.lastOffset,
    );
    const first = inside[0];
    const last = inside[inside.length - 1];
    if (first === undefined || last === undefined) continue;
    let minTimestamp = first.timestamp;
    let maxTimestamp = first.timestamp;
    for (const r of inside) {
      if (r.timestamp < minTimestamp) minTimestamp = r.timestamp;
      if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
    }
    out.push({
      records: inside,
      firstOffset: first.offset,
      lastOffset: last.offset,
      rangeStart: span.firstOffset > range.rangeStart ? span.firstOffset : range.rangeStart,
      rangeEnd: span.lastOffset < range.rangeEnd ? span.lastOffset : range.rangeEnd,
      minTimestamp,
      maxTimestamp,
    });
  }
  return out;
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return a === b;
  return a.equals(b);
}

export function sameRecord(a: KafkaRecord, b: KafkaRecord): boolean {
  return (
    a.offset === b.offset &&
    a.timestamp === b.timestamp &&
    a.timestampType === b.timestampType &&
    sameBytes(a.key, b.key) &&
    sameBytes(a.value, b.value) &&
    a.headers.length === b.headers.length &&
    a.headers.every((h, i) => h.key === b.headers[i]?.key && sameBytes(h.value, b.headers[i].value))
  );
}

/**
 * Where the hot copy and an object disagree inside `span` (both lists in offset order, already
 * limited to the span): the first offset that differs (a record only one side has, or two
 * different records at one offset), or null when they hold the same records.
 */
export function firstDifference(
  hot: readonly KafkaRecord[],
  remote: readonly KafkaRecord[],
): bigint | null {
  const n = Math.max(hot.length, remote.length);
  for (let i = 0; i < n; i++) {
    const a = hot[i];
    const b = remote[i];
    if (a === undefined || b === undefined) return (a ?? b)!.offset;
    if (!sameRecord(a, b)) return a.offset < b.offset ? a.offset : b.offset;
  }
  return null;
}
