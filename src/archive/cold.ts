import type { AsyncBuffer } from '../segment/index.js';
import type { ObjectStore } from '../storage/index.js';
import { parseSegmentKey, TOPICS_PREFIX, type SegmentLocation } from './layout.js';

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
