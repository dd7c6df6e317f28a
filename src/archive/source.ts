import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ArchiveError, ErrorCodes } from '../errors.js';
import {
  localFileBuffer,
  openSegment,
  type AsyncBuffer,
  type OpenSegment,
} from '../segment/index.js';
import type { ObjectStore } from '../storage/index.js';
import { objectBuffer } from './cold.js';
import { segmentKey, type SegmentLocation } from './layout.js';

/** A segment as the catalog knows it: where it is, on which tiers, how big. */
export interface TieredSegment extends SegmentLocation {
  hot: boolean;
  cold: boolean;
  bytes: number;
}

/** Opens a catalogued segment from whichever tier holds it. */
export interface SegmentSource {
  open(segment: TieredSegment): Promise<OpenSegment>;
}

/** Segments on the local hot tier only (no object store configured). */
export function hotSource(hotDir: string): SegmentSource {
  return {
    async open(e) {
      if (!e.hot) {
        throw new ArchiveError(
          ErrorCodes.SEGMENT_CORRUPT,
          `segment ${segmentKey(e)} has no hot copy and no object store is configured`,
        );
      }
      return openSegment(await localFileBuffer(join(hotDir, segmentKey(e))));
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
  e: TieredSegment,
): Promise<{ buffer: AsyncBuffer; tier: 'hot' | 'cold' }> {
  const key = segmentKey(e);
  if (e.hot) {
    const path = join(hotDir, key);
    // The hot copy may have just been evicted after tiering: fall back to the object.
    if ((await stat(path).catch(() => null)) !== null)
      return { buffer: await localFileBuffer(path), tier: 'hot' };
  }
  if (!e.cold) {
    throw new ArchiveError(
      ErrorCodes.OBJECT_NOT_FOUND,
      `segment ${key} has no hot file and is not in the object store (${store.description}); run \`kafka-archive catalog rebuild\``,
    );
  }
  return { buffer: objectBuffer(store, key, e.bytes), tier: 'cold' };
}

/** Opens segments from the hot tier when a copy is there, else from the object store. */
export function tieredSource(hotDir: string, store: ObjectStore): SegmentSource {
  return {
    async open(e) {
      return openSegment((await tieredBuffer(hotDir, store, e)).buffer);
    },
  };
}
