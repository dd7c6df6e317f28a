import { ArchiveError, ErrorCodes } from '../errors.js';
import { readSegmentMeta, localFileBuffer } from '../segment/index.js';
import type { LocalSegmentIndex } from './local-index.js';

export interface OffsetRange {
  from: bigint;
  to: bigint;
}

export interface PartitionOffsets {
  topic: string;
  partition: number;
  segments: number;
  records: number;
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
        metas.push({ seg: s, meta: await readSegmentMeta(await localFileBuffer(s.path)) });
      }
      const spans = metas
        .map((m) => ({ from: m.meta.rangeStart, to: m.meta.rangeEnd }))
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
      const ms = metas.map((m) => m.meta);
      out.push({
        topic,
        partition,
        segments: segs.length,
        records: ms.reduce((n, m) => n + m.recordCount, 0),
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
