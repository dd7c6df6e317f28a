import type { BrokerLogDirs, LogDirPartition } from '../../kafka/types.js';
import {
  defaultRecoveryThreads,
  estimateLogDirHeadroom,
  headroomVerdict,
  KAFKA_INDEX_DEFAULTS,
  OFFSET_INDEX_ENTRY_BYTES,
  rebuiltIndexBytes,
  roundUp,
  TIME_INDEX_ENTRY_BYTES,
  type IndexSettings,
  type PartitionState,
  type SegmentState,
  type TopicIndexOverrides,
} from '../headroom.js';
import {
  classifyWatermark,
  DEFAULT_WATERMARKS,
  type Watermarks,
  type WatermarkState,
} from '../volume.js';
import type { FleetEstimate } from './types.js';

/**
 * A coarse disk row for a broker's log.dir that no agent reports, from Kafka's DescribeLogDirs:
 * per partition the bytes of its log segments, per log.dir (Kafka >= 3.3) the volume's total and
 * usable bytes. Nothing about index files, segments, recovery points or producer snapshots: those
 * are estimated here, with the headroom model of src/disk/headroom.ts, and the row is marked
 * estimate=true.
 *
 * Index bytes from log bytes. Kafka adds one offset-index entry (8 bytes) and at most one
 * time-index entry (12 bytes) each time more than index.interval.bytes (4096) of log were
 * appended since the last entry, so a segment's indexes hold at most
 *
 *     20 bytes per (index.interval.bytes + 1) of log  =  20 / 4097  ≈  0.49 % of its log bytes
 *
 * (rebuiltIndexBytes: the upper bound the headroom model uses for rebuilt indexes), rounded up to
 * whole filesystem blocks per file. Producers that send batches larger than the interval get one
 * entry per batch (fewer: 16 KiB batches give about a quarter of it), so this is an upper bound,
 * the safe side for a disk that must not fill. The partition's segments are taken as full
 * segment.bytes segments plus the active one; without sparse files the active segment's two
 * indexes hold their preallocated segment.index.bytes (2 × 10 MiB) of real blocks.
 *
 * Unclean restart: the broker checkpoints a partition's recovery point when a rolled segment is
 * flushed (and every log.flush.offset.checkpoint.interval.ms), so the estimate recovers the active
 * segment and the one rolled before it; producer snapshots are taken as present for rolled
 * segments (Kafka writes one at each roll). "has" is the volume's usable bytes: reserve blocks on
 * the broker's disk are unknown without an agent (counted as none).
 */
export interface LogDirEstimate extends FleetEstimate {
  /** size − usable when both are known, else the log bytes plus the estimated index bytes. */
  usedBytes: number;
  /** The watermark state of usedPercent (no hysteresis: one sample); "unknown" without it. */
  state: WatermarkState | 'unknown';
  /** Σ partition sizes (.log files), exact from Kafka. */
  logBytes: number;
  /** Estimated allocated bytes of .index and .timeindex files (see the ratio above). */
  indexBytes: number;
  partitions: number;
  /** The log.dir's (or the broker's) error from DescribeLogDirs, null when healthy. */
  error: string | null;
  estimate: true;
}

export interface TopicEstimateOverrides extends TopicIndexOverrides {
  /** segment.bytes of the topic. */
  segmentBytes?: number;
}

export interface EstimateOptions {
  /** Watermarks for the state (default 85/90/95). */
  watermarks?: Watermarks;
  /**
   * Does the brokers' filesystem keep files sparse? ext4, xfs and tmpfs do. Default false: the
   * safe side (the active segments' preallocated indexes counted as real blocks), as `disk
   * headroom` assumes when it cannot tell.
   */
  sparse?: boolean;
  /** Filesystem block (default 4096). */
  blockBytes?: number;
  /** Broker index settings (default Kafka's: 10 MiB, 4096). */
  index?: IndexSettings;
  /** log.segment.bytes of the brokers (default 1 GiB). */
  segmentBytes?: number;
  /** num.recovery.threads.per.data.dir (default: as for kafkaVersion, 2 when unknown). */
  recoveryThreads?: number;
  kafkaVersion?: string;
  /** Per-topic overrides (segment.bytes, segment.index.bytes, index.interval.bytes). */
  topics?: ReadonlyMap<string, TopicEstimateOverrides>;
}

/** Kafka's log.segment.bytes default. */
export const DEFAULT_SEGMENT_BYTES = 2 ** 30;

/** Allocated bytes (whole blocks per file) of one segment's indexes for `logBytes` of log. */
export function estimatedIndexBytes(
  logBytes: number,
  settings: IndexSettings,
  blockBytes: number,
): { offsetIndexBytes: number; timeIndexBytes: number } {
  const r = rebuiltIndexBytes(logBytes, settings);
  return {
    offsetIndexBytes: roundUp(r.offsetIndexBytes, blockBytes),
    timeIndexBytes: roundUp(r.timeIndexBytes, blockBytes),
  };
}

interface Resolved {
  sparse: boolean;
  blockBytes: number;
  index: IndexSettings;
  segmentBytes: number;
  topics: ReadonlyMap<string, TopicEstimateOverrides>;
}

/**
 * The synthetic state of one partition for the headroom model (only its last two segments: the
 * ones an unclean restart recovers; older ones keep their indexes and add nothing) and the
 * estimated index bytes of all its segments.
 */
