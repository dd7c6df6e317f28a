import type { AsyncBuffer } from '../segment/index.js';
import type { ObjectStore } from '../storage/index.js';
import { parseSegmentKey, partitionRelDir, TOPICS_PREFIX, type SegmentLocation } from './layout.js';

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
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

/** One segment object in the store. */
export interface SegmentObject extends SegmentLocation {
  key: string;
  size: number;
}

/** Every segment object in the store (other keys, such as topic snapshots, are skipped). */
export async function* listSegmentObjects(store: ObjectStore): AsyncGenerator<SegmentObject> {
  for await (const o of store.list(TOPICS_PREFIX)) {
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
