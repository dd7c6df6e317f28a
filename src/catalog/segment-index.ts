import { isArchiveError, ErrorCodes, describeError } from '../errors.js';
import type { Logger } from '../log/index.js';
import { segmentIndexKey, segmentKey } from '../archive/index.js';
import type { ObjectStore } from '../storage/index.js';
import { isPackedEntry, pack, unpack, type CatalogEntry } from './entry.js';
import type { Catalog } from './store.js';

/**
 * A partition's segment index: `<partition directory>/_segments.jsonl` in the object store, the
 * catalog entries (footer facts + size) of the partition's segment objects as the tierer knew
 * them when it wrote the index. A rebuild from the bucket reads it with one GET instead of one
 * footer per segment; it is a hint, never the only record of anything:
 *
 * - only an entry whose object is in the listing with the very same key and size is used;
 *   every other listed object gets its footer read, as without an index;
 * - a missing, unreadable or foreign index is the same as none (logged, footers read);
 * - it is written whole (a plain PutObject replacing the previous one: visible whole or not at
 *   all), so two members writing it one after the other leave one of their views, both true.
 *
 * Format (JSON lines, UTF-8): a header line
 *   {"format":"kafka-archive/segment-index","version":1,"stream":"t","partition":0,"entries":N,"writtenAt":"<ISO time>"}
 * then one packed catalog entry per line (entry.ts, flags 2 = cold), in offset order.
 */
const FORMAT = 'kafka-archive/segment-index';
const VERSION = 1;

interface IndexHeader {
  format: string;
  version: number;
  stream: string;
  partition: number;
  entries: number;
  writtenAt: string;
}

/** The index object's bytes for these entries (their hot flag is dropped: the bucket's view). */
export function encodeSegmentIndex(
  stream: string,
  partition: number,
  entries: readonly CatalogEntry[],
  now: Date = new Date(),
): Buffer {
  const header: IndexHeader = {
    format: FORMAT,
    version: VERSION,
    stream,
    partition,
    entries: entries.length,
    writtenAt: now.toISOString(),
  };
  const lines = [JSON.stringify(header)];
  for (const e of entries) lines.push(JSON.stringify(pack({ ...e, hot: false, cold: true })));
  return Buffer.from(lines.join('\n') + '\n');
}

/** The entries of an index object by segment key; throws a description of what is wrong. */
export function decodeSegmentIndex(
  body: Buffer,
  expect: { stream: string; partition: number },
): Map<string, CatalogEntry> {
  const lines = body.toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const header = JSON.parse(lines[0] ?? '') as Partial<IndexHeader>;
  if (header.format !== FORMAT || header.version !== VERSION) {
    throw new Error(`not a ${FORMAT} version ${VERSION} object`);
  }
  if (header.stream !== expect.stream || header.partition !== expect.partition) {
    throw new Error(`header names ${String(header.stream)}/${String(header.partition)}`);
  }
  if (header.entries !== lines.length - 1) {
    throw new Error(`header says ${String(header.entries)} entries, found ${lines.length - 1}`);
  }
  const out = new Map<string, CatalogEntry>();
  for (let i = 1; i < lines.length; i++) {
    const v: unknown = JSON.parse(lines[i] as string);
    if (!isPackedEntry(v)) throw new Error(`line ${i + 1} is not a catalog entry`);
    const e = unpack(v);
    if (e.topic !== expect.stream || e.partition !== expect.partition) {
      throw new Error(`line ${i + 1} names ${e.topic}/${e.partition}`);
    }
    out.set(segmentKey(e), e);
  }
  return out;
}

/**
 * The index of a stream's partition, or null when there is none or it cannot be used (logged).
 * An object-store outage is thrown.
 */
export async function readSegmentIndex(
  store: ObjectStore,
  stream: string,
  partition: number,
  log: Logger,
): Promise<Map<string, CatalogEntry> | null> {
  const key = segmentIndexKey(stream, partition);
  let body: Buffer;
  try {
    body = await store.get(key);
  } catch (err) {
    if (isArchiveError(err) && err.code === ErrorCodes.OBJECT_NOT_FOUND) return null;
    throw err;
  }
  try {
    return decodeSegmentIndex(body, { stream, partition });
  } catch (err) {
    log.warn(
      { key, err: describeError(err) },
      'segment index unusable; the footers of this partition are read instead',
    );
    return null;
  }
}

/**
 * Writes the partition's index from the catalog: its entries with a verified copy in the object
 * store. Returns how many it holds (0: nothing written, the partition has no cold segment).
 */
export async function writeSegmentIndex(
  catalog: Catalog,
  store: ObjectStore,
  stream: string,
  partition: number,
): Promise<number> {
  const cold = catalog
    .segments(stream, partition)
    .all()
    .filter((e) => e.cold);
  if (cold.length === 0) return 0;
  await store.put(segmentIndexKey(stream, partition), encodeSegmentIndex(stream, partition, cold));
  return cold.length;
}
