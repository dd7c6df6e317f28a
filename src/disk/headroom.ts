import { formatBytes } from '../config/units.js';

/**
 * Unclean-restart headroom: how much extra disk a Kafka broker needs, on one log.dir, to recover
 * after an unclean exit — and whether the volume has it. Pure functions; the inputs (segments,
 * index files, checkpoints, filesystem behaviour) are read by src/disk/report/logdir-state.ts.
 *
 * What Kafka does (LogLoader / LogSegment / AbstractIndex, 2.x-4.x):
 *  - A segment whose offset index is missing (or corrupt) is recovered while the log is loaded,
 *    whatever the shutdown; without the clean-shutdown marker every segment from the one holding
 *    the recovery point (recovery-point-offset-checkpoint; 0 when the partition is not in it or
 *    the file is unreadable) to the end is recovered as well.
 *  - Recovering a segment resets its .index and .timeindex: RandomAccessFile.setLength to
 *    segment.index.bytes (10 MiB default) — sparse on ext4/xfs/tmpfs, fully allocated where the
 *    filesystem has no sparse files — then rebuilds them entry by entry (one 8-byte offset entry
 *    and at most one 12-byte time entry per index.interval.bytes of log, 4096 by default) and
 *    trims them to their entries. A producer-state snapshot (<next offset>.snapshot) is written
 *    after each recovered segment.
 *  - Partitions are loaded num.recovery.threads.per.data.dir at a time (1 before Kafka 4.0, 2
 *    since), segments of one partition one after the other.
 *  - When loading ends the active (last) segment's indexes are set back to segment.index.bytes:
 *    free on a sparse filesystem, 2 × 10 MiB per partition of real blocks on one without.
 *
 * The estimate is meant as an upper bound of the peak growth of allocated bytes on the log.dir
 * during recovery (see README "Disk safety" for the formula and its assumptions).
 */

export const OFFSET_INDEX_ENTRY_BYTES = 8;
export const TIME_INDEX_ENTRY_BYTES = 12;

/** Broker defaults: log.index.size.max.bytes and log.index.interval.bytes. */
export const KAFKA_INDEX_DEFAULTS: IndexSettings = {
  segmentIndexBytes: 10 * 2 ** 20,
  indexIntervalBytes: 4096,
};

export interface IndexSettings {
  /** segment.index.bytes (topic) / log.index.size.max.bytes (broker): preallocated index length. */
  segmentIndexBytes: number;
  /** index.interval.bytes (topic) / log.index.interval.bytes (broker). */
  indexIntervalBytes: number;
}

/** Per-topic overrides (from the admin API's DescribeConfigs, or given by hand). */
export interface TopicIndexOverrides {
  segmentIndexBytes?: number;
  indexIntervalBytes?: number;
}

/**
 * num.recovery.threads.per.data.dir when server.properties does not set it: 1 before Kafka 4.0,
 * 2 from 4.0 (KIP-1030). Unknown version: 2, the larger (more segments in flight at once).
 */
export function defaultRecoveryThreads(kafkaVersion?: string): number {
  if (kafkaVersion === undefined) return 2;
  const major = Number(/^(\d+)\./.exec(kafkaVersion)?.[1]);
  return Number.isFinite(major) && major < 4 ? 1 : 2;
}

/** Broker-wide index settings and recovery threads from server.properties (Kafka defaults). */
export function brokerRecoverySettings(
  properties: ReadonlyMap<string, string>,
  kafkaVersion?: string,
): { index: IndexSettings; recoveryThreads: number } {
  const num = (key: string, fallback: number, min: number) => {
    const raw = properties.get(key);
    const n = raw === undefined ? NaN : Number(raw.trim());
    return Number.isInteger(n) && n >= min ? n : fallback;
  };
  return {
    index: {
      segmentIndexBytes: num(
        'log.index.size.max.bytes',
        KAFKA_INDEX_DEFAULTS.segmentIndexBytes,
        TIME_INDEX_ENTRY_BYTES,
      ),
      indexIntervalBytes: num(
        'log.index.interval.bytes',
        KAFKA_INDEX_DEFAULTS.indexIntervalBytes,
        0,
      ),
    },
    recoveryThreads: num(
      'num.recovery.threads.per.data.dir',
      defaultRecoveryThreads(kafkaVersion),
      1,
    ),
  };
}

