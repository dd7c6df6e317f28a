import { ArchiveError, ErrorCodes } from '../errors.js';
import type { KafkaRecord } from '../record.js';
import { isoTime } from '../util/json.js';
import { wholeNameRegex } from '../util/topic-pattern.js';
import { readSegmentOffsets, readSegmentRecords } from '../segment/index.js';
import {
  parseStream,
  segmentKey,
  streamName,
  topicOfStream,
  type SegmentSource,
} from '../archive/index.js';
import { entryTiers, type CatalogEntry, type Tier } from './entry.js';
import type { Catalog } from './store.js';

export interface OffsetRange {
  from: bigint;
  to: bigint;
}

export interface PartitionOffsets {
  topic: string;
  /** The topic's generation these offsets belong to (an incarnation; see archive/layout.ts). */
  generation: number;
  /** Every archived generation of the topic. */
  generations: number[];
  partition: number;
  segments: number;
  /** Distinct archived records (a record held by two overlapping segments counts once). */
  records: number;
  /**
   * Copies hidden by merging overlapping segments (written when two members archived the same
   * offsets around a rebalance); readers return each offset once.
   */
  overlappingRecords: number;
  bytes: number;
  firstOffset: bigint;
  lastOffset: bigint;
  minTimestamp: bigint;
  maxTimestamp: bigint;
  /** Offset spans the archive covers (records plus offsets Kafka skipped inside them). */
  ranges: OffsetRange[];
  /** Offsets between covered spans: never consumed into the archive. */
  gaps: OffsetRange[];
  tiers: Tier[];
}

/**
 * A topic name given by a user: matches the topic of that name, and topics whose whole name
 * matches it as a regular expression (a spec that is not a valid expression is a name only).
 */
export function topicSpecMatcher(spec: string): (topic: string) => boolean {
  const re = wholeNameRegex(spec);
  return (topic) => topic === spec || (re?.test(topic) ?? false);
}

/** Which generations of a topic a reader wants: one by number, all, or (undefined) the newest. */
export type GenerationChoice = number | 'all';

/** The archived generations of each topic in the catalog, ascending. */
export function archivedGenerations(catalog: Catalog): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const stream of catalog.topics()) {
    const parsed = parseStream(stream);
    if (parsed === null) continue;
    const gens = out.get(parsed.topic) ?? [];
    gens.push(parsed.generation);
    out.set(parsed.topic, gens);
  }
  for (const gens of out.values()) gens.sort((a, b) => a - b);
  return out;
}

/**
 * The streams (archive/layout.ts) of the archived topics whose name equals `spec` or fully
 * matches it as a regular expression: per topic its newest generation, the one asked for, or
 * all of them.
 */
export function matchArchivedTopics(
  catalog: Catalog,
  spec: string,
  generation?: GenerationChoice,
): string[] {
  const generations = archivedGenerations(catalog);
  const topics = [...generations.keys()].sort();
  const matched = topics.includes(spec) ? [spec] : topics.filter(topicSpecMatcher(spec));
  if (matched.length === 0) {
    const list = topics.slice(0, 20).join(', ') + (topics.length > 20 ? ', ...' : '');
    throw new ArchiveError(
      ErrorCodes.ARCHIVE_TOPIC_UNKNOWN,
      `no archived topic matches "${spec}"${topics.length > 0 ? `; archived topics: ${list}` : ' (the archive is empty)'}`,
    );
  }
  const out: string[] = [];
  for (const topic of matched) {
    const gens = generations.get(topic) as number[];
    if (generation === 'all') out.push(...gens.map((g) => streamName(topic, g)));
    else if (generation === undefined) out.push(streamName(topic, gens[gens.length - 1] as number));
    else if (gens.includes(generation)) out.push(streamName(topic, generation));
  }
  if (out.length === 0) {
    const have = matched.map((t) => `${t}: ${(generations.get(t) as number[]).join(', ')}`);
    throw new ArchiveError(
      ErrorCodes.ARCHIVE_GENERATION_UNKNOWN,
      `no archived topic matching "${spec}" has generation ${String(generation)}; archived generations: ${have.slice(0, 20).join('; ')}`,
    );
  }
  return out;
}

/** The stream of one archived topic (exact name): its newest generation or the one asked for. */
export function archivedStream(catalog: Catalog, topic: string, generation?: number): string {
  const streams = matchArchivedTopics(catalog, topic, generation);
  const exact = streams.find((s) => parseStream(s)?.topic === topic);
  if (exact === undefined) {
    throw new ArchiveError(ErrorCodes.ARCHIVE_TOPIC_UNKNOWN, `no archived topic "${topic}"`);
  }
  return exact;
}

