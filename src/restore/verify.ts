import type { Admin, KafkaClient, KafkaRecord, PartitionRange } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import type { ArchiveAccess } from './access.js';
import { OFFSET_HEADERS } from './batch.js';
import { ContentDigest, type RecordContent } from './digest.js';
import type { JobState } from './job-store.js';
import { loadRuns, partitionKey, RunCursor, RunIndex, type OffsetRun } from './offset-map.js';
import { scanPartition } from './scan.js';

/**
 * Verification of a job: the target read back (read_committed) against the archive. Both
 * sides are hashed per (source partition, target partition) pair in offset order (ContentDigest:
 * key, value, headers, timestamp), each record placed by the job's offset map: an archive
 * record goes to the pair its run names, a target record to the pair of the run holding its
 * new offset. With partitions preserved the pairs are the partitions themselves. Records the
 * map does not place are counted: archive records not restored (`missing`), target records
 * the job did not write (`unexpected`, e.g. written by others into an --append target).
 */
export interface PairReport {
  sourceTopic: string;
  sourcePartition: number;
  targetTopic: string;
  targetPartition: number;
  archiveRecords: number;
  archiveSha256: string;
  targetRecords: number;
  targetSha256: string;
  match: boolean;
}

export interface VerifyReport {
  jobId: string;
  ok: boolean;
  /** False when the job has not finished: only what it committed so far is compared. */
  complete: boolean;
  pairs: PairReport[];
  /** Archive records in the range that the offset map does not place, per source partition. */
  missing: Array<{ topic: string; partition: number; records: number }>;
  /** Target records after the job's start that no run of the map holds, per target partition. */
  unexpected: Array<{ topic: string; partition: number; records: number; firstOffset: string }>;
  /** Records whose original-offset headers (--offset-header) disagree with the map. */
  headerMismatches: number;
  archiveRecords: number;
  targetRecords: number;
  seconds: number;
}

interface Side {
  digest: ContentDigest;
}

const pairKey = (r: OffsetRun) =>
  `${r.topic}\u0000${r.partition}\u0000${r.targetTopic}\u0000${r.targetPartition}`;

function stripOffsetHeaders(r: KafkaRecord): { content: RecordContent; original: bigint | null } {
  const h = r.headers;
  const n = h.length;
  if (
    n >= 3 &&
    h[n - 3]!.key === OFFSET_HEADERS.topic &&
    h[n - 2]!.key === OFFSET_HEADERS.partition &&
    h[n - 1]!.key === OFFSET_HEADERS.offset
  ) {
    const v = h[n - 1]!.value?.toString() ?? '';
    return {
      content: { ...r, headers: h.slice(0, n - 3) },
      original: /^\d+$/.test(v) ? BigInt(v) : null,
    };
  }
  return { content: r, original: null };
}

