import type { CatalogEntry } from './entry.js';

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The segments of one partition in offset order, with prefix maxima so that offset and time
 * lookups are binary searches even when segments overlap (two members archiving around a
 * rebalance) or timestamps go backwards (CreateTime is set by producers).
 */
export class PartitionSegments {
  private readonly list: CatalogEntry[] = [];
  /** maxLast[i] = max(lastOffset of list[0..i]); maxTime[i] likewise for maxTimestamp. */
  private maxLast: bigint[] | null = null;
  private maxTime: bigint[] | null = null;

  get size(): number {
    return this.list.length;
  }

  all(): readonly CatalogEntry[] {
    return this.list;
  }

  /** Index of the first entry ordered after (first, last). */
  private upper(first: bigint, last: bigint): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.list[mid] as CatalogEntry;
      const c = cmp(e.firstOffset, first) || cmp(e.lastOffset, last);
      if (c <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds the entry, or replaces the one with the same offset range. */
  upsert(e: CatalogEntry): void {
    const i = this.upper(e.firstOffset, e.lastOffset);
    const prev = this.list[i - 1];
    if (
      prev !== undefined &&
      prev.firstOffset === e.firstOffset &&
      prev.lastOffset === e.lastOffset
    ) {
      this.list[i - 1] = e;
      if (prev.maxTimestamp !== e.maxTimestamp) this.maxTime = null;
      return;
    }
    this.list.splice(i, 0, e);
    if (i === this.list.length - 1 && this.maxLast !== null && this.maxTime !== null) {
      const pl = this.maxLast[i - 1];
      const pt = this.maxTime[i - 1];
      this.maxLast.push(pl !== undefined && pl > e.lastOffset ? pl : e.lastOffset);
      this.maxTime.push(pt !== undefined && pt > e.maxTimestamp ? pt : e.maxTimestamp);
    } else {
      this.maxLast = null;
      this.maxTime = null;
    }
  }

  get(first: bigint, last: bigint): CatalogEntry | undefined {
    const e = this.list[this.upper(first, last) - 1];
    return e !== undefined && e.firstOffset === first && e.lastOffset === last ? e : undefined;
  }

  remove(first: bigint, last: bigint): CatalogEntry | undefined {
    const i = this.upper(first, last) - 1;
    const e = this.list[i];
    if (e === undefined || e.firstOffset !== first || e.lastOffset !== last) return undefined;
    this.list.splice(i, 1);
    this.maxLast = null;
    this.maxTime = null;
    return e;
  }

  private prefix(): { maxLast: bigint[]; maxTime: bigint[] } {
    if (this.maxLast === null || this.maxTime === null) {
      const maxLast: bigint[] = [];
      const maxTime: bigint[] = [];
      let l = -1n;
      let t = -(2n ** 63n);
      for (const e of this.list) {
        if (e.lastOffset > l) l = e.lastOffset;
        if (e.maxTimestamp > t) t = e.maxTimestamp;
        maxLast.push(l);
        maxTime.push(t);
      }
      this.maxLast = maxLast;
      this.maxTime = maxTime;
    }
    return { maxLast: this.maxLast, maxTime: this.maxTime };
  }

  /** The highest archived offset, or null when there is no segment. */
  highWatermark(): bigint | null {
    const { maxLast } = this.prefix();
    return maxLast[maxLast.length - 1] ?? null;
  }

  /**
   * Segments holding offsets >= `offset`, in offset order, starting with the earliest that can
   * contain it.
   */
  *from(offset: bigint): Generator<CatalogEntry> {
    const { maxLast } = this.prefix();
    // First index whose prefix max of lastOffset reaches `offset`: nothing before can hold it.
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((maxLast[mid] as bigint) < offset) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.list.length; i++) {
      const e = this.list[i] as CatalogEntry;
      if (e.lastOffset >= offset) yield e;
    }
  }

  /** The segment holding `offset` (the first in offset order when copies overlap). */
  findByOffset(offset: bigint): CatalogEntry | undefined {
    for (const e of this.from(offset)) {
      if (e.firstOffset <= offset) return e;
      break;
    }
    return undefined;
  }

  /**
   * The first segment (in offset order) with a record whose timestamp is >= `ts`, like Kafka's
   * ListOffsets by timestamp: the earliest offset at or after that time.
   */
  findByTime(ts: bigint): CatalogEntry | undefined {
    const { maxTime } = this.prefix();
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((maxTime[mid] as bigint) < ts) lo = mid + 1;
      else hi = mid;
    }
    return this.list[lo];
  }
}
