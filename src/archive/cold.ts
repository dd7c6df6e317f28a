import type { AsyncBuffer } from '../segment/index.js';
import type { ObjectStore } from '../storage/index.js';
import {
  parseGenerationDir,
  parsePartitionDir,
  parseSegmentKey,
  partitionRelDir,
  TOPICS_PREFIX,
  type SegmentLocation,
} from './layout.js';

/**
 * A segment object read with range requests: Parquet readers fetch the footer, then only the
 * column chunks of the row groups they need, so reading one record does not download the
 * whole segment.
 */
export function objectBuffer(store: ObjectStore, key: string, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const last = (end ?? size) - 1;
      if (last < start) return new ArrayBuffer(0);
      const b = await store.getRange(key, start, last);
      // A response body usually owns its whole ArrayBuffer: hand that over instead of a copy.
      if (
        b.byteOffset === 0 &&
        b.byteLength === b.buffer.byteLength &&
        b.buffer instanceof ArrayBuffer
      )
        return b.buffer;
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

/** One segment object in the store. */
export interface SegmentObject extends SegmentLocation {
  key: string;
  size: number;
}

/** The last path segment of a directory key (`a/b/` -> `b`). */
const dirName = (d: string): string => d.slice(d.lastIndexOf('/', d.length - 2) + 1, -1);

/**
 * The partition directories of the store (`topic=<t>/partition=<p>/` and
 * `topic=<t>/generation=<n>/partition=<p>/`), found with delimiter listings: one per topic (and
 * per generation), `concurrency` at once. Together they hold every key parseSegmentKey accepts,
 * each under exactly one of them, so listing them one by one (or in parallel) sees every
 * segment object once. Order: by topic, not otherwise defined.
 */
export async function listPartitionDirs(store: ObjectStore, concurrency = 16): Promise<string[]> {
  const topics: string[] = [];
  for await (const d of store.listDirs(TOPICS_PREFIX)) topics.push(d);
  const found: string[][] = topics.map(() => []);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < topics.length) {
      const i = next++;
      const out = found[i] as string[];
      for await (const d of store.listDirs(topics[i] as string)) {
        const name = dirName(d);
        if (parsePartitionDir(name) !== null) out.push(d);
        else if (parseGenerationDir(name) !== null) {
          for await (const g of store.listDirs(d)) {
            if (parsePartitionDir(dirName(g)) !== null) out.push(g);
          }
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return found.flat();
}

/** Every segment object in the store (other keys, such as topic snapshots, are skipped). */
export async function* listSegmentObjects(store: ObjectStore): AsyncGenerator<SegmentObject> {
  for await (const o of store.list(TOPICS_PREFIX)) {
    const loc = parseSegmentKey(o.key);
    if (loc !== null) yield { ...loc, key: o.key, size: o.size };
  }
}

/** The segment objects under one directory (`listPartitionDirs`), in key order. */
export async function* listDirObjects(
  store: ObjectStore,
  dir: string,
): AsyncGenerator<SegmentObject> {
  for await (const o of store.list(dir)) {
    const loc = parseSegmentKey(o.key);
    if (loc !== null) yield { ...loc, key: o.key, size: o.size };
  }
}

/** The segment objects of one partition (its prefix only), in offset order. */
export async function listPartitionObjects(
  store: ObjectStore,
  topic: string,
  partition: number,
): Promise<SegmentObject[]> {
  const out: SegmentObject[] = [];
  for await (const o of store.list(`${partitionRelDir(topic, partition)}/`)) {
    const loc = parseSegmentKey(o.key);
    if (loc !== null && loc.topic === topic && loc.partition === partition) {
      out.push({ ...loc, key: o.key, size: o.size });
    }
  }
  return out;
}
