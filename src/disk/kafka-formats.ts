import { ArchiveError, ErrorCodes } from '../errors.js';

/**
 * Pure parsers for the files and names a Kafka broker leaves on disk: server.properties, the
 * offset checkpoint files, partition directory names, and /proc/locks (to see whether a broker
 * holds a log.dir's lock). No I/O here; kafka-logdir.ts reads the files.
 */

// ---------------------------------------------------------------------------------------------
// server.properties

/**
 * Parse a Java .properties file (the format of server.properties): `key=value`, `key: value` or
 * `key value`; `#` and `!` comments; backslash line continuations; \t \n \r \f \uXXXX escapes.
 * Later keys win, as in java.util.Properties.
 */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] ?? '').replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // An odd number of trailing backslashes continues the logical line.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + (lines[++i] ?? '').replace(/^[ \t\f]+/, '');
    }
    let k = 0;
    let key = '';
    for (; k < line.length; k++) {
      const c = line[k] as string;
      if (c === '\\') {
        key += line.slice(k, k + 2);
        k++;
        continue;
      }
      if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
      key += c;
    }
    let rest = line.slice(k).replace(/^[ \t\f]*/, '');
    if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]*/, '');
    out.set(unescapeProperty(key), unescapeProperty(rest));
  }
  return out;
}

function unescapeProperty(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return e === 't' ? '\t' : e === 'n' ? '\n' : e === 'r' ? '\r' : e === 'f' ? '\f' : e;
  });
}

export interface BrokerLogDirs {
  logDirs: string[];
  /** Which key they came from; Kafka uses log.dirs when set, else log.dir (default /tmp/kafka-logs). */
  source: 'log.dirs' | 'log.dir' | 'default';
}

export const KAFKA_DEFAULT_LOG_DIR = '/tmp/kafka-logs';

export function logDirsFromProperties(props: Map<string, string>): BrokerLogDirs {
  const split = (v: string) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  const dirs = props.get('log.dirs');
  if (dirs !== undefined && split(dirs).length > 0)
    return { logDirs: split(dirs), source: 'log.dirs' };
  const dir = props.get('log.dir');
  if (dir !== undefined && split(dir).length > 0) return { logDirs: split(dir), source: 'log.dir' };
  return { logDirs: [KAFKA_DEFAULT_LOG_DIR], source: 'default' };
}

// ---------------------------------------------------------------------------------------------
// Offset checkpoint files

export const CHECKPOINT_FILES = [
  'recovery-point-offset-checkpoint',
  'log-start-offset-checkpoint',
  'cleaner-offset-checkpoint',
  'replication-offset-checkpoint',
] as const;
export type CheckpointName = (typeof CHECKPOINT_FILES)[number];

export interface CheckpointEntry {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface Checkpoint {
  version: number;
  entries: CheckpointEntry[];
}

/**
 * Parse Kafka's offset checkpoint format (OffsetCheckpointFile, version 0): a version line, an
 * entry-count line, then `topic partition offset` lines; an empty file has no entries. Throws
 * KAFKA_CHECKPOINT_INVALID naming
 * the line on anything else (a torn or foreign file).
 */
export function parseCheckpoint(text: string, name = 'checkpoint'): Checkpoint {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop();
  const fail = (line: number, message: string) =>
    new ArchiveError(ErrorCodes.KAFKA_CHECKPOINT_INVALID, `${name}: line ${line}: ${message}`, {
      details: { line },
    });
  const versionLine = lines[0];
  // A broker creates its checkpoint files empty at start (Kafka 4.1 does, seen on the test
  // bed) and reads an empty one as no entries: so does this.
  if (versionLine === undefined) return { version: 0, entries: [] };
  if (!/^\d+$/.test(versionLine.trim()))
    throw fail(1, `expected a version number, got ${JSON.stringify(versionLine)}`);
  const version = Number(versionLine.trim());
  if (version !== 0) throw fail(1, `unsupported checkpoint version ${version} (expected 0)`);
  const countLine = lines[1];
  if (countLine === undefined || !/^\d+$/.test(countLine.trim()))
    throw fail(2, `expected the number of entries, got ${JSON.stringify(countLine ?? '')}`);
  const count = Number(countLine.trim());
  const entries: CheckpointEntry[] = [];
  for (let i = 2; i < lines.length; i++) {
    const m = /^(\S+)\s+(\d+)\s+(-?\d+)\s*$/.exec(lines[i] ?? '');
    if (m === null)
      throw fail(i + 1, `expected "topic partition offset", got ${JSON.stringify(lines[i])}`);
    entries.push({
      topic: m[1] as string,
      partition: Number(m[2]),
      offset: BigInt(m[3] as string),
    });
  }
  if (entries.length !== count)
    throw fail(2, `header says ${count} entries but the file has ${entries.length}`);
  return { version, entries };
}

// ---------------------------------------------------------------------------------------------
// Partition directory names and segments

/**
 * Topic and partition of a log directory name; `state` says whether Kafka is deleting it
 * (`-delete`), moving it between log.dirs (`-future`) or found it orphaned (`-stray`, 3.7+).
 */
export function parsePartitionDirName(
  name: string,
): { topic: string; partition: number; state: 'live' | 'delete' | 'future' | 'stray' } | null {
  const special = /^(.+)-(\d+)\.[0-9a-f]{32}-(delete|future|stray)$/.exec(name);
  if (special !== null)
    return {
      topic: special[1] as string,
      partition: Number(special[2]),
      state: special[3] as 'delete' | 'future' | 'stray',
    };
  const live = /^(.+)-(\d+)$/.exec(name);
  if (live === null || !/^[a-zA-Z0-9._-]+$/.test(live[1] as string)) return null;
  return { topic: live[1] as string, partition: Number(live[2]), state: 'live' };
}

/** Segments whose offsets reach the recovery point: from the one containing it to the end. */
export function segmentsFrom(sortedBases: bigint[], offset: bigint): number {
  let containing = 0;
  for (let i = 0; i < sortedBases.length; i++) {
    if ((sortedBases[i] as bigint) <= offset) containing = i;
  }
  return sortedBases.length === 0 ? 0 : sortedBases.length - containing;
}

// ---------------------------------------------------------------------------------------------
// /proc/locks (is a broker using this log.dir right now?)

export interface ProcLock {
  kind: string;
  pid: number;
  major: number;
  minor: number;
  inode: bigint;
}

/** Parse /proc/locks (Linux): `1: POSIX  ADVISORY  WRITE 7199 fe:00:10012212 0 EOF`. */
export function parseProcLocks(text: string): ProcLock[] {
  const out: ProcLock[] = [];
  for (const line of text.split('\n')) {
    const m =
      /^\d+:\s+(?:->\s+)?(\S+)\s+\S+\s+\S+\s+(-?\d+)\s+([0-9a-fA-F]+):([0-9a-fA-F]+):(\d+)\s/.exec(
        line,
      );
    if (m === null || line.includes('->')) continue;
    out.push({
      kind: m[1] as string,
      pid: Number(m[2]),
      major: parseInt(m[3] as string, 16),
      minor: parseInt(m[4] as string, 16),
      inode: BigInt(m[5] as string),
    });
  }
  return out;
}

/** Linux dev_t → major/minor (glibc encoding). */
export function devMajorMinor(dev: bigint): { major: number; minor: number } {
  return {
    major: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
    minor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
  };
}
