import { matchArchivedTopics, type CatalogEntry, type Tier } from '../catalog/index.js';
import { parseStream } from '../archive/index.js';
import { ArchiveError, ErrorCodes } from '../errors.js';
import { readRowGroupKeys, rowGroups } from '../segment/index.js';
import { isoTime } from '../util/json.js';
import { openCounted, type ArchiveAccess } from './access.js';
import { boundFor, targetTopicOf } from './spec.js';
import type { Gap, PartitionPlan, RestorePlan, RestoreRequest } from './types.js';
import { recordInWindow, rowGroupVerdict, segmentsToRead, type ReadWindow } from './window.js';

interface Span {
  from: bigint;
  to: bigint;
}

/** Offset spans the archive covers (records plus offsets Kafka skipped inside segments). */
export function coveredSpans(segs: readonly CatalogEntry[]): Span[] {
  const spans = segs
    .map((e) => ({ from: e.rangeStart, to: e.rangeEnd }))
    .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  const out: Span[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last !== undefined && s.from <= last.to + 1n) {
      if (s.to > last.to) last.to = s.to;
    } else out.push({ ...s });
  }
  return out;
}

/** Offsets of [from, endExclusive) that no covered span holds. */
export function gapsIn(spans: readonly Span[], from: bigint, endExclusive: bigint): Span[] {
  const gaps: Span[] = [];
  let cur = from;
  for (const s of spans) {
    if (cur >= endExclusive) break;
    if (s.to < cur) continue;
    if (s.from > cur)
      gaps.push({ from: cur, to: (s.from < endExclusive ? s.from : endExclusive) - 1n });
    cur = s.to + 1n;
  }
  if (cur < endExclusive) gaps.push({ from: cur, to: endExclusive - 1n });
  return gaps;
}

/** One line per archived partition: offsets and time bounds (for "no data" messages). */
export function describeArchived(
  access: ArchiveAccess,
  topics: string[],
  partitions: number[] | null,
): string {
  const lines: string[] = [];
  for (const topic of topics) {
    for (const p of access.catalog.partitions(topic)) {
      if (partitions !== null && !partitions.includes(p)) continue;
      const segs = access.catalog.segments(topic, p).all();
      if (segs.length === 0) continue;
      const spans = coveredSpans(segs).map((s) => `${s.from}..${s.to}`);
      const minTs = segs.reduce(
        (a, e) => (e.minTimestamp < a ? e.minTimestamp : a),
        segs[0]!.minTimestamp,
      );
      const maxTs = segs.reduce(
        (a, e) => (e.maxTimestamp > a ? e.maxTimestamp : a),
        segs[0]!.maxTimestamp,
      );
      lines.push(
        `${topic}/${p}: offsets ${spans.join(', ')}; timestamps ${isoTime(minTs)} .. ${isoTime(maxTs)}`,
      );
    }
  }
  return lines.length > 20
    ? [...lines.slice(0, 20), `... (${lines.length - 20} more)`].join('\n  ')
    : lines.join('\n  ');
}

/** The source topics of a request: archived topics matching its name or expression. */
export function sourceTopics(access: ArchiveAccess, r: RestoreRequest): string[] {
  const topics = matchArchivedTopics(access.catalog, r.topic, r.generation);
  if (r.targetTopic !== null && topics.length > 1) {
    throw new ArchiveError(
      ErrorCodes.USAGE,
      `--target-topic names one topic but "${r.topic}" matches ${topics.length} archived topics (${topics.join(', ')}); use --topic-map a=b,... or the default <topic>.restored`,
    );
  }
  const kafkaTopics = topics.map((t) => parseStream(t)?.topic ?? t);
  for (const k of r.topicMap.keys()) {
    if (!kafkaTopics.includes(k)) {
      throw new ArchiveError(
        ErrorCodes.USAGE,
        `--topic-map: ${k} is not among the topics restored (${kafkaTopics.join(', ')})`,
      );
    }
  }
  const targets = new Map<string, string>();
  for (const t of topics) {
    const target = targetTopicOf(r, t);
    const other = targets.get(target);
    if (other !== undefined) {
      throw new ArchiveError(
        ErrorCodes.USAGE,
        `topics ${other} and ${t} would both be restored into ${target}; give each its own target with --topic-map`,
      );
    }
    targets.set(target, t);
  }
  return topics;
}

