import { ArchiveError, ErrorCodes } from '../errors.js';
import type { ObjectStore } from '../storage/index.js';
import { groupDayPrefix, groupPrefix, groupSnapshotKey, parseGroupSnapshotKey } from './layout.js';

/**
 * The archived series of consumer-group positions: one object per snapshot of a group, JSON
 * lines, one line per partition with a committed offset (DuckDB reads them in place, see README
 * "Archive format"):
 *
 *   {"group":"billing","topic":"orders","partition":3,"offset":1200,"metadata":null,
 *    "capturedAt":"2026-11-01T03:00:00.000Z"}
 *
 * `offset` is Kafka's committed next offset to consume (written with every digit; DuckDB reads
 * it as BIGINT). Objects are written put-if-absent and never changed.
 */
export interface GroupOffsetRow {
  topic: string;
  partition: number;
  offset: bigint;
  metadata: string | null;
}

export interface GroupSnapshot {
  group: string;
  capturedAtMs: number;
  key: string;
  offsets: GroupOffsetRow[];
}

export function formatGroupSnapshot(
  group: string,
  capturedAtMs: number,
  offsets: readonly GroupOffsetRow[],
): string {
  const at = JSON.stringify(new Date(capturedAtMs).toISOString());
  const g = JSON.stringify(group);
  return offsets
    .map(
      (o) =>
        `{"group":${g},"topic":${JSON.stringify(o.topic)},"partition":${o.partition},"offset":${o.offset},"metadata":${JSON.stringify(o.metadata)},"capturedAt":${at}}\n`,
    )
    .join('');
}

/** The rows of a snapshot object (offsets keep every digit: the JSON source text is read). */
export function parseGroupSnapshot(text: string): GroupOffsetRow[] {
  const out: GroupOffsetRow[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line, (key, value: unknown, ctx?: { source?: string }) =>
        key === 'offset' && typeof value === 'number' && ctx?.source !== undefined
          ? BigInt(ctx.source)
          : value,
      ) as Record<string, unknown>;
    } catch {
      continue; // never written torn (objects appear whole); a foreign line is skipped
    }
    if (
      typeof o.topic !== 'string' ||
      typeof o.partition !== 'number' ||
      typeof o.offset !== 'bigint' ||
      (o.metadata !== null && typeof o.metadata !== 'string')
    )
      continue;
    out.push({
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
      metadata: o.metadata,
    });
  }
  return out;
}

/** Stores one snapshot; false when an object of that group and millisecond already exists. */
export async function writeGroupSnapshot(
  store: ObjectStore,
  group: string,
  capturedAtMs: number,
  offsets: readonly GroupOffsetRow[],
): Promise<{ key: string; written: boolean }> {
  const key = groupSnapshotKey(group, capturedAtMs);
  try {
    await store.put(key, Buffer.from(formatGroupSnapshot(group, capturedAtMs, offsets)), {
      ifAbsent: true,
    });
    return { key, written: true };
  } catch (err) {
    // Another archiver instance snapshotted the same group in the same millisecond.
    if (err instanceof ArchiveError && err.code === ErrorCodes.OBJECT_EXISTS)
      return { key, written: false };
    throw err;
  }
}

const DAY_MS = 86_400_000;
/** Days walked back one listing each before a group's whole series is listed. */
const DAYS_WALKED = 7;

/** The newest snapshot key of a prefix listing at or before `atMs`, or null. */
async function newestAtOrBefore(
  store: ObjectStore,
  prefix: string,
  atMs: number,
): Promise<{ key: string; capturedAtMs: number } | null> {
  let best: { key: string; capturedAtMs: number } | null = null;
  for await (const o of store.list(prefix)) {
    const k = parseGroupSnapshotKey(o.key);
    if (k === null || k.capturedAtMs > atMs) continue;
    if (best === null || k.capturedAtMs > best.capturedAtMs)
      best = { key: o.key, capturedAtMs: k.capturedAtMs };
  }
  return best;
}

/**
 * The latest archived snapshot of a group taken at or before `atMs`, or null when there is
 * none. Lists the day of `atMs` and up to a week before it, one day at a time, then the whole
 * series of the group (a group whose positions did not change for longer).
 */
export async function findGroupSnapshot(
  store: ObjectStore,
  group: string,
  atMs: number,
): Promise<GroupSnapshot | null> {
  let found: { key: string; capturedAtMs: number } | null = null;
  for (let d = 0; d <= DAYS_WALKED && found === null; d++)
    found = await newestAtOrBefore(store, groupDayPrefix(group, atMs - d * DAY_MS), atMs);
  found ??= await newestAtOrBefore(store, groupPrefix(group), atMs);
  if (found === null) return null;
  const body = await store.get(found.key);
  return {
    group,
    capturedAtMs: found.capturedAtMs,
    key: found.key,
    offsets: parseGroupSnapshot(body.toString('utf8')),
  };
}
