import { ArchiveError, ErrorCodes } from '../errors.js';
import {
  localFileBuffer,
  openSegment,
  readSegmentOffsets,
  type OpenSegment,
} from '../segment/index.js';
import type { LocalSegmentIndex } from './local-index.js';

export interface OffsetRange {
  from: bigint;
  to: bigint;
}

export interface PartitionOffsets {
  topic: string;
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
  tier: 'hot';
}

/** Topics in the archive whose name equals `spec` or fully matches it as a regular expression. */
export async function matchArchivedTopics(
  index: LocalSegmentIndex,
  spec: string,
): Promise<string[]> {
  const topics = await index.topics();
  if (topics.includes(spec)) return [spec];
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${spec})$`);
  } catch {
    re = /$^/;
  }
  const matched = topics.filter((t) => re.test(t));
  if (matched.length === 0) {
    throw new ArchiveError(
      ErrorCodes.ARCHIVE_TOPIC_UNKNOWN,
      `no archived topic matches "${spec}"${topics.length > 0 ? `; archived topics: ${topics.slice(0, 20).join(', ')}${topics.length > 20 ? ', ...' : ''}` : ' (the archive is empty)'}`,
      { userFacing: true },
    );
  }
  return matched;
}

/** Archived offsets per partition, read from the sealed segments' footers. */
export async function archivedOffsets(
  index: LocalSegmentIndex,
  spec: string,
): Promise<PartitionOffsets[]> {
  const out: PartitionOffsets[] = [];
  for (const topic of await matchArchivedTopics(index, spec)) {
    for (const partition of await index.partitions(topic)) {
      const segs = await index.segments(topic, partition);
      if (segs.length === 0) continue;
      const metas = [];
      for (const s of segs) {
        metas.push({ seg: s, open: await openSegment(await localFileBuffer(s.path)) });
      }
      const { distinct, total } = await countRecords(metas.map((m) => m.open));
      const spans = metas
        .map((m) => ({ from: m.open.meta.rangeStart, to: m.open.meta.rangeEnd }))
        .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
      const ranges: OffsetRange[] = [];
      for (const r of spans) {
        const last = ranges[ranges.length - 1];
        if (last !== undefined && r.from <= last.to + 1n) {
          if (r.to > last.to) last.to = r.to;
        } else ranges.push({ ...r });
      }
      const gaps: OffsetRange[] = [];
      for (let i = 1; i < ranges.length; i++) {
        gaps.push({
          from: (ranges[i - 1] as OffsetRange).to + 1n,
          to: (ranges[i] as OffsetRange).from - 1n,
        });
      }
      const ms = metas.map((m) => m.open.meta);
      out.push({
        topic,
        partition,
        segments: segs.length,
        records: distinct,
        overlappingRecords: total - distinct,
        bytes: segs.reduce((n, s) => n + s.bytes, 0),
        firstOffset: ms.reduce(
          (a, m) => (m.firstOffset < a ? m.firstOffset : a),
          ms[0]!.firstOffset,
        ),
        lastOffset: ms.reduce((a, m) => (m.lastOffset > a ? m.lastOffset : a), ms[0]!.lastOffset),
        minTimestamp: ms.reduce(
          (a, m) => (m.minTimestamp < a ? m.minTimestamp : a),
          ms[0]!.minTimestamp,
        ),
        maxTimestamp: ms.reduce(
          (a, m) => (m.maxTimestamp > a ? m.maxTimestamp : a),
          ms[0]!.maxTimestamp,
        ),
        ranges,
        gaps,
        tier: 'hot',
      });
    }
  }
  return out;
}

/**
 * Record count of a partition's segments. Segments whose offset spans do not overlap are counted
 * from their footers; only overlapping ones (rare) have their offset column read to count each
 * offset once.
 */
async function countRecords(segs: OpenSegment[]): Promise<{ distinct: number; total: number }> {
  const sorted = [...segs].sort((a, b) =>
    a.meta.firstOffset < b.meta.firstOffset ? -1 : a.meta.firstOffset > b.meta.firstOffset ? 1 : 0,
  );
  let total = 0;
  let distinct = 0;
  let cluster: typeof sorted = [];
  let clusterEnd = -1n;
  const closeCluster = async () => {
    if (cluster.length === 1) distinct += cluster[0]!.meta.recordCount;
    else if (cluster.length > 1) {
      const seen = new Set<bigint>();
      for (const s of cluster) for (const o of await readSegmentOffsets(s)) seen.add(o);
      distinct += seen.size;
    }
    cluster = [];
  };
  for (const s of sorted) {
    total += s.meta.recordCount;
    if (cluster.length > 0 && s.meta.firstOffset > clusterEnd) await closeCluster();
    cluster.push(s);
    if (cluster.length === 1 || s.meta.lastOffset > clusterEnd) clusterEnd = s.meta.lastOffset;
  }
  await closeCluster();
  return { distinct, total };
}
