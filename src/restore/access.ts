import type { Catalog, CatalogEntry, Tier } from '../catalog/index.js';
import {
  countingBuffer,
  openSegment,
  type AsyncBuffer,
  type OpenSegment,
} from '../segment/index.js';

/** The topic metadata snapshot kept beside the segments (`topic=<t>/_topic.json`). */
export interface TopicSnapshot {
  name: string;
  partitions: number;
  configs: Record<string, string>;
  capturedAt?: string;
}

/** What a restore reads the archive through (built by src/service/restore.ts). */
export interface ArchiveAccess {
  catalog: Catalog;
  /** A segment's bytes from whichever tier holds it, and which tier that is. */
  open(entry: CatalogEntry): Promise<{ buffer: AsyncBuffer; tier: Tier }>;
  /** The topic's metadata snapshot, or null when none was taken (nothing tiered yet). */
  topicSnapshot(topic: string): Promise<TopicSnapshot | null>;
}

/** Footer reads start with this many bytes (hyparquet's 512 KiB default reads small files whole). */
const FOOTER_FETCH = 64 * 1024;

/** Opens a segment for reading, counting every byte fetched into `counter`. */
export async function openCounted(
  access: ArchiveAccess,
  entry: CatalogEntry,
  counter: { bytesRead: number },
): Promise<{ seg: OpenSegment; tier: Tier }> {
  const { buffer, tier } = await access.open(entry);
  const counted = countingBuffer(buffer, (n) => (counter.bytesRead += n));
  return { seg: await openSegment(counted, { initialFetchSize: FOOTER_FETCH }), tier };
}
