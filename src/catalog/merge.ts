import { entryKey, type CatalogEntry } from './entry.js';
import type { Catalog } from './store.js';

export interface MergeResult {
  /** Entries the rebuild found that the live catalog lacked. */
  added: number;
  /** Entries whose facts or tiers differed: the rebuild's version taken. */
  updated: number;
  /** Live entries whose segment is neither on the hot tier nor in the bucket: removed. */
  dropped: number;
  /** Entries written by the live catalog's writers after the scan began: theirs kept. */
  keptNewer: number;
}

function same(a: CatalogEntry, b: CatalogEntry): boolean {
  return (
    a.rangeStart === b.rangeStart &&
    a.rangeEnd === b.rangeEnd &&
    a.minTimestamp === b.minTimestamp &&
    a.maxTimestamp === b.maxTimestamp &&
    a.recordCount === b.recordCount &&
    a.bytes === b.bytes &&
    a.sha256 === b.sha256 &&
    a.hot === b.hot &&
    a.cold === b.cold
  );
}

/**
 * Makes a live catalog (one that its writers keep changing) equal to a rebuilt one, except for
 * the entries in `written`: those were put or removed by the live writers after the rebuild's
 * scan began, so the live version is newer than what the scan saw and is kept. Every other entry
 * is taken from the rebuild: added, replaced, or removed when the rebuild did not find its
 * segment. One partition at a time, each step synchronous (no write of the live writers can
 * fall between the `written` check and the change), yielding to the event loop between
 * partitions so the writers go on meanwhile. The caller keeps `written` up to date
 * (Catalog.watch) until this resolves; the merge's own writes may land in it too (each entry is
 * looked at once).
 */
export async function mergeRebuilt(
  live: Catalog,
  rebuilt: Catalog,
  written: ReadonlySet<string>,
): Promise<MergeResult> {
  const r: MergeResult = { added: 0, updated: 0, dropped: 0, keptNewer: 0 };
  const topics = [...new Set([...live.topics(), ...rebuilt.topics()])].sort();
  for (const topic of topics) {
    const partitions = [...new Set([...live.partitions(topic), ...rebuilt.partitions(topic)])];
    for (const partition of partitions.sort((a, b) => a - b)) {
      const pending: Array<Promise<void>> = [];
      const current = live.segments(topic, partition); // cached: the lookups below are in memory
      const fresh = [...rebuilt.segments(topic, partition).all()];
      const seen = new Set<string>();
      for (const f of fresh) {
        const k = entryKey(f);
        seen.add(k);
        if (written.has(k)) {
          r.keptNewer++;
          continue;
        }
        const l = current.get(f.firstOffset, f.lastOffset);
        if (l !== undefined && same(l, f)) continue;
        if (l === undefined) r.added++;
        else r.updated++;
        pending.push(live.put(f));
      }
      for (const l of [...live.segments(topic, partition).all()]) {
        const k = entryKey(l);
        if (seen.has(k)) continue;
        if (written.has(k)) {
          r.keptNewer++;
          continue;
        }
        r.dropped++;
        pending.push(live.remove(l));
      }
      await Promise.all(pending);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  await live.flush(true);
  return r;
}