export async function verifyJob(
  deps: { access: ArchiveAccess; target: KafkaClient; stateDir: string; log: Logger },
  state: JobState,
  mapPath: string,
): Promise<VerifyReport> {
  const t0 = performance.now();
  const runs = await loadRuns(mapPath);
  const index = new RunIndex(runs);
  const archive = new Map<string, Side>();
  const target = new Map<string, Side>();
  const pairs = new Map<string, OffsetRun>();
  const side = (m: Map<string, Side>, r: OffsetRun) => {
    const k = pairKey(r);
    pairs.set(k, r);
    let s = m.get(k);
    if (s === undefined) m.set(k, (s = { digest: new ContentDigest() }));
    return s;
  };
  const report: VerifyReport = {
    jobId: state.id,
    ok: false,
    complete: state.status === 'done',
    pairs: [],
    missing: [],
    unexpected: [],
    headerMismatches: 0,
    archiveRecords: 0,
    targetRecords: 0,
    seconds: 0,
  };
  // Archive side: the job's range up to the progress its map records.
  const counter = { bytesRead: 0 };
  for (const p of state.plan) {
    const mine = index.source(p.topic, p.partition);
    const progress = mine.reduce((n, r) => (r.next > n ? r.next : n), p.startOffset);
    const end =
      state.status === 'done' ? p.endOffset : progress < p.endOffset ? progress : p.endOffset;
    const cursor = new RunCursor(mine, 'source');
    let missing = 0;
    const window = {
      fromOffset: p.startOffset,
      endOffset: end,
      fromTime: toBig(state.spec.fromTime),
      toTime: toBig(state.spec.toTime),
    };
    for await (const chunk of scanPartition(deps.access, p.topic, p.partition, window, counter)) {
      for (const r of chunk.records) {
        report.archiveRecords++;
        const run = cursor.find(r.offset);
        if (run === null) missing++;
        else side(archive, run).digest.update(r);
      }
    }
    if (missing > 0)
      report.missing.push({ topic: p.topic, partition: p.partition, records: missing });
  }
  // Target side: every partition of every target from where the job began writing.
  let admin: Admin | null = null;
  const ranges: PartitionRange[] = [];
  try {
    admin = await deps.target.admin();
    const ends =
      state.status === 'done' ? await stableEnds(admin, state, index, deps.log) : new Map();
    for (const t of state.targets) {
      const offsets = ends.get(t.topic) ?? (await admin.offsets(t.topic));
      for (let p = 0; p < t.partitions; p++) {
        const from = BigInt(t.startOffsets[String(p)] ?? '0');
        const to = offsets.get(p)?.high ?? from;
        if (to > from)
          ranges.push({ topic: t.topic, partition: p, fromOffset: from, toOffset: to });
      }
    }
  } finally {
    await admin?.disconnect().catch(() => undefined);
  }
  const cursors = new Map<string, RunCursor>();
  const unexpected = new Map<string, { records: number; firstOffset: bigint }>();
  await deps.target.readCommitted(ranges, (tp, records) => {
    const k = partitionKey(tp.topic, tp.partition);
    let cursor = cursors.get(k);
    if (cursor === undefined)
      cursors.set(k, (cursor = new RunCursor(index.target(tp.topic, tp.partition), 'target')));
    for (const r of records) {
      report.targetRecords++;
      const run = cursor.find(r.offset);
      if (run === null) {
        const u = unexpected.get(k) ?? { records: 0, firstOffset: r.offset };
        u.records++;
        unexpected.set(k, u);
        continue;
      }
      let content: RecordContent = r;
      if (state.spec.offsetHeader) {
        const s = stripOffsetHeaders(r);
        content = s.content;
        if (s.original !== run.from + (r.offset - run.newFrom)) report.headerMismatches++;
      }
      side(target, run).digest.update(content);
    }
  });
  for (const [k, u] of unexpected) {
    const [topic, partition] = k.split('\u0000');
    report.unexpected.push({
      topic: topic!,
      partition: Number(partition),
      records: u.records,
      firstOffset: u.firstOffset.toString(),
    });
  }
  const empty = new ContentDigest().digestHex();
  for (const [k, run] of [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const a = archive.get(k)?.digest;
    const t = target.get(k)?.digest;
    const pr: PairReport = {
      sourceTopic: run.topic,
      sourcePartition: run.partition,
      targetTopic: run.targetTopic,
      targetPartition: run.targetPartition,
      archiveRecords: a?.count ?? 0,
      archiveSha256: a?.digestHex() ?? empty,
      targetRecords: t?.count ?? 0,
      targetSha256: t?.digestHex() ?? empty,
      match: false,
    };
    pr.match = pr.archiveRecords === pr.targetRecords && pr.archiveSha256 === pr.targetSha256;
    report.pairs.push(pr);
  }
  report.pairs.sort(
    (a, b) =>
      a.sourceTopic.localeCompare(b.sourceTopic) ||
      a.sourcePartition - b.sourcePartition ||
      a.targetPartition - b.targetPartition,
  );
  report.ok =
    report.pairs.every((p) => p.match) &&
    report.missing.length === 0 &&
    report.unexpected.length === 0 &&
    report.headerMismatches === 0;
  report.seconds = Math.round(performance.now() - t0) / 1000;
  deps.log.info(
    {
      job: state.id,
      ok: report.ok,
      archiveRecords: report.archiveRecords,
      targetRecords: report.targetRecords,
      seconds: report.seconds,
    },
    'restore verified',
  );
  return report;
}

const toBig = (s: string | null) => (s === null ? null : BigInt(s));

/** How long a finished job's verification waits for the target to expose its last transactions. */
const STABLE_WAIT_MS = 30_000;

/**
 * The targets' committed ends, once they cover what the job wrote. A transaction's commit
 * returns before the broker has written its markers, so right after a restore a target
 * partition's last stable offset can still stand before the job's last records (and a
 * read_committed reader sees none of them). Waits, bounded, until every partition's end
 * reaches the end of the job's runs there.
 */
async function stableEnds(
  admin: Admin,
  state: JobState,
  index: RunIndex,
  log: Logger,
): Promise<Map<string, Map<number, { low: bigint; high: bigint }>>> {
  const expected = new Map<string, bigint>();
  for (const tp of index.targets()) {
    const end = index
      .target(tp.topic, tp.partition)
      .reduce(
        (n, r) => (r.newFrom + (r.to - r.from) + 1n > n ? r.newFrom + (r.to - r.from) + 1n : n),
        0n,
      );
    expected.set(partitionKey(tp.topic, tp.partition), end);
  }
  const deadline = performance.now() + STABLE_WAIT_MS;
  for (let wait = 25; ; wait = Math.min(wait * 2, 500)) {
    const ends = new Map<string, Map<number, { low: bigint; high: bigint }>>();
    let behind: string | null = null;
    for (const t of state.targets) {
      const offsets = await admin.offsets(t.topic);
      ends.set(t.topic, offsets);
      for (let p = 0; p < t.partitions && behind === null; p++) {
        const want = expected.get(partitionKey(t.topic, p)) ?? 0n;
        if ((offsets.get(p)?.high ?? 0n) < want)
          behind = `${t.topic}/${p} at ${offsets.get(p)?.high ?? 0n}, job wrote up to ${want}`;
      }
    }
    if (behind === null) return ends;
    if (performance.now() > deadline) {
      log.warn(
        { job: state.id, behind, waitedMs: STABLE_WAIT_MS },
        'the target does not expose all the records the job committed (its last stable offset stays behind): verifying what it exposes',
      );
      return ends;
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}
