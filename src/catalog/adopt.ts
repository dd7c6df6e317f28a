import { join } from 'node:path';
import { describeError } from '../errors.js';
import type { Logger } from '../log/index.js';
import {
  hashFile,
  hashObject,
  listDirObjects,
  listPartitionDirs,
  objectBuffer,
  segmentKey,
  streamOfMeta,
  type SegmentObject,
} from '../archive/index.js';
import { openSegment } from '../segment/index.js';
import { isStoreOutage, type ObjectStore } from '../storage/index.js';
import { entryFromMeta } from './entry.js';
import type { CatalogEntry } from './entry.js';
import { readSegmentIndex } from './segment-index.js';
import type { Catalog } from './store.js';

/** Catalog entries put (and committed) together. */
const BATCH = 256;
/** The first footer read: a segment's footer is a few KiB (about 1 KiB per row group). */
const FIRST_FOOTER_FETCH = 16 * 1024;
const FOOTER_FETCH_MAX = 1024 * 1024;

export interface AdoptProgress {
  /** Segment objects listed so far. */
  listed: number;
  /** Footers read so far. */
  read: number;
  /** Objects taken from their partition's segment index (no footer read) so far. */
  indexed: number;
  adopted: number;
}

export interface AdoptOptions {
  /** Footers read at once (default 8); listing goes on meanwhile. */
  concurrency?: number;
  /** Partition prefixes listed at once (default 8). */
  listConcurrency?: number;
  /**
   * Bytes of the first read from an object's end (default 16 KiB); it grows to the longest
   * footer seen, so a footer longer than this costs a second read only until one was seen.
   */
  footerFetchBytes?: number;
  /**
   * Use the partitions' segment indexes (default true): an object the index describes with its
   * very key and size is catalogued from it without a footer read. false reads every footer.
   */
  useIndex?: boolean;
  /** Called with each entry adopted (after it is put). */
  onAdopted?: (e: CatalogEntry) => void;
  /** Called after each footer read, every 1,024 objects taken from an index, and at the end. */
  progress?: (p: AdoptProgress) => void;
}

/**
 * Objects in the store that the catalog does not know as cold (uploaded just before a crash,
 * or by another archiver sharing the bucket, or all of them for a rebuild): an object that its
 * partition's segment index (segment-index.ts, read once per partition, only when the partition
 * has an object to adopt) describes with the same key and size, and that has no hot copy, is
 * catalogued from the index; any other has its footer read with one ranged GET (a second only
 * for a footer longer than `footerFetchBytes`) and, when a hot copy exists, its bytes compared;
 * then they are catalogued as cold. The partition prefixes are found with
 * delimiter listings and listed in parallel (`listConcurrency` at once) while footers are read
 * (at most `concurrency` at once). Returns how many were adopted. An object-store outage is
 * thrown; an unreadable object is logged and skipped.
 */