/** The plan of one partition: bounds, gaps and exact record counts from footers and statistics. */
async function planPartition(
  access: ArchiveAccess,
  r: RestoreRequest,
  topic: string,
  partition: number,
  counter: { bytesRead: number },
): Promise<{ plan: PartitionPlan | null; gaps: Gap[] }> {
  const segs = access.catalog.segments(topic, partition).all();
  const spans = coveredSpans(segs);
  const first = spans[0];
  const last = spans[spans.length - 1];
  if (first === undefined || last === undefined) return { plan: null, gaps: [] };
  const lo = boundFor(r.startOffset, partition) ?? first.from;
  const hi = boundFor(r.endOffset, partition) ?? last.to + 1n;
  if (lo >= hi) return { plan: null, gaps: [] };
  const w: ReadWindow = { fromOffset: lo, endOffset: hi, fromTime: r.fromTime, toTime: r.toTime };
  const candidates = [...segmentsToRead(segs, w)];
  const timed = r.fromTime !== null || r.toTime !== null;
  if (candidates.length === 0) {
    // Offsets asked for that the archive does not hold at all are a gap, not "no data".
    return {
      plan: null,
      gaps: timed ? [] : gapsIn(spans, lo, hi).map((g) => ({ topic, partition, ...g })),
    };
  }
  // With a time range, the offsets read are those of the segments that can hold its records.
  const startOffset = timed ? maxBig(lo, candidates[0]!.entry.firstOffset) : lo;
  const lastEntry = candidates[candidates.length - 1]!.entry;
  const endOffset = timed ? minBig(hi, lastEntry.lastOffset + 1n) : hi;
  const window: ReadWindow = { ...w, fromOffset: startOffset, endOffset };
  const plan: PartitionPlan = {
    topic,
    partition,
    targetTopic: targetTopicOf(r, topic),
    startOffset,
    endOffset,
    records: 0,
    recordBytes: 0,
    segments: 0,
    segmentBytes: 0,
    rowGroups: 0,
    rowGroupBytes: 0,
    tiers: [],
  };
  const tiers = new Set<Tier>();
  for (const { entry, fromOffset } of segmentsToRead(segs, window)) {
    const { seg, tier } = await openCounted(access, entry, counter);
    let used = false;
    for (const g of rowGroups(seg)) {
      const verdict = rowGroupVerdict(g, fromOffset, window);
      if (verdict === 'skip') continue;
      let n = g.rows;
      if (verdict === 'partial') {
        const keys = await readRowGroupKeys(seg, g);
        n = keys.filter((k) => recordInWindow(k, fromOffset, window)).length;
      }
      if (n === 0) continue;
      used = true;
      plan.rowGroups++;
      plan.rowGroupBytes += g.compressedBytes;
      plan.records += n;
      plan.recordBytes += Math.round((g.recordBytes * n) / g.rows);
    }
    if (used) {
      plan.segments++;
      plan.segmentBytes += entry.bytes;
      tiers.add(tier);
    }
  }
  plan.tiers = [...tiers].sort();
  const gaps = gapsIn(spans, startOffset, endOffset).map((g) => ({ topic, partition, ...g }));
  return { plan: plan.records > 0 || gaps.length > 0 ? plan : null, gaps };
}

const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);
const minBig = (a: bigint, b: bigint) => (a < b ? a : b);

/**
 * The plan of a request: per archived partition the original offsets to read and what they
 * hold. Fails with RESTORE_NO_DATA (naming what the archive holds) when nothing matches, and
 * with RESTORE_GAP when the archive misses offsets inside the range (unless `allowGaps`).
 */
export async function makePlan(
  access: ArchiveAccess,
  r: RestoreRequest,
  allowGaps: boolean,
  counter: { bytesRead: number },
): Promise<RestorePlan> {
  const topics = sourceTopics(access, r);
  const partitions: PartitionPlan[] = [];
  const gaps: Gap[] = [];
  for (const topic of topics) {
    const archived = access.catalog.partitions(topic);
    if (r.partitions !== null) {
      const missing = r.partitions.filter((p) => !archived.includes(p));
      if (missing.length > 0 && topics.length === 1) {
        throw new ArchiveError(
          ErrorCodes.RESTORE_NO_DATA,
          `topic ${topic} has no archived partition ${missing.join(', ')}; archived partitions: ${archived.join(', ')}`,
        );
      }
    }
    for (const p of archived) {
      if (r.partitions !== null && !r.partitions.includes(p)) continue;
      const res = await planPartition(access, r, topic, p, counter);
      if (res.plan !== null) partitions.push(res.plan);
      gaps.push(...res.gaps);
    }
  }
  if (partitions.length === 0 && gaps.length === 0) {
    throw new ArchiveError(
      ErrorCodes.RESTORE_NO_DATA,
      `no archived record of ${r.topic} is in the range asked for (${describeRange(r)}); the archive holds:\n  ${describeArchived(access, topics, r.partitions)}`,
    );
  }
  if (gaps.length > 0 && !allowGaps) {
    const list = gaps
      .slice(0, 20)
      .map(
        (g) =>
          `${g.topic}/${g.partition}: offsets ${g.from}..${g.to} (${g.to - g.from + 1n} offsets)`,
      );
    throw new ArchiveError(
      ErrorCodes.RESTORE_GAP,
      `the archive has ${gaps.length} gap${gaps.length === 1 ? '' : 's'} inside the range (offsets never archived):\n  ${list.join('\n  ')}${gaps.length > 20 ? '\n  ...' : ''}\nrestore anyway, without them, with --allow-gaps`,
      { details: { gaps: gaps.length } },
    );
  }
  return { partitions, gaps };
}

export function describeRange(r: RestoreRequest): string {
  const parts: string[] = [];
  if (r.fromTime !== null || r.toTime !== null)
    parts.push(
      `timestamps [${r.fromTime === null ? '-inf' : isoTime(r.fromTime)}, ${r.toTime === null ? '+inf' : isoTime(r.toTime)})`,
    );
  const b = (x: RestoreRequest['startOffset']) =>
    x === null
      ? null
      : [x.all !== null ? `${x.all}` : null, ...[...x.byPartition].map(([p, o]) => `${p}:${o}`)]
          .filter((s) => s !== null)
          .join(',');
  if (r.startOffset !== null || r.endOffset !== null)
    parts.push(`offsets [${b(r.startOffset) ?? 'first'}, ${b(r.endOffset) ?? 'last'})`);
  if (r.partitions !== null) parts.push(`partitions ${r.partitions.join(',')}`);
  return parts.length > 0 ? parts.join(', ') : 'everything';
}
