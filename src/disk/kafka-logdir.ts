import { lstat, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ArchiveError, ErrorCodes } from '../errors.js';
import { allocatedBytes, measureFilesystem } from './fs-stats.js';
import {
  CHECKPOINT_FILES,
  devMajorMinor,
  logDirsFromProperties,
  parseCheckpoint,
  parsePartitionDirName,
  parseProcLocks,
  parseProperties,
  segmentsFrom,
  type BrokerLogDirs,
  type Checkpoint,
  type CheckpointName,
} from './kafka-formats.js';

/**
 * Read-only scanner of a Kafka broker's log.dirs: per topic-partition directory the segments and
 * the bytes of each file kind (apparent and allocated), the offset checkpoints at the log.dir
 * root, and whether the last shutdown was clean. This is the input the unclean-restart headroom
 * model needs: which segments a broker would recover, and how their indexes are stored.
 *
 * Layout (Kafka 2.x-4.x):
 *   <log.dir>/meta.properties, .lock, .kafka_cleanshutdown (present only while stopped cleanly)
 *   <log.dir>/{recovery-point-offset,log-start-offset,cleaner-offset,replication-offset}-checkpoint
 *   <log.dir>/<topic>-<partition>/<base offset, 20 digits>.{log,index,timeindex,txnindex,snapshot}
 *   <log.dir>/<topic>-<partition>.<32 hex>-{delete,future,stray}/   (being deleted / moved)
 */

// ---------------------------------------------------------------------------------------------
// server.properties

export interface ServerProperties extends BrokerLogDirs {
  file: string;
  properties: Map<string, string>;
}