export function estimatePartition(
  p: LogDirPartition,
  o: Resolved,
): { state: PartitionState; indexBytes: number } {
  const t = o.topics.get(p.topic);
  const settings: IndexSettings = {
    segmentIndexBytes: t?.segmentIndexBytes ?? o.index.segmentIndexBytes,
    indexIntervalBytes: t?.indexIntervalBytes ?? o.index.indexIntervalBytes,
  };
  const segBytes = Math.max(1, t?.segmentBytes ?? o.segmentBytes);
  const size = Math.max(0, p.sizeBytes);
  const segments = Math.max(1, Math.ceil(size / segBytes));
  const activeBytes = size - (segments - 1) * segBytes;
  const B = o.blockBytes;
  const sealed = estimatedIndexBytes(segBytes, settings, B);
  const active = estimatedIndexBytes(activeBytes, settings, B);
  // Without sparse files the active segment's indexes are preallocated to segment.index.bytes.
  const full = {
    offsetIndexBytes: roundUp(
      Math.floor(settings.segmentIndexBytes / OFFSET_INDEX_ENTRY_BYTES) * OFFSET_INDEX_ENTRY_BYTES,
      B,
    ),
    timeIndexBytes: roundUp(
      Math.floor(settings.segmentIndexBytes / TIME_INDEX_ENTRY_BYTES) * TIME_INDEX_ENTRY_BYTES,
      B,
    ),
  };
  // An empty active segment's indexes hold no blocks on a sparse filesystem.
  const activeIdx = !o.sparse
    ? full
    : activeBytes === 0
      ? { offsetIndexBytes: 0, timeIndexBytes: 0 }
      : active;
  const file = (allocated: number) => ({ apparentBytes: allocated, allocatedBytes: allocated });
  const seg = (base: bigint, logBytes: number, idx: typeof active): SegmentState => ({
    baseOffset: base,
    logBytes,
    offsetIndex: file(idx.offsetIndexBytes),
    timeIndex: file(idx.timeIndexBytes),
  });
  const list: SegmentState[] =
    segments > 1
      ? [seg(0n, segBytes, sealed), seg(1n, activeBytes, activeIdx)]
      : [seg(0n, activeBytes, activeIdx)];
  const indexBytes =
    (segments - 1) * (sealed.offsetIndexBytes + sealed.timeIndexBytes) +
    activeIdx.offsetIndexBytes +
    activeIdx.timeIndexBytes;
  return {
    state: {
      topic: p.topic,
      partition: p.partition,
      recoveryPoint: 0n, // from the first of the two: both recovered
      segments: list,
      snapshotOffsets: segments > 1 ? [1n] : [],
    },
    indexBytes,
  };
}

/** One estimated row per broker and log.dir of a DescribeLogDirs answer (see the top). */
export function estimateFromLogDirs(
  dirs: BrokerLogDirs[],
  opts: EstimateOptions = {},
): LogDirEstimate[] {
  const o: Resolved = {
    sparse: opts.sparse ?? false,
    blockBytes: opts.blockBytes ?? 4096,
    index: opts.index ?? KAFKA_INDEX_DEFAULTS,
    segmentBytes: opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
    topics: opts.topics ?? new Map(),
  };
  const watermarks = opts.watermarks ?? DEFAULT_WATERMARKS;
  const recoveryThreads = opts.recoveryThreads ?? defaultRecoveryThreads(opts.kafkaVersion);
  return dirs.map((d): LogDirEstimate => {
    const parts = d.error === null ? d.partitions.map((p) => estimatePartition(p, o)) : [];
    const logBytes = d.partitions.reduce((s, p) => s + Math.max(0, p.sizeBytes), 0);
    const indexBytes = parts.reduce((s, p) => s + p.indexBytes, 0);
    const known = d.error === null && d.totalBytes !== null && d.usableBytes !== null;
    const size = known ? (d.totalBytes as number) : null;
    const usable = known ? (d.usableBytes as number) : null;
    const used =
      size !== null && usable !== null ? Math.max(0, size - usable) : logBytes + indexBytes;
    const usedPercent = size !== null && size > 0 ? (used / size) * 100 : null;
    let needs: number | null = null;
    let has: number | null = null;
    let survives: boolean | null = null;
    if (d.error === null) {
      needs = estimateLogDirHeadroom(
        parts.map((p) => p.state),
        {
          scenario: 'unclean',
          sparse: o.sparse,
          blockBytes: o.blockBytes,
          recoveryThreads,
          index: o.index,
          topics: o.topics,
        },
      ).neededBytes;
      if (usable !== null) {
        const v = headroomVerdict(needs, usable, 0);
        has = v.hasBytes;
        survives = v.verdict !== 'no';
      }
    }
    return {
      brokerId: d.brokerId,
      logDir: d.logDir,
      sizeBytes: size,
      availableBytes: usable,
      usedBytes: used,
      usedPercent,
      state: usedPercent === null ? 'unknown' : classifyWatermark(usedPercent, watermarks),
      logBytes,
      indexBytes,
      partitions: d.partitions.length,
      survivesUncleanRestart: survives,
      needsBytes: needs,
      hasBytes: has,
      error: d.error,
      estimate: true,
    };
  });
}

/** The index-to-log ratio of the estimate for an index.interval.bytes (before block rounding). */
export function indexToLogRatio(
  indexIntervalBytes = KAFKA_INDEX_DEFAULTS.indexIntervalBytes,
): number {
  return (OFFSET_INDEX_ENTRY_BYTES + TIME_INDEX_ENTRY_BYTES) / (indexIntervalBytes + 1);
}