function requirePartition(catalog: Catalog, stream: string, partition: number): void {
  if (!catalog.partitions(stream).includes(partition)) {
    const { topic, generation } = topicOfStream(stream);
    throw new ArchiveError(
      ErrorCodes.ARCHIVE_OFFSET_OUT_OF_RANGE,
      `topic ${topic}${generation > 1 ? ` (generation ${generation})` : ''} has no archived partition ${partition}; archived partitions: ${catalog.partitions(stream).join(', ')}`,
    );
  }
}

const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);

/** Archived offsets per partition, from the catalog (footers are read only for overlaps). */
export async function archivedOffsets(
  catalog: Catalog,
  source: SegmentSource,
  spec: string,
  generation?: GenerationChoice,
): Promise<PartitionOffsets[]> {
  const out: PartitionOffsets[] = [];
  const generations = archivedGenerations(catalog);
  for (const stream of matchArchivedTopics(catalog, spec, generation)) {
    const { topic, generation: g } = topicOfStream(stream);
    for (const partition of catalog.partitions(stream)) {
      const segs = catalog.segments(stream, partition).all();
      const first = segs[0];
      if (first === undefined) continue;
      const ranges: OffsetRange[] = [];
      const spans = [...segs]
        .map((e) => ({ from: e.rangeStart, to: e.rangeEnd }))
        .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
      for (const r of spans) {
        const last = ranges[ranges.length - 1];
        if (last !== undefined && r.from <= last.to + 1n) last.to = maxBig(last.to, r.to);
        else ranges.push({ ...r });
      }
      const gaps: OffsetRange[] = [];
      for (let i = 1; i < ranges.length; i++) {
        gaps.push({
          from: (ranges[i - 1] as OffsetRange).to + 1n,
          to: (ranges[i] as OffsetRange).from - 1n,
        });
      }
      const { distinct, total } = await countRecords(segs, source);
      const tiers = new Set<Tier>();
      for (const e of segs) for (const t of entryTiers(e)) tiers.add(t);
      out.push({
        topic,
        generation: g,
        generations: generations.get(topic) ?? [g],
        partition,
        segments: segs.length,
        records: distinct,
        overlappingRecords: total - distinct,
        bytes: segs.reduce((n, e) => n + e.bytes, 0),
        firstOffset: segs.reduce((a, e) => minBig(a, e.firstOffset), first.firstOffset),
        lastOffset: segs.reduce((a, e) => maxBig(a, e.lastOffset), first.lastOffset),
        minTimestamp: segs.reduce((a, e) => minBig(a, e.minTimestamp), first.minTimestamp),
        maxTimestamp: segs.reduce((a, e) => maxBig(a, e.maxTimestamp), first.maxTimestamp),
        ranges,
        gaps,
        tiers: [...tiers].sort(),
      });
    }
  }
  return out;
}

/**
 * Record count of a partition's segments (in offset order). Segments that do not overlap are
 * counted from the catalog; only overlapping ones (rare) have their offset column read so each
 * offset counts once.
 */
async function countRecords(
  segs: readonly CatalogEntry[],
  source: SegmentSource,
): Promise<{ distinct: number; total: number }> {
  let total = 0;
  let distinct = 0;
  let cluster: CatalogEntry[] = [];
  let clusterEnd = -1n;
  const close = async () => {
    if (cluster.length === 1) distinct += (cluster[0] as CatalogEntry).recordCount;
    else if (cluster.length > 1) {
      const seen = new Set<bigint>();
      for (const e of cluster)
        for (const o of await readSegmentOffsets(await source.open(e))) seen.add(o);
      distinct += seen.size;
    }
    cluster = [];
  };
  for (const e of segs) {
    total += e.recordCount;
    if (cluster.length > 0 && e.firstOffset > clusterEnd) await close();
    cluster.push(e);
    if (cluster.length === 1 || e.lastOffset > clusterEnd) clusterEnd = e.lastOffset;
  }
  await close();
  return { distinct, total };
}

export interface TimeLookup {
  topic: string;
  generation: number;
  partition: number;
  /** First archived offset with timestamp >= the time asked for, or null when none. */
  offset: bigint | null;
  timestamp: bigint | null;
  segment: string | null;
  tiers: Tier[];
  /** When offset is null: the latest archived time of the partition. */
  latestTimestamp: bigint;
}

/**
 * For callers that need an answer: throws ARCHIVE_NO_DATA_AT_TIME, naming the latest archived
 * time, when no partition has a record at or after `ts`.
 */
