import type { CatalogEntry } from '../catalog/index.js';
import type { RowGroupInfo } from '../segment/index.js';

/**
 * Which archived records a restore reads, and the pruning rules shared by planning (counts) and
 * scanning (records): original offsets [fromOffset, endOffset), and record timestamps in
 * [fromTime, toTime) when given. Timestamps are not monotonic (CreateTime is set by
 * producers), so pruning by time uses each segment's and row group's min/max, never order.
 */
export interface ReadWindow {
  fromOffset: bigint;
  endOffset: bigint;
  fromTime: bigint | null;
  toTime: bigint | null;
}

const timeOverlaps = (w: ReadWindow, min: bigint | undefined, max: bigint | undefined) =>
  (w.fromTime === null || max === undefined || max >= w.fromTime) &&
  (w.toTime === null || min === undefined || min < w.toTime);

const timeInside = (w: ReadWindow, min: bigint | undefined, max: bigint | undefined) =>
  (w.fromTime === null || (min !== undefined && min >= w.fromTime)) &&
  (w.toTime === null || (max !== undefined && max < w.toTime));

export function segmentOverlaps(e: CatalogEntry, w: ReadWindow): boolean {
  return (
    e.lastOffset >= w.fromOffset &&
    e.firstOffset < w.endOffset &&
    timeOverlaps(w, e.minTimestamp, e.maxTimestamp)
  );
}

/**
 * The segments to read, in offset order, each with the first offset to take from it: where
 * segments overlap (two archiver members around a rebalance) each offset is read once.
 */
export function* segmentsToRead(
  segs: readonly CatalogEntry[],
  w: ReadWindow,
): Generator<{ entry: CatalogEntry; fromOffset: bigint }> {
  let next = w.fromOffset;
  for (const e of segs) {
    if (e.lastOffset < next) continue;
    if (e.firstOffset >= w.endOffset) break;
    if (segmentOverlaps(e, w)) yield { entry: e, fromOffset: next };
    next = e.lastOffset + 1n;
  }
}

export type GroupVerdict = 'skip' | 'full' | 'partial';

/** Whether a row group can hold records of the window (from `fromOffset` on), by statistics. */
export function rowGroupVerdict(g: RowGroupInfo, fromOffset: bigint, w: ReadWindow): GroupVerdict {
  if (g.rows === 0) return 'skip';
  if (g.maxOffset !== undefined && g.maxOffset < fromOffset) return 'skip';
  if (g.minOffset !== undefined && g.minOffset >= w.endOffset) return 'skip';
  if (!timeOverlaps(w, g.minTimestamp, g.maxTimestamp)) return 'skip';
  const offsetsInside =
    g.minOffset !== undefined &&
    g.maxOffset !== undefined &&
    g.minOffset >= fromOffset &&
    g.maxOffset < w.endOffset;
  return offsetsInside && timeInside(w, g.minTimestamp, g.maxTimestamp) ? 'full' : 'partial';
}

export function recordInWindow(
  r: { offset: bigint; timestamp: bigint },
  fromOffset: bigint,
  w: ReadWindow,
): boolean {
  return (
    r.offset >= fromOffset &&
    r.offset < w.endOffset &&
    (w.fromTime === null || r.timestamp >= w.fromTime) &&
    (w.toTime === null || r.timestamp < w.toTime)
  );
}
