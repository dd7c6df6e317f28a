import { mkdir, rename, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Logger } from '../log/index.js';
import { describeError } from '../errors.js';
import { localFileBuffer, readSegmentMeta } from '../segment/index.js';
import { entryFromMeta } from './entry.js';
import type { LocalSegment, LocalSegmentIndex } from '../archive/index.js';
import type { Catalog } from './store.js';

export interface ReconcileResult {
  /** Segment files found on the hot tier without a catalog entry (read from their footers). */
  adopted: number;
  /** Entries whose hot file is gone: dropped (or kept as cold-only when they are in the store). */
  missing: number;
  /** Files that are not readable segments, moved to <hotDir>/.quarantine/. */
  quarantined: string[];
  /** Segment files checked. */
  files: number;
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  });
  await Promise.all(workers);
}

/**
 * Makes the catalog agree with the hot directory, which is the truth for the hot tier: segment
 * files without an entry are adopted from their footers (a crash between rename and catalog
 * append, or another member sharing the directory), entries whose file is gone lose their hot
 * copy, and unreadable files are quarantined and reported. Only entries for the given topics
 * are checked when `topics` is set.
 */
export async function reconcileHot(
  catalog: Catalog,
  index: LocalSegmentIndex,
  log: Logger,
  options: { concurrency?: number; topics?: string[] } = {},
): Promise<ReconcileResult> {
  const result: ReconcileResult = { adopted: 0, missing: 0, quarantined: [], files: 0 };
  const topics = options.topics ?? [...new Set([...(await index.topics()), ...catalog.topics()])];
  const toRead: LocalSegment[] = [];
  for (const topic of topics) {
    const partitions = new Set([...(await index.partitions(topic)), ...catalog.partitions(topic)]);
    for (const partition of partitions) {
      const files = await index.segments(topic, partition);
      result.files += files.length;
      const present = new Set<string>();
      for (const f of files) {
        present.add(`${f.firstOffset}-${f.lastOffset}`);
        const e = catalog.get(topic, partition, f.firstOffset, f.lastOffset);
        if (e === undefined || !e.hot) toRead.push(f);
      }
      for (const e of [...catalog.segments(topic, partition).all()]) {
        if (!e.hot || present.has(`${e.firstOffset}-${e.lastOffset}`)) continue;
        result.missing++;
        if (e.cold) await catalog.put({ ...e, hot: false });
        else {
          log.warn(
            {
              topic,
              partition,
              firstOffset: String(e.firstOffset),
              lastOffset: String(e.lastOffset),
            },
            'catalog entry without its hot segment file and no cold copy: entry dropped',
          );
          await catalog.remove(e);
        }
      }
    }
  }
  await forEachLimit(toRead, options.concurrency ?? 16, async (f) => {
    try {
      const meta = await readSegmentMeta(await localFileBuffer(f.path));
      const known = catalog.get(f.topic, f.partition, f.firstOffset, f.lastOffset);
      await catalog.put(entryFromMeta(meta, f.bytes, { hot: true, cold: known?.cold ?? false }));
      result.adopted++;
    } catch (err) {
      // Removed since the listing (evicted after its upload was verified, or dropped as a
      // duplicate of the bucket's copy): nothing to adopt, nothing unreadable.
      if (await gone(f.path)) return;
      const target = join(index.root, '.quarantine', relative(index.root, f.path));
      await mkdir(dirname(target), { recursive: true });
      await rename(f.path, target);
      result.quarantined.push(target);
      log.error(
        { code: 'SEGMENT_CORRUPT', file: f.path, quarantinedTo: target, err: describeError(err) },
        'unreadable segment moved to quarantine',
      );
    }
  });
  await catalog.flush();
  return result;
}

async function gone(path: string): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