/** Per-topic overrides from a topic's non-default configs (segment.index.bytes, index.interval.bytes). */
export function topicIndexOverrides(configs: Record<string, string>): TopicIndexOverrides {
  const out: TopicIndexOverrides = {};
  const sib = Number(configs['segment.index.bytes']);
  if (configs['segment.index.bytes'] !== undefined && Number.isInteger(sib) && sib > 0)
    out.segmentIndexBytes = sib;
  const iib = Number(configs['index.interval.bytes']);
  if (configs['index.interval.bytes'] !== undefined && Number.isInteger(iib) && iib >= 0)
    out.indexIntervalBytes = iib;
  return out;
}

export interface IndexFileState {
  apparentBytes: number;
  allocatedBytes: number;
}

export interface SegmentState {
  baseOffset: bigint;
  /** Apparent size of the .log file. */
  logBytes: number;
  /** null: the file is missing. */
  offsetIndex: IndexFileState | null;
  timeIndex: IndexFileState | null;
}

export interface PartitionState {
  topic: string;
  partition: number;
  /** From recovery-point-offset-checkpoint; null when absent (Kafka then recovers from offset 0). */
  recoveryPoint: bigint | null;
  /** Ascending base offsets; the last one is the active segment. */
  segments: SegmentState[];
  /** Base offsets of the producer snapshots (<offset>.snapshot) in the partition directory. */
  snapshotOffsets: bigint[];
}

/**
 * unclean: the broker exits without the clean-shutdown marker (kill -9, OOM, power loss, disk
 * full) and restarts: segments from the recovery point on, plus any with a missing offset index.
 * clean: a restart after a clean shutdown: only segments with a missing offset index.
 * full-rebuild: every segment's indexes are rebuilt (all index files lost or corrupt): the worst
 * case, e.g. after an operator removed index files or a crash corrupted them.
 */
export type RecoveryScenario = 'unclean' | 'clean' | 'full-rebuild';

export interface HeadroomParams {
  scenario: RecoveryScenario;
  /** Does the filesystem keep files extended with ftruncate sparse? (detectSparseSupport) */
  sparse: boolean;
  /** Allocation unit of the filesystem (statfs f_bsize; 4096 on ext4/xfs/tmpfs). */
  blockBytes: number;
  /** num.recovery.threads.per.data.dir. */
  recoveryThreads: number;
  /** Broker-wide index settings. */
  index: IndexSettings;
  /** Per-topic overrides by topic name. */
  topics?: ReadonlyMap<string, TopicIndexOverrides>;
  /**
   * Writes at startup besides recovery: checkpoint files rewritten through temporaries, the
   * metadata log's first appends (default 16 blocks).
   */
  logDirAllowanceBytes?: number;
  /** Per recovered partition: leader-epoch checkpoint and snapshot rewrites (default 2 blocks). */
  partitionAllowanceBytes?: number;
}

export const roundUp = (n: number, block: number): number =>
  n <= 0 ? 0 : Math.ceil(n / block) * block;

const roundDown = (n: number, unit: number): number => Math.floor(n / unit) * unit;

/** The index settings of a topic: broker settings with its overrides applied. */
export function indexSettingsFor(topic: string, params: HeadroomParams): IndexSettings {
  const o = params.topics?.get(topic);
  return {
    segmentIndexBytes: o?.segmentIndexBytes ?? params.index.segmentIndexBytes,
    indexIntervalBytes: o?.indexIntervalBytes ?? params.index.indexIntervalBytes,
  };
}

/**
 * Upper bound of the bytes of the indexes rebuilt from `logBytes` of log: an offset entry is
 * added before a batch once more than index.interval.bytes were read since the last one, so at
 * most floor(logBytes / (interval + 1)) + 1 entries; the time index has at most one entry per
 * offset entry plus the final max-timestamp entry. Both are capped by segment.index.bytes.
 */
