import type { Catalog } from '../catalog/index.js';
import { forEachLimit, writeSegmentIndex } from '../catalog/index.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/index.js';
import { isStoreOutage, type ObjectStore } from '../storage/index.js';

/** A partition's index is rewritten once the segments added since reach this share of it. */
const GROWTH_SHARE = 64;
/** ... or when it has waited this long with a change (and at a graceful stop). */
export const SEGMENT_INDEX_MAX_AGE_MS = 10 * 60_000;
/** Index objects written at once (after a start, every partition that changed is due). */
const WRITES_AT_ONCE = 8;

interface PartitionState {
  stream: string;
  partition: number;
  /** Segments that became cold since the index was last written. */
  changed: number;
  /** Entries the last written index held (0: not written by this process). */
  indexed: number;
  writtenAt: number;
}

/**
 * When the tierer rewrites partitions' segment indexes (catalog/segment-index.ts): a partition
 * whose segments became cold is rewritten once the new ones reach 1/64 of what its index held
 * (so the bytes written stay a small multiple of the entries added: ~64 entries of ~250 bytes
 * per segment uploaded, against the segment's megabytes), or ten minutes after its first
 * change, and at a graceful stop. A rebuild then reads footers only for what came since.
 */
export class SegmentIndexes {
  private readonly partitions = new Map<string, PartitionState>();
  written = 0;

  constructor(
    private readonly deps: {
      catalog: Catalog;
      store: ObjectStore;
      log: Logger;
      now?: () => number;
    },
  ) {}

  /** A segment of the partition is now cold (uploaded, adopted or catalogued from the bucket). */
  changed(stream: string, partition: number): void {
    const k = `${stream}\u0000${partition}`;
    const s = this.partitions.get(k);
    if (s !== undefined) s.changed++;
    else this.partitions.set(k, { stream, partition, changed: 1, indexed: 0, writtenAt: 0 });
  }

  /**
   * Writes the indexes that are due (every changed one with `all`). An object-store outage is
   * thrown (the partitions stay due); any other failure is logged and retried next time.
   */
  async writeDue(all = false): Promise<number> {
    const now = (this.deps.now ?? Date.now)();
    const due = [...this.partitions.values()].filter(
      (s) =>
        s.changed > 0 &&
        (all ||
          s.changed * GROWTH_SHARE >= s.indexed ||
          now - s.writtenAt >= SEGMENT_INDEX_MAX_AGE_MS),
    );
    let n = 0;
    let outage: unknown = null;
    await forEachLimit(due, WRITES_AT_ONCE, async (s) => {
      if (outage !== null) return;
      const covered = s.changed; // changes noted while it is written wait for the next one
      try {
        s.indexed = await writeSegmentIndex(
          this.deps.catalog,
          this.deps.store,
          s.stream,
          s.partition,
        );
        s.changed -= covered;
        s.writtenAt = now;
        n++;
      } catch (err) {
        if (isStoreOutage(err)) outage ??= err;
        else
          this.deps.log.warn(
            { topic: s.stream, partition: s.partition, err: describeError(err) },
            'segment index not written; retried at the next round',
          );
      }
    });
    this.written += n;
    if (outage !== null) throw outage;
    return n;
  }
}