export async function adoptObjects(
  catalog: Catalog,
  store: ObjectStore,
  hotDir: string,
  log: Logger,
  options: AdoptOptions = {},
): Promise<number> {
  const limit = Math.max(1, options.concurrency ?? 8);
  const listLimit = Math.max(1, options.listConcurrency ?? 8);
  let fetchBytes = options.footerFetchBytes ?? FIRST_FOOTER_FETCH;
  const useIndex = options.useIndex ?? true;
  const p: AdoptProgress = { listed: 0, read: 0, indexed: 0, adopted: 0 };
  // Entries are put BATCH at a time, so they are committed in one transaction each.
  const pending: CatalogEntry[] = [];
  const putPending = async (): Promise<void> => {
    const batch = pending.splice(0);
    if (batch.length === 0) return;
    await Promise.all(batch.map((e) => catalog.put(e)));
    p.adopted += batch.length;
    if (options.onAdopted !== undefined) for (const e of batch) options.onAdopted(e);
  };
  const adoptOne = async (o: SegmentObject): Promise<void> => {
    try {
      const seg = await openSegment(objectBuffer(store, o.key, o.size), {
        initialFetchSize: fetchBytes,
      });
      const footer = seg.parquet.metadata_length + 8;
      if (footer > fetchBytes)
        fetchBytes = Math.min(FOOTER_FETCH_MAX, Math.ceil(footer / 4096) * 4096);
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
      // The footer's own meta: entryFromMeta derives the stream from topic + generation itself.
      pending.push(entryFromMeta(seg.meta, o.size, { hot, cold: true }));
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
    if (pending.length >= BATCH) await putPending();
  };

  // At most `limit` footer reads at once, shared by every partition's lister.
  const running = new Set<Promise<void>>();
  const waiting: Array<() => void> = [];
  let failure: { err: unknown } | null = null;
  const fail = (err: unknown): void => {
    failure ??= { err };
  };
  const slot = async (): Promise<void> => {
    while (running.size >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const start = (o: SegmentObject): void => {
    const task: Promise<void> = adoptOne(o)
      .catch(fail)
      .finally(() => {
        running.delete(task);
        for (const wake of waiting.splice(0)) wake();
      });
    running.add(task);
  };

  const overlapping = new Map<string, { count: number; first: [string, string] }>();
  /** One partition's objects, in key order (so sorted by offset). */
  const listPartition = async (dir: string): Promise<void> => {
    let prev: SegmentObject | null = null;
    // The partition's segment index, fetched at its first object to adopt (undefined: not yet).
    let index: Map<string, CatalogEntry> | null | undefined = useIndex ? undefined : null;
    const fromIndex = async (o: SegmentObject): Promise<CatalogEntry | undefined> => {
      // Every object of a partition directory names the same stream and partition; null (no
      // usable index) is remembered too.
      if (index === undefined) index = await readSegmentIndex(store, o.topic, o.partition, log);
      const e = index?.get(o.key);
      return e !== undefined && e.bytes === o.size ? e : undefined;
    };
    for await (const o of listDirObjects(store, dir)) {
      if (failure !== null) return;
      p.listed++;
      // Brings the partition into the catalog's cache: the lookups below and the puts of its
      // entries are then answered in memory instead of by one query each.
      if (prev === null) catalog.segments(o.topic, o.partition);
      if (prev !== null) {
        if (o.firstOffset <= prev.lastOffset) {
          const k = `${o.topic}/${o.partition}`;
          const seen = overlapping.get(k);
          if (seen === undefined) overlapping.set(k, { count: 1, first: [prev.key, o.key] });
          else seen.count++;
        }
        if (o.lastOffset > prev.lastOffset) prev = o; // else prev still reaches further
      } else prev = o;
      const known = catalog.get(o.topic, o.partition, o.firstOffset, o.lastOffset);
      if (known?.cold === true) continue;
      if (known?.hot !== true) {
        // A hot copy is compared byte for byte below; without one the index's facts suffice.
        const e = await fromIndex(o);
        if (e !== undefined) {
          pending.push({ ...e, hot: false, cold: true });
          if (++p.indexed % 1024 === 0) options.progress?.(p);
          if (pending.length >= BATCH) await putPending();
          continue;
        }
      }
      await slot();
      if (failure !== null) return;
      start(o);
    }
  };
  try {
    const dirs = await listPartitionDirs(store, listLimit);
    let next = 0;
    const lister = async (): Promise<void> => {
      while (failure === null && next < dirs.length) {
        await listPartition(dirs[next++] as string).catch(fail);
      }
    };
    await Promise.all(Array.from({ length: Math.min(listLimit, dirs.length) }, lister));
  } catch (err) {
    fail(err);
  }
  while (running.size > 0) await Promise.all(running);
  if (failure === null) await putPending().catch(fail);
  if (failure !== null) throw (failure as { err: unknown }).err;
  options.progress?.(p); // the totals
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