export function rebuiltIndexBytes(
  logBytes: number,
  settings: IndexSettings,
): { entries: number; offsetIndexBytes: number; timeIndexBytes: number } {
  const entries = Math.floor(logBytes / (settings.indexIntervalBytes + 1)) + 1;
  return {
    entries,
    offsetIndexBytes: Math.min(
      entries * OFFSET_INDEX_ENTRY_BYTES,
      roundDown(settings.segmentIndexBytes, OFFSET_INDEX_ENTRY_BYTES),
    ),
    timeIndexBytes: Math.min(
      (entries + 1) * TIME_INDEX_ENTRY_BYTES,
      roundDown(settings.segmentIndexBytes, TIME_INDEX_ENTRY_BYTES),
    ),
  };
}

/** Indices of the segments that a restart in `scenario` recovers (their indexes rebuilt). */
export function segmentsToRecover(p: PartitionState, scenario: RecoveryScenario): number[] {
  const n = p.segments.length;
  if (scenario === 'full-rebuild') return Array.from({ length: n }, (_, i) => i);
  let from = n; // first segment recovered because of the recovery point
  if (scenario === 'unclean') {
    from = 0;
    if (p.recoveryPoint !== null) {
      // LogSegments.values(recoveryPoint, MAX): from the segment holding the recovery point.
      for (let i = 0; i < n; i++) {
        if ((p.segments[i] as SegmentState).baseOffset <= p.recoveryPoint) from = i;
      }
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i >= from || (p.segments[i] as SegmentState).offsetIndex === null) out.push(i);
  }
  return out;
}

export interface SegmentEstimate {
  baseOffset: bigint;
  logBytes: number;
  /** Allocated bytes of the rebuilt .index / .timeindex (upper bound, whole blocks). */
  rebuiltOffsetIndexBytes: number;
  rebuiltTimeIndexBytes: number;
  /** Growth that stays once the segment is recovered: rebuilt minus what the files held. */
  growthBytes: number;
  /** Extra while the segment is being recovered (preallocated indexes without sparse files). */
  inFlightExtraBytes: number;
  /** A producer snapshot is written for it that does not exist yet. */
  snapshotBytes: number;
}

export interface PartitionHeadroom {
  topic: string;
  partition: number;
  settings: IndexSettings;
  segments: number;
  segmentsRecovered: number;
  logBytesRecovered: number;
  /** Σ growth of the recovered segments' indexes. */
  indexGrowthBytes: number;
  /** New producer snapshots. */
  snapshotBytes: number;
  /** Active segment indexes set back to segment.index.bytes (real blocks only without sparse files). */
  activeResizeBytes: number;
  allowanceBytes: number;
  /** Largest in-flight extra of one of its segments. */
  inFlightExtraBytes: number;
  /** Growth that stays after recovery (index growth + snapshots + active resize + allowance). */
  growthBytes: number;
  /** Peak during this partition's recovery: growth + in-flight extra. */
  peakBytes: number;
}

export interface LogDirHeadroomEstimate {
  scenario: RecoveryScenario;
  sparse: boolean;
  blockBytes: number;
  recoveryThreads: number;
  partitions: number;
  partitionsRecovered: number;
  segmentsRecovered: number;
  logBytesRecovered: number;
  indexGrowthBytes: number;
  snapshotBytes: number;
  activeResizeBytes: number;
  allowanceBytes: number;
  /** Σ of the `recoveryThreads` largest per-partition in-flight extras. */
  inFlightExtraBytes: number;
  /** Upper bound of the peak growth of allocated bytes during recovery. */
  neededBytes: number;
  /** Partitions by peak need, largest first. */
  byPartition: PartitionHeadroom[];
}

