import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CatalogEntry, SegmentSource, Tier } from '../catalog/index.js';
import { ArchiveError, ErrorCodes } from '../errors.js';
import {
  localFileBuffer,
  openSegment,
  segmentRelPath,
  type AsyncBuffer,
} from '../segment/index.js';
import type { ObjectStore } from '../storage/index.js';

/** The object key of a segment: the same layout as the hot tier (the store adds its prefix). */
export function objectKey(
  e: Pick<CatalogEntry, 'topic' | 'partition' | 'firstOffset' | 'lastOffset'>,
): string {
  return segmentRelPath(e.topic, e.partition, e.firstOffset, e.lastOffset);
}

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

/**
 * The bytes of a catalogued segment from the hot tier when a copy is there, else from the
 * object store (range requests), and which tier answered.
 */
export async function tieredBuffer(
  hotDir: string,
  store: ObjectStore,
  e: CatalogEntry,
): Promise<{ buffer: AsyncBuffer; tier: Tier }> {
  const rel = objectKey(e);
  if (e.hot) {
    const path = join(hotDir, rel);
    // The hot copy may have just been evicted after tiering: fall back to the object.
    if ((await stat(path).catch(() => null)) !== null)
      return { buffer: await localFileBuffer(path), tier: 'hot' };
  }
  if (!e.cold) {
    throw new ArchiveError(
      ErrorCodes.OBJECT_NOT_FOUND,
      `segment ${rel} has no hot file and is not in the object store (${store.description}); run \`kafka-archive catalog rebuild\``,
      { userFacing: true },
    );
  }
  return { buffer: objectBuffer(store, rel, e.bytes), tier: 'cold' };
}

/** Opens segments from the hot tier when a copy is there, else from the object store. */
export function tieredSource(hotDir: string, store: ObjectStore): SegmentSource {
  return {
    async open(e) {
      return openSegment((await tieredBuffer(hotDir, store, e)).buffer);
    },
  };
}
