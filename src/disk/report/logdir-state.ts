import { lstat, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { allocatedBytes } from '../fs-stats.js';
import {
  brokerRecoverySettings,
  describeVerdict,
  estimateLogDirHeadroom,
  headroomVerdict,
  type HeadroomVerdict,
  type IndexFileState,
  type IndexSettings,
  type LogDirHeadroomEstimate,
  type PartitionState,
  type SegmentState,
  type TopicIndexOverrides,
} from '../headroom.js';
import {
  detectSparseSupport,
  scanLogDir,
  type LogDirScan,
  type SparseProbe,
} from '../kafka-logdir.js';

/**
 * Reads what the headroom model needs from a Kafka log.dir (read-only, except the optional
 * sparse-file probe: a 10 MiB file extended with ftruncate at the log.dir root, then removed):
 * per partition the segments with their .log size and .index / .timeindex apparent and allocated
 * bytes, the producer snapshots, the recovery point; the filesystem's block size and whether it
 * keeps files sparse.
 */

async function statFile(path: string): Promise<IndexFileState | null> {
  try {
    const st = await lstat(path, { bigint: true });
    return st.isFile()
      ? { apparentBytes: Number(st.size), allocatedBytes: allocatedBytes(st) }
      : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Segments and snapshots of one partition directory. */
export async function readPartitionState(
  dir: string,
  topic: string,
  partition: number,
  recoveryPoint: bigint | null,
): Promise<PartitionState | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const present = new Set(names);
  const segments: SegmentState[] = [];
  const snapshotOffsets: bigint[] = [];
  for (const name of names) {
    const snap = /^(\d{20})\.snapshot$/.exec(name);
    if (snap !== null) snapshotOffsets.push(BigInt(snap[1] as string));
    const m = /^(\d{20})\.log$/.exec(name);
    if (m === null) continue;
    const base = m[1] as string;
    const log = await statFile(join(dir, name));
    if (log === null) continue; // deleted meanwhile
    segments.push({
      baseOffset: BigInt(base),
      logBytes: log.apparentBytes,
      offsetIndex: present.has(`${base}.index`) ? await statFile(join(dir, `${base}.index`)) : null,
      timeIndex: present.has(`${base}.timeindex`)
        ? await statFile(join(dir, `${base}.timeindex`))
        : null,
    });
  }
  segments.sort((a, b) => (a.baseOffset < b.baseOffset ? -1 : a.baseOffset > b.baseOffset ? 1 : 0));
  return { topic, partition, recoveryPoint, segments, snapshotOffsets };
}

export interface LogDirState {
  scan: LogDirScan;
  partitions: PartitionState[];
  blockBytes: number;
  sparse: boolean;
  /** How `sparse` was decided: the probe, the preallocated indexes seen, or assumed (no sparse files, the safe side). */
  sparseSource: 'probe' | 'observed' | 'assumed';
  sparseProbe: SparseProbe | null;
  /** Why the probe did not run or failed, if so. */
  sparseProbeError: string | null;
}

export interface LogDirStateOptions {
  /** Probe sparse-file support in the log.dir (default true). */
  probeSparse?: boolean;
}

export async function readLogDirState(
  logDir: string,
  options: LogDirStateOptions = {},
): Promise<LogDirState> {
  const scan = await scanLogDir(logDir);
  let sparseProbe: SparseProbe | null = null;
  let sparseProbeError: string | null = null;
  if (options.probeSparse !== false) {
    try {
      sparseProbe = await detectSparseSupport(scan.path);
    } catch (err) {
      sparseProbeError = (err as Error).message;
    }
  } else {
    sparseProbeError = 'not probed';
  }
  const fs = await statfs(scan.path);
  const partitions: PartitionState[] = [];
  // Kafka loads live logs and logs being moved here (-future); -delete ones are removed.
  const loaded = scan.partitions.filter((p) => p.state === 'live' || p.state === 'future');
  for (let i = 0; i < loaded.length; i += 16) {
    const chunk = await Promise.all(
      loaded
        .slice(i, i + 16)
        .map((p) => readPartitionState(p.dir, p.topic, p.partition, p.recoveryPoint)),
    );
    for (const state of chunk) if (state !== null) partitions.push(state);
  }
  const sparse = sparseProbe?.sparse ?? scan.sparseIndexesObserved ?? false;
  return {
    scan,
    partitions,
    blockBytes: fs.bsize > 0 ? fs.bsize : 4096,
    sparse,
    sparseSource:
      sparseProbe !== null ? 'probe' : scan.sparseIndexesObserved !== null ? 'observed' : 'assumed',
    sparseProbe,
    sparseProbeError,
  };
}

export interface LogDirHeadroomOptions extends LogDirStateOptions {
  /** The broker's server.properties (log.index.*, num.recovery.threads.per.data.dir). */
  serverProperties?: ReadonlyMap<string, string>;
  /** Broker version, for the default of num.recovery.threads.per.data.dir (1 before 4.0, 2 since). */
  kafkaVersion?: string;
  /** Per-topic segment.index.bytes / index.interval.bytes overrides. */
  topics?: ReadonlyMap<string, TopicIndexOverrides>;
  /** df "Avail" of the volume. */
  availableBytes: number;
  /** Bytes in armed reserve blocks that could be released (default 0). */
  reserveBytes?: number;
  /** Partitions listed per scenario (largest need first; default 20). */
  partitionsShown?: number;
}

export interface ScenarioHeadroom extends LogDirHeadroomEstimate {
  verdict: HeadroomVerdict;
  /** "survives an unclean restart today: yes, needs …, has …" */
  summary: string;
  /** Partitions left out of byPartition (partitionsShown). */
  partitionsNotShown: number;
}

export interface LogDirHeadroom {
  logDir: string;
  filesystemType: string;
  lastShutdown: LogDirScan['lastShutdown'];
  cleanShutdownMarker: boolean;
  brokerPid: number | null;
  sparse: boolean;
  sparseSource: LogDirState['sparseSource'];
  sparseProbeError: string | null;
  blockBytes: number;
  recoveryThreads: number;
  index: IndexSettings;
  topicOverrides: Record<string, TopicIndexOverrides>;
  /** The verdict of the report: an unclean exit now, then a restart. */
  unclean: ScenarioHeadroom;
  /** The worst case: every index rebuilt. */
  fullRebuild: ScenarioHeadroom;
  /** Plain-language assumptions of this estimate. */
  assumptions: string[];
}

/** The headroom of one log.dir from its state (pure). */
export function headroomFromState(
  state: LogDirState,
  options: LogDirHeadroomOptions,
): LogDirHeadroom {
  const broker = brokerRecoverySettings(
    options.serverProperties ?? new Map(),
    options.kafkaVersion,
  );
  const topics = options.topics ?? new Map<string, TopicIndexOverrides>();
  const shown = options.partitionsShown ?? 20;
  const scenario = (s: 'unclean' | 'full-rebuild', what: string): ScenarioHeadroom => {
    const e = estimateLogDirHeadroom(state.partitions, {
      scenario: s,
      sparse: state.sparse,
      blockBytes: state.blockBytes,
      recoveryThreads: broker.recoveryThreads,
      index: broker.index,
      topics,
    });
    const verdict = headroomVerdict(
      e.neededBytes,
      options.availableBytes,
      options.reserveBytes ?? 0,
    );
    return {
      ...e,
      byPartition: e.byPartition.slice(0, shown),
      partitionsNotShown: Math.max(0, e.byPartition.length - shown),
      verdict,
      summary: describeVerdict(verdict, what),
    };
  };
  const assumptions = [
    state.sparseSource === 'probe'
      ? `sparse files: ${state.sparse ? 'yes' : 'NO'} (probe: a ${state.sparseProbe?.apparentBytes ?? 0}-byte file extended with ftruncate holds ${state.sparseProbe?.allocatedBytes ?? 0} bytes)`
      : state.sparseSource === 'observed'
        ? `sparse files: ${state.sparse ? 'yes' : 'NO'} (seen on the preallocated active-segment indexes; probe: ${state.sparseProbeError ?? 'n/a'})`
        : `sparse files: assumed NO, the safe side (no preallocated index to judge by; probe: ${state.sparseProbeError ?? 'n/a'})`,
    `segment.index.bytes ${broker.index.segmentIndexBytes}, index.interval.bytes ${broker.index.indexIntervalBytes}${options.serverProperties === undefined ? ' (Kafka defaults: no server.properties given)' : ''}; ${topics.size} topic override(s)`,
    `num.recovery.threads.per.data.dir ${broker.recoveryThreads}${options.serverProperties?.has('num.recovery.threads.per.data.dir') === true ? '' : ` (default for Kafka ${options.kafkaVersion ?? 'version unknown'})`}`,
    'index entries: at most one per index.interval.bytes of log (fewer with large batches: the estimate is an upper bound)',
    'has = df available bytes (not the root-reserved blocks) + armed reserve blocks',
  ];
  return {
    logDir: state.scan.path,
    filesystemType: state.scan.filesystemType,
    lastShutdown: state.scan.lastShutdown,
    cleanShutdownMarker: state.scan.cleanShutdownMarker,
    brokerPid: state.scan.brokerPid,
    sparse: state.sparse,
    sparseSource: state.sparseSource,
    sparseProbeError: state.sparseProbeError,
    blockBytes: state.blockBytes,
    recoveryThreads: broker.recoveryThreads,
    index: broker.index,
    topicOverrides: Object.fromEntries(topics),
    unclean: scenario('unclean', 'an unclean restart'),
    fullRebuild: scenario('full-rebuild', 'a full index rebuild'),
    assumptions,
  };
}

/** Read a log.dir and estimate its headroom. */
export async function assessLogDirHeadroom(
  logDir: string,
  options: LogDirHeadroomOptions,
): Promise<{ state: LogDirState; headroom: LogDirHeadroom }> {
  const state = await readLogDirState(logDir, options);
  return { state, headroom: headroomFromState(state, options) };
}
