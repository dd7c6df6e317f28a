import { streamOfMeta } from '../archive/index.js';
import type { SegmentMeta } from '../segment/index.js';

/**
 * One segment as the catalog knows it: its footer facts (SegmentMeta without the writer's
 * format details) plus its file size and where copies of it live. `topic` is the stream: the
 * topic for generation 1, `<topic>~<n>` for a later generation (archive/layout.ts).
 */
export type CatalogEntry = Omit<
  SegmentMeta,
  'formatVersion' | 'writerVersion' | 'compression' | 'generation'
> & {
  /** File size of the segment in bytes. */
  bytes: number;
  /** A verified copy is on the local hot tier. */
  hot: boolean;
  /** A verified copy is in the object store (cold tier). */
  cold: boolean;
};

export type Tier = 'hot' | 'cold';

export function entryTiers(e: CatalogEntry): Tier[] {
  const t: Tier[] = [];
  if (e.hot) t.push('hot');
  if (e.cold) t.push('cold');
  return t;
}

/** Identity of a segment: its partition and offset range (the file/object name). */
export function entryKey(
  e: Pick<CatalogEntry, 'topic' | 'partition' | 'firstOffset' | 'lastOffset'>,
): string {
  return `${e.topic}\u0000${e.partition}\u0000${e.firstOffset}\u0000${e.lastOffset}`;
}

export function entryFromMeta(
  meta: SegmentMeta,
  bytes: number,
  where: { hot: boolean; cold: boolean },
): CatalogEntry {
  return {
    topic: streamOfMeta(meta),
    partition: meta.partition,
    firstOffset: meta.firstOffset,
    lastOffset: meta.lastOffset,
    rangeStart: meta.rangeStart,
    rangeEnd: meta.rangeEnd,
    minTimestamp: meta.minTimestamp,
    maxTimestamp: meta.maxTimestamp,
    recordCount: meta.recordCount,
    bytes,
    sha256: meta.sha256,
    ...where,
  };
}

/**
 * Compact array form used in the catalog files:
 * [topic, partition, first, last, rangeStart, rangeEnd, minTs, maxTs, count, bytes, sha256, flags]
 * (bigints as decimal strings, flags: 1 = hot, 2 = cold).
 */
export type PackedEntry = [
  string,
  number,
  string,
  string,
  string,
  string,
  string,
  string,
  number,
  number,
  string,
  number,
];

export function pack(e: CatalogEntry): PackedEntry {
  return [
    e.topic,
    e.partition,
    e.firstOffset.toString(),
    e.lastOffset.toString(),
    e.rangeStart.toString(),
    e.rangeEnd.toString(),
    e.minTimestamp.toString(),
    e.maxTimestamp.toString(),
    e.recordCount,
    e.bytes,
    e.sha256,
    (e.hot ? 1 : 0) | (e.cold ? 2 : 0),
  ];
}

const DECIMAL = /^-?\d+$/;

/** A value read back from a catalog file has the packed entry's shape (types and decimals). */
export function isPackedEntry(v: unknown): v is PackedEntry {
  if (!Array.isArray(v) || v.length !== 12) return false;
  const a = v as unknown[];
  const int = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  const dec = (x: unknown) => typeof x === 'string' && DECIMAL.test(x);
  return (
    typeof a[0] === 'string' &&
    int(a[1]) &&
    [2, 3, 4, 5, 6, 7].every((i) => dec(a[i])) &&
    int(a[8]) &&
    int(a[9]) &&
    typeof a[10] === 'string' &&
    int(a[11])
  );
}

export function unpack(p: PackedEntry): CatalogEntry {
  return {
    topic: p[0],
    partition: p[1],
    firstOffset: BigInt(p[2]),
    lastOffset: BigInt(p[3]),
    rangeStart: BigInt(p[4]),
    rangeEnd: BigInt(p[5]),
    minTimestamp: BigInt(p[6]),
    maxTimestamp: BigInt(p[7]),
    recordCount: p[8],
    bytes: p[9],
    sha256: p[10],
    hot: (p[11] & 1) !== 0,
    cold: (p[11] & 2) !== 0,
  };
}