function estimateSegment(
  seg: SegmentState,
  settings: IndexSettings,
  params: HeadroomParams,
  snapshotExists: boolean,
): SegmentEstimate {
  const B = params.blockBytes;
  const rebuilt = rebuiltIndexBytes(seg.logBytes, settings);
  const offAlloc = roundUp(rebuilt.offsetIndexBytes, B);
  const timeAlloc = roundUp(rebuilt.timeIndexBytes, B);
  const eOff = seg.offsetIndex?.allocatedBytes ?? 0;
  const eTime = seg.timeIndex?.allocatedBytes ?? 0;
  // reset() keeps the blocks the file holds (it only extends it), rebuilt entries are written
  // from the start: while recovering the file holds max(existing, rebuilt); the trim at the end
  // leaves the rebuilt entries.
  const growth = Math.max(0, offAlloc - eOff) + Math.max(0, timeAlloc - eTime);
  const fullOff = roundUp(roundDown(settings.segmentIndexBytes, OFFSET_INDEX_ENTRY_BYTES), B);
  const fullTime = roundUp(roundDown(settings.segmentIndexBytes, TIME_INDEX_ENTRY_BYTES), B);
  const inFlight = params.sparse
    ? 0
    : Math.max(0, Math.max(fullOff, eOff) - Math.max(offAlloc, eOff)) +
      Math.max(0, Math.max(fullTime, eTime) - Math.max(timeAlloc, eTime));
  return {
    baseOffset: seg.baseOffset,
    logBytes: seg.logBytes,
    rebuiltOffsetIndexBytes: offAlloc,
    rebuiltTimeIndexBytes: timeAlloc,
    growthBytes: growth,
    inFlightExtraBytes: inFlight,
    snapshotBytes: snapshotExists ? 0 : B,
  };
}

export function estimatePartitionHeadroom(
  p: PartitionState,
  params: HeadroomParams,
): PartitionHeadroom {
  const B = params.blockBytes;
  const settings = indexSettingsFor(p.topic, params);
  const recover = new Set(segmentsToRecover(p, params.scenario));
  const snapshots = new Set(p.snapshotOffsets.map((o) => o.toString()));
  let indexGrowth = 0;
  let snapshotBytes = 0;
  let inFlight = 0;
  let logBytes = 0;
  let activeAfter = 0; // allocated bytes of the active segment's indexes after recovery
  const last = p.segments.length - 1;
  p.segments.forEach((seg, i) => {
    const existing = (seg.offsetIndex?.allocatedBytes ?? 0) + (seg.timeIndex?.allocatedBytes ?? 0);
    if (!recover.has(i)) {
      if (i === last) activeAfter = existing;
      return;
    }
    // recoverSegment snapshots the producer state at the segment's end: the next segment's base
    // offset (the log end for the last one: assume it is new).
    const next = p.segments[i + 1];
    const e = estimateSegment(
      seg,
      settings,
      params,
      next !== undefined && snapshots.has(next.baseOffset.toString()),
    );
    indexGrowth += e.growthBytes;
    snapshotBytes += e.snapshotBytes;
    inFlight = Math.max(inFlight, e.inFlightExtraBytes);
    logBytes += seg.logBytes;
    // Blocks the active segment's indexes hold once recovered (an upper bound, as growth is).
    if (i === last) activeAfter = existing + e.growthBytes;
  });
  let activeResize = 0;
  if (!params.sparse && p.segments.length > 0) {
    const full =
      roundUp(roundDown(settings.segmentIndexBytes, OFFSET_INDEX_ENTRY_BYTES), B) +
      roundUp(roundDown(settings.segmentIndexBytes, TIME_INDEX_ENTRY_BYTES), B);
    activeResize = Math.max(0, full - activeAfter);
  }
  const allowance = recover.size > 0 ? (params.partitionAllowanceBytes ?? 2 * B) : 0;
  const growth = indexGrowth + snapshotBytes + activeResize + allowance;
  return {
    topic: p.topic,
    partition: p.partition,
    settings,
    segments: p.segments.length,
    segmentsRecovered: recover.size,
    logBytesRecovered: logBytes,
    indexGrowthBytes: indexGrowth,
    snapshotBytes,
    activeResizeBytes: activeResize,
    allowanceBytes: allowance,
    inFlightExtraBytes: inFlight,
    growthBytes: growth,
    peakBytes: growth + inFlight,
  };
}

