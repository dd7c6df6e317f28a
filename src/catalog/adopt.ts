import { join } from 'node:path';
import { describeError } from '../errors.js';
import type { Logger } from '../log/index.js';
import {
  hashFile,
  hashObject,
  listSegmentObjects,
  objectBuffer,
  segmentKey,
  streamOfMeta,
  type SegmentObject,
} from '../archive/index.js';
import { openSegment } from '../segment/index.js';
import { isStoreOutage, type ObjectStore } from '../storage/index.js';
import { entryFromMeta } from './entry.js';
import type { Catalog } from './store.js';

export interface AdoptProgress {
  /** Segment objects listed so far. */
  listed: number;
  /** Footers read so far. */
  read: number;
  adopted: number;
}

export interface AdoptOptions {
  /** Footers read at once (default 8); listing goes on meanwhile. */
  concurrency?: number;
  /** Called after each footer read. */
  progress?: (p: AdoptProgress) => void;
}

/**
 * Objects in the store that the catalog does not know as cold (uploaded just before a crash,
 * or by another archiver sharing the bucket): their footer is read with range requests and,
 * when a hot copy exists, its bytes compared; then they are catalogued as cold. Listing and
 * footer reads overlap (at most `concurrency` reads at once). Returns how many were adopted. An
 * object-store outage is thrown; an unreadable object is logged and skipped.
 */
export async function adoptObjects(
  catalog: Catalog,
  store: ObjectStore,
  hotDir: string,
  log: Logger,
  options: AdoptOptions = {},
): Promise<number> {
  const limit = Math.max(1, options.concurrency ?? 8);
  const p: AdoptProgress = { listed: 0, read: 0, adopted: 0 };
  const adoptOne = async (o: SegmentObject): Promise<void> => {
    try {
      const seg = await openSegment(objectBuffer(store, o.key, o.size));
      const m = { ...seg.meta, topic: streamOfMeta(seg.meta) };
      if (segmentKey(m) !== o.key) throw new Error(`footer says ${segmentKey(m)}`);
      const known = catalog.get(m.topic, m.partition, m.firstOffset, m.lastOffset);
      let hot = false;
      if (known?.hot === true) {
        const local = await hashFile(join(hotDir, o.key)).catch(() => null);
        const remote = await hashObject(store, o.key, o.size);
        if (local === null || local.sha256 !== remote) {
          log.warn(
            { key: o.key },
            'object differs from the hot copy: not adopted (the next tiering round reports it)',
          );
          return;
        }
        hot = true;
      }
      await catalog.put(entryFromMeta(m, o.size, { hot, cold: true }));
      p.adopted++;
    } catch (err) {
      if (isStoreOutage(err)) throw err;
      log.error(
        { code: 'SEGMENT_CORRUPT', key: o.key, err: describeError(err) },
        'object in the store is not a readable segment; not adopted',
      );
    } finally {
      p.read++;
      options.progress?.(p);
    }
  };
  const running = new Set<Promise<void>>();
  let failure: { err: unknown } | null = null;
  // The listing is in key order: a partition's objects are contiguous and sorted by offset.
  let prev: SegmentObject | null = null;
  const overlapping = new Map<string, { count: number; first: [string, string] }>();
  const noteOverlap = (o: SegmentObject): void => {
    if (prev?.topic === o.topic && prev.partition === o.partition) {
      if (o.firstOffset <= prev.lastOffset) {
        const k = `${o.topic}/${o.partition}`;
        const seen = overlapping.get(k);
        if (seen === undefined) overlapping.set(k, { count: 1, first: [prev.key, o.key] });
        else seen.count++;
      }
      if (o.lastOffset <= prev.lastOffset) return; // prev still reaches further
    }
    prev = o;
  };
  for await (const o of listSegmentObjects(store)) {
    if (failure !== null) break;
    p.listed++;
    noteOverlap(o);
    const known = catalog.get(o.topic, o.partition, o.firstOffset, o.lastOffset);
    if (known?.cold === true) continue;
    const task: Promise<void> = adoptOne(o)
      .catch((err: unknown) => {
        failure ??= { err };
      })
      .finally(() => running.delete(task));
    running.add(task);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== null) throw (failure as { err: unknown }).err;
  for (const [partition, { count, first }] of overlapping) {
    log.error(
      { code: 'BUCKET_OVERLAP', partition, overlaps: count, example: first },
      'objects of this partition in the bucket overlap (uploaded before this version, or by members at the same moment); query engines reading the bucket in place see those offsets twice, kafka-archive readers merge them',
    );
  }
  await catalog.flush(true);
  if (p.adopted > 0) log.info({ adopted: p.adopted }, 'objects adopted into the catalog');
  return p.adopted;
}