export function requireDataAtTime(rows: readonly TimeLookup[], topic: string, ts: bigint): void {
  if (rows.some((r) => r.offset !== null)) return;
  const latest = rows.reduce((a, r) => (r.latestTimestamp > a ? r.latestTimestamp : a), -1n);
  throw new ArchiveError(
    ErrorCodes.ARCHIVE_NO_DATA_AT_TIME,
    `no archived record of ${topic} has a timestamp at or after ${isoTime(ts)}; the latest archived time is ${isoTime(latest)}`,
  );
}

/** Per partition, the first archived offset with timestamp >= `ts` (Kafka ListOffsets by time). */
export async function lookupTime(
  catalog: Catalog,
  source: SegmentSource,
  topic: string,
  ts: bigint,
  generation?: number,
): Promise<TimeLookup[]> {
  const stream = archivedStream(catalog, topic, generation);
  const g = topicOfStream(stream).generation;
  const out: TimeLookup[] = [];
  for (const partition of catalog.partitions(stream)) {
    const segs = catalog.segments(stream, partition);
    const all = segs.all();
    const latest = all.reduce((a, e) => maxBig(a, e.maxTimestamp), -(2n ** 63n));
    const e = segs.findByTime(ts);
    let hit: KafkaRecord | null = null;
    if (e !== undefined) {
      for await (const r of readSegmentRecords(await source.open(e))) {
        if (r.timestamp >= ts) {
          hit = r;
          break;
        }
      }
    }
    out.push({
      topic,
      generation: g,
      partition,
      offset: hit?.offset ?? null,
      timestamp: hit?.timestamp ?? null,
      segment: hit === null || e === undefined ? null : segmentKey(e),
      tiers: hit === null || e === undefined ? [] : entryTiers(e),
      latestTimestamp: latest,
    });
  }
  return out;
}

export interface ReadRequest {
  topic: string;
  /** The topic's generation; the newest when absent. */
  generation?: number;
  partition: number;
  fromOffset?: bigint;
  /** Stop after this many records. */
  count?: number;
  /** Only records with fromTime <= timestamp < toTime (timestamps are not monotonic). */
  fromTime?: bigint;
  toTime?: bigint;
}

/**
 * Archived records of one partition in offset order, each offset once even when segments
 * overlap, reading only the row groups that can hold the requested offsets.
 */
export async function* readRecords(
  catalog: Catalog,
  source: SegmentSource,
  req: ReadRequest,
): AsyncGenerator<KafkaRecord> {
  const stream = archivedStream(catalog, req.topic, req.generation);
  requirePartition(catalog, stream, req.partition);
  const segs = catalog.segments(stream, req.partition);
  const all = segs.all();
  const firstArchived = all.reduce(
    (a, e) => minBig(a, e.firstOffset),
    (all[0] as CatalogEntry).firstOffset,
  );
  const lastArchived = all.reduce((a, e) => maxBig(a, e.lastOffset), -1n);
  let from = req.fromOffset ?? firstArchived;
  if (
    req.fromOffset !== undefined &&
    (req.fromOffset < firstArchived || req.fromOffset > lastArchived)
  ) {
    throw new ArchiveError(
      ErrorCodes.ARCHIVE_OFFSET_OUT_OF_RANGE,
      `offset ${req.fromOffset} of ${req.topic}/${req.partition} is outside the archive: archived offsets are ${firstArchived}..${lastArchived}`,
    );
  }
  if (req.fromTime !== undefined && req.fromOffset === undefined) {
    const e = segs.findByTime(req.fromTime);
    if (e === undefined) return;
    from = e.firstOffset;
  }
  let remaining = req.count ?? Number.POSITIVE_INFINITY;
  let next = from; // every offset below `next` has been emitted or skipped
  for (const e of segs.from(from)) {
    if (remaining <= 0) return;
    if (e.lastOffset < next) continue; // fully covered by an overlapping segment already read
    if (req.toTime !== undefined && req.fromOffset === undefined && e.minTimestamp >= req.toTime) {
      // Timestamps are not monotonic: a later segment can still hold earlier times, keep going.
      continue;
    }
    for await (const r of readSegmentRecords(await source.open(e), { fromOffset: next })) {
      if (req.fromTime !== undefined && r.timestamp < req.fromTime) {
        next = r.offset + 1n;
        continue;
      }
      if (req.toTime !== undefined && r.timestamp >= req.toTime) {
        next = r.offset + 1n;
        continue;
      }
      yield r;
      next = r.offset + 1n;
      if (--remaining <= 0) return;
    }
    if (e.lastOffset + 1n > next) next = e.lastOffset + 1n;
  }
}