/**
 * Upper bound of the peak extra allocated bytes on one log.dir while a broker recovers it:
 *
 *   needed = Σ_partitions growth_p  +  Σ_{T largest} inFlight_p  +  log.dir allowance
 *
 * growth_p stays after recovery (rebuilt index blocks beyond what the files hold, new producer
 * snapshots, the active segment's indexes set back to segment.index.bytes without sparse files,
 * a small per-partition allowance); inFlight_p is the preallocation of one segment's indexes
 * while it is being rebuilt (0 with sparse files), at most T = num.recovery.threads.per.data.dir
 * partitions at a time.
 */
export function estimateLogDirHeadroom(
  partitions: PartitionState[],
  params: HeadroomParams,
): LogDirHeadroomEstimate {
  const byPartition = partitions.map((p) => estimatePartitionHeadroom(p, params));
  const sum = (f: (p: PartitionHeadroom) => number) => byPartition.reduce((s, p) => s + f(p), 0);
  const inFlight = byPartition
    .map((p) => p.inFlightExtraBytes)
    .sort((a, b) => b - a)
    .slice(0, Math.max(1, params.recoveryThreads))
    .reduce((s, n) => s + n, 0);
  const recovered = byPartition.filter((p) => p.segmentsRecovered > 0);
  const logDirAllowance =
    recovered.length > 0 ? (params.logDirAllowanceBytes ?? 16 * params.blockBytes) : 0;
  const growth = sum((p) => p.growthBytes);
  byPartition.sort((a, b) => b.peakBytes - a.peakBytes || (a.topic < b.topic ? -1 : 1));
  return {
    scenario: params.scenario,
    sparse: params.sparse,
    blockBytes: params.blockBytes,
    recoveryThreads: params.recoveryThreads,
    partitions: partitions.length,
    partitionsRecovered: recovered.length,
    segmentsRecovered: sum((p) => p.segmentsRecovered),
    logBytesRecovered: sum((p) => p.logBytesRecovered),
    indexGrowthBytes: sum((p) => p.indexGrowthBytes),
    snapshotBytes: sum((p) => p.snapshotBytes),
    activeResizeBytes: sum((p) => p.activeResizeBytes),
    allowanceBytes: sum((p) => p.allowanceBytes) + logDirAllowance,
    inFlightExtraBytes: inFlight,
    neededBytes: growth + inFlight + logDirAllowance,
    byPartition,
  };
}

export type SurvivalVerdict = 'yes' | 'only-with-reserves' | 'no';

export interface HeadroomVerdict {
  verdict: SurvivalVerdict;
  neededBytes: number;
  /** available + reserves. */
  hasBytes: number;
  availableBytes: number;
  /** Bytes held by armed reserve blocks that could be released. */
  reserveBytes: number;
  /** hasBytes − neededBytes (negative: short by that much). */
  marginBytes: number;
}

/**
 * Compare the need with what the volume has: df's available bytes (Kafka normally does not run
 * as root, so root-reserved blocks do not count) plus the reserves that could be released.
 */
export function headroomVerdict(
  neededBytes: number,
  availableBytes: number,
  reserveBytes: number,
): HeadroomVerdict {
  const has = availableBytes + reserveBytes;
  return {
    verdict:
      neededBytes <= availableBytes ? 'yes' : neededBytes <= has ? 'only-with-reserves' : 'no',
    neededBytes,
    hasBytes: has,
    availableBytes,
    reserveBytes,
    marginBytes: has - neededBytes,
  };
}

/** "survives an unclean restart today: yes, needs 1.2 MiB, has 40.0 GiB" (and the like). */
export function describeVerdict(v: HeadroomVerdict, what = 'an unclean restart'): string {
  const has =
    v.reserveBytes > 0
      ? `has ${formatBytes(v.hasBytes)} (${formatBytes(v.availableBytes)} available + ${formatBytes(v.reserveBytes)} in reserves)`
      : `has ${formatBytes(v.hasBytes)}`;
  const answer =
    v.verdict === 'yes'
      ? 'yes'
      : v.verdict === 'only-with-reserves'
        ? 'only by releasing reserves'
        : `NO (short by ${formatBytes(-v.marginBytes)})`;
  return `survives ${what} today: ${answer}, needs ${formatBytes(v.neededBytes)}, ${has}`;
}