export async function readServerProperties(file: string): Promise<ServerProperties> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ArchiveError(
      ErrorCodes.KAFKA_LOGDIR_UNREADABLE,
      `cannot read Kafka server properties ${file}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const properties = parseProperties(text);
  return { file, properties, ...logDirsFromProperties(properties) };
}

/** One checkpoint file at the log.dir root, as read. */
export interface CheckpointSummary {
  name: CheckpointName;
  present: boolean;
  version: number | null;
  entries: number;
  error: string | null;
}

// ---------------------------------------------------------------------------------------------
// Partition directories

export interface FileKindBytes {
  files: number;
  apparentBytes: number;
  allocatedBytes: number;
}

type SegmentKind = 'log' | 'index' | 'timeindex' | 'txnindex';

export interface PartitionScan {
  logDir: string;
  dir: string;
  topic: string;
  partition: number;
  state: 'live' | 'delete' | 'future' | 'stray';
  /** Number of .log files (one per segment). */
  segments: number;
  log: FileKindBytes;
  index: FileKindBytes;
  timeindex: FileKindBytes;
  txnindex: FileKindBytes;
  /** Producer snapshots, leader-epoch checkpoint, partition.metadata, *.deleted / *.cleaned / *.swap. */
  other: FileKindBytes;
  apparentBytes: number;
  allocatedBytes: number;
  firstBaseOffset: bigint | null;
  /** Base offset of the active (last) segment. */
  activeBaseOffset: bigint | null;
  /** mtime of the oldest and newest .log file, ISO 8601. */
  oldestSegmentMtime: string | null;
  newestSegmentMtime: string | null;
  /** From the log.dir's checkpoint files; null when the partition is not in them. */
  recoveryPoint: bigint | null;
  logStartOffset: bigint | null;
  highWatermark: bigint | null;
  cleanerOffset: bigint | null;
  /**
   * Segments holding offsets at or past the recovery point: what the broker re-reads and
   * re-indexes after an unclean shutdown.
   */
  segmentsPastRecoveryPoint: number | null;
}

const zero = (): FileKindBytes => ({ files: 0, apparentBytes: 0, allocatedBytes: 0 });

function add(k: FileKindBytes, st: BigIntStats): void {
  k.files++;
  k.apparentBytes += Number(st.size);
  k.allocatedBytes += allocatedBytes(st);
}

async function statOrNull(path: string): Promise<BigIntStats | null> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function scanPartitionDir(
  logDir: string,
  name: string,
  parsed: NonNullable<ReturnType<typeof parsePartitionDirName>>,
): Promise<{ scan: PartitionScan; bases: bigint[]; sparseIndexes: boolean | null } | null> {
  const dir = join(logDir, name);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null; // deleted meanwhile
    throw err;
  }
  const kinds: Record<SegmentKind | 'other', FileKindBytes> = {
    log: zero(),
    index: zero(),
    timeindex: zero(),
    txnindex: zero(),
    other: zero(),
  };
  const bases: bigint[] = [];
  let oldest: number | null = null;
  let newest: number | null = null;
  const indexStats = new Map<bigint, BigIntStats[]>();
  for (const file of names) {
    const st = await statOrNull(join(dir, file));
    if (st === null || !st.isFile()) continue;
    const m = /^(\d{20})\.(log|index|timeindex|txnindex)$/.exec(file);
    if (m === null) {
      add(kinds.other, st);
      continue;
    }
    const kind = m[2] as SegmentKind;
    add(kinds[kind], st);
    if (kind === 'index' || kind === 'timeindex') {
      const base = BigInt(m[1] as string);
      indexStats.set(base, [...(indexStats.get(base) ?? []), st]);
    }
    if (kind === 'log') {
      bases.push(BigInt(m[1] as string));
      const mtime = Number(st.mtimeMs);
      oldest = oldest === null ? mtime : Math.min(oldest, mtime);
      newest = newest === null ? mtime : Math.max(newest, mtime);
    }
  }
  bases.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // The active segment's indexes are preallocated (segment.index.bytes, 10 MiB by default):
  // their blocks show whether this filesystem keeps such files sparse.
  let sparseIndexes: boolean | null = null;
  const active = bases[bases.length - 1];
  for (const st of active === undefined ? [] : (indexStats.get(active) ?? [])) {
    if (st.size < 2n ** 20n) continue;
    sparseIndexes = sparseIndexes === true || allocatedBytes(st) < Number(st.size) / 2;
  }
  const all = Object.values(kinds);
  const scan: PartitionScan = {
    logDir,
    dir,
    topic: parsed.topic,
    partition: parsed.partition,
    state: parsed.state,
    segments: bases.length,
    ...kinds,
    apparentBytes: all.reduce((s, k) => s + k.apparentBytes, 0),
    allocatedBytes: all.reduce((s, k) => s + k.allocatedBytes, 0),
    firstBaseOffset: bases[0] ?? null,
    activeBaseOffset: bases[bases.length - 1] ?? null,
    oldestSegmentMtime: oldest === null ? null : new Date(oldest).toISOString(),
    newestSegmentMtime: newest === null ? null : new Date(newest).toISOString(),
    recoveryPoint: null,
    logStartOffset: null,
    highWatermark: null,
    cleanerOffset: null,
    segmentsPastRecoveryPoint: null,
  };
  return { scan, bases, sparseIndexes };
}

// ---------------------------------------------------------------------------------------------
// Broker lock

/**
 * The pid holding the broker's lock on <log.dir>/.lock (Kafka takes a POSIX lock on it while it
 * runs), from /proc/locks; null when nobody holds it; undefined when it cannot be told (no
 * /proc/locks, no .lock file).
 */
export async function brokerLockHolder(logDir: string): Promise<number | null | undefined> {
  const st = await statOrNull(join(logDir, '.lock'));
  if (st === null) return undefined;
  let text: string;
  try {
    text = await readFile('/proc/locks', 'utf8');
  } catch {
    return undefined;
  }
  const { major, minor } = devMajorMinor(st.dev);
  const lock = parseProcLocks(text).find(
    (l) => l.inode === st.ino && l.major === major && l.minor === minor,
  );
  return lock?.pid ?? null;
}

// ---------------------------------------------------------------------------------------------
// Sparse files

export interface SparseProbe {
  dir: string;
  filesystemType: string;
  apparentBytes: number;
  allocatedBytes: number;
  /** True when a file extended with ftruncate holds (almost) no blocks. */
  sparse: boolean;
}

/**
 * Does this filesystem keep sparse files? Creates a temporary file in `dir`, sets its length to
 * 10 MiB with ftruncate (as Kafka does for index files with setLength), compares st_blocks, and
 * removes it. On a filesystem without sparse files this briefly allocates 10 MiB.
 */
export async function detectSparseSupport(
  dir: string,
  lengthBytes = 10 * 2 ** 20,
): Promise<SparseProbe> {
  const path = join(
    dir,
    `.kafka-archive-sparse-probe-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const fh = await open(path, 'wx');
  try {
    await fh.truncate(lengthBytes);
    await fh.sync();
    const st = await fh.stat({ bigint: true });
    const fs = await measureFilesystem(dir);
    const allocated = allocatedBytes(st);
    return {
      dir,
      filesystemType: fs.type,
      apparentBytes: Number(st.size),
      allocatedBytes: allocated,
      sparse: allocated < lengthBytes / 2,
    };
  } finally {
    await fh.close();
    await unlink(path).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Whole log.dir

export interface LogDirScan {
  path: string;
  filesystemType: string;
  /** .kafka_cleanshutdown present: the broker stopped cleanly and has not started since. */
  cleanShutdownMarker: boolean;
  /** pid of the broker holding the log.dir lock (from /proc/locks); null if none or unknown. */
  brokerPid: number | null;
  /**
   * What a restart would do: 'running' (broker up: no marker while it runs), 'clean' (marker
   * present), 'unclean' (stopped without the marker: the next start recovers unflushed segments),
   * 'unknown' (cannot tell whether a broker runs).
   */
  lastShutdown: 'running' | 'clean' | 'unclean' | 'unknown';
  meta: Record<string, string> | null;
  checkpoints: CheckpointSummary[];
  partitions: PartitionScan[];
  /** Partition directories could not be parsed as topic-partition (Kafka would fail on them). */
  unknownDirectories: string[];
  totals: {
    partitions: number;
    segments: number;
    log: FileKindBytes;
    index: FileKindBytes;
    timeindex: FileKindBytes;
    txnindex: FileKindBytes;
    other: FileKindBytes;
    apparentBytes: number;
    allocatedBytes: number;
  };
  /**
   * Sparse behaviour seen on existing index files of 1 MiB+ (the preallocated active-segment
   * indexes): true if they hold fewer blocks than half their size, false if fully allocated,
   * null if there are none to judge by.
   */
  sparseIndexesObserved: boolean | null;
  sparseProbe: SparseProbe | null;
}

export interface ScanOptions {
  /** Also run detectSparseSupport in the log.dir (writes and removes a small temporary file). */
  probeSparse?: boolean;
}

async function readCheckpoint(
  logDir: string,
  name: CheckpointName,
): Promise<{ summary: CheckpointSummary; checkpoint: Checkpoint | null }> {
  let text: string;
  try {
    text = await readFile(join(logDir, name), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return {
      summary: { name, present: false, version: null, entries: 0, error: null },
      checkpoint: null,
    };
  }
  try {
    const checkpoint = parseCheckpoint(text, name);
    return {
      summary: {
        name,
        present: true,
        version: checkpoint.version,
        entries: checkpoint.entries.length,
        error: null,
      },
      checkpoint,
    };
  } catch (err) {
    return {
      summary: { name, present: true, version: null, entries: 0, error: (err as Error).message },
      checkpoint: null,
    };
  }
}

export async function scanLogDir(logDir: string, options: ScanOptions = {}): Promise<LogDirScan> {
  const path = resolve(logDir);
  let names: string[];
  try {
    const st = await stat(path);
    if (!st.isDirectory()) throw new Error('not a directory');
    names = await readdir(path);
  } catch (err) {
    throw new ArchiveError(
      ErrorCodes.KAFKA_LOGDIR_UNREADABLE,
      `cannot scan Kafka log.dir ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }

  const checkpoints: CheckpointSummary[] = [];
  const offsets = new Map<CheckpointName, Map<string, bigint>>();
  for (const name of CHECKPOINT_FILES) {
    const { summary, checkpoint } = await readCheckpoint(path, name);
    checkpoints.push(summary);
    const byTp = new Map<string, bigint>();
    for (const e of checkpoint?.entries ?? []) byTp.set(`${e.topic}\u0000${e.partition}`, e.offset);
    offsets.set(name, byTp);
  }

  const partitions: PartitionScan[] = [];
  const unknownDirectories: string[] = [];
  let sparseIndexesObserved: boolean | null = null;
  // Partition directories are scanned PARALLEL at a time (a broker may hold thousands).
  const PARALLEL = 16;
  const sorted = names.sort();
  for (let i = 0; i < sorted.length; i += PARALLEL) {
    const chunk = await Promise.all(
      sorted.slice(i, i + PARALLEL).map(async (name) => {
        const st = await statOrNull(join(path, name));
        if (st === null || !st.isDirectory()) return null;
        const parsed = parsePartitionDirName(name);
        if (parsed === null) {
          unknownDirectories.push(name);
          return null;
        }
        return scanPartitionDir(path, name, parsed);
      }),
    );
    for (const scanned of chunk) {
      if (scanned === null) continue;
      const p = scanned.scan;
      if (scanned.sparseIndexes !== null)
        sparseIndexesObserved = sparseIndexesObserved === true || scanned.sparseIndexes;
      if (p.state === 'live') {
        const key = `${p.topic}\u0000${p.partition}`;
        p.recoveryPoint = offsets.get('recovery-point-offset-checkpoint')?.get(key) ?? null;
        p.logStartOffset = offsets.get('log-start-offset-checkpoint')?.get(key) ?? null;
        p.highWatermark = offsets.get('replication-offset-checkpoint')?.get(key) ?? null;
        p.cleanerOffset = offsets.get('cleaner-offset-checkpoint')?.get(key) ?? null;
        if (p.recoveryPoint !== null)
          p.segmentsPastRecoveryPoint = segmentsFrom(scanned.bases, p.recoveryPoint);
      }
      partitions.push(p);
    }
  }
  unknownDirectories.sort();
  partitions.sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  );

  const sum = (k: 'log' | 'index' | 'timeindex' | 'txnindex' | 'other'): FileKindBytes =>
    partitions.reduce(
      (acc, p) => ({
        files: acc.files + p[k].files,
        apparentBytes: acc.apparentBytes + p[k].apparentBytes,
        allocatedBytes: acc.allocatedBytes + p[k].allocatedBytes,
      }),
      zero(),
    );

  const cleanShutdownMarker = (await statOrNull(join(path, '.kafka_cleanshutdown'))) !== null;
  const holder = await brokerLockHolder(path);
  const brokerPid = holder ?? null;
  const fs = await measureFilesystem(path);
  const metaText = await readFile(join(path, 'meta.properties'), 'utf8').catch(() => null);
  return {
    path,
    filesystemType: fs.type,
    cleanShutdownMarker,
    brokerPid,
    lastShutdown:
      typeof holder === 'number'
        ? 'running'
        : cleanShutdownMarker
          ? 'clean'
          : holder === null
            ? 'unclean'
            : 'unknown',
    meta: metaText === null ? null : Object.fromEntries(parseProperties(metaText)),
    checkpoints,
    partitions,
    unknownDirectories,
    totals: {
      partitions: partitions.length,
      segments: partitions.reduce((s, p) => s + p.segments, 0),
      log: sum('log'),
      index: sum('index'),
      timeindex: sum('timeindex'),
      txnindex: sum('txnindex'),
      other: sum('other'),
      apparentBytes: partitions.reduce((s, p) => s + p.apparentBytes, 0),
      allocatedBytes: partitions.reduce((s, p) => s + p.allocatedBytes, 0),
    },
    sparseIndexesObserved,
    sparseProbe: options.probeSparse === true ? await detectSparseSupport(path) : null,
  };
}

/** Scan several log.dirs (e.g. all of a broker's). */
export async function scanLogDirs(
  dirs: string[],
  options: ScanOptions = {},
): Promise<LogDirScan[]> {
  const out: LogDirScan[] = [];
  for (const d of dirs) out.push(await scanLogDir(d, options));
  return out;
}
