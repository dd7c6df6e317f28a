import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ArchiveError, ErrorCodes } from '../errors.js';
import { fsyncDir, pidAlive } from '../util/fs.js';
import { isPackedEntry, pack, unpack, type CatalogEntry, type PackedEntry } from './entry.js';
import { PartitionSegments } from './partition-segments.js';

/**
 * The catalog: every segment of every tier, persisted as a snapshot plus an append-only log in
 * one directory.
 *
 *   snapshot.jsonl   header line {"format":"kafka-archive-catalog","version":1,"seq":N}, then one
 *                    packed entry per line (written to a temp file, fsync'd, renamed)
 *   log.jsonl        one change per line: <json>\t<8 hex of sha1(json)>, json = {"s":seq,"op":..}
 *   writer.lock      pid@host of the one process allowed to write
 *
 * Why this and not SQLite: no native module to build, any number of
 * readers while the service writes (readers never lock; they re-read if a compaction replaced the
 * snapshot under them), and crash safety from two simple rules: a torn or corrupt log line ends
 * replay (it and anything after it are dropped), and a snapshot is only ever replaced by rename.
 * Lost tail lines are harmless: the segment files are the truth and the service reconciles the
 * catalog with the hot directory at start (`reconcileHot`), and `catalog rebuild` recreates it
 * from the segments alone.
 */
const FORMAT = 'kafka-archive-catalog';
const VERSION = 1;
const SNAPSHOT = 'snapshot.jsonl';
const LOG = 'log.jsonl';
const LOCK = 'writer.lock';

type LogOp =
  | { s: number; op: 'put'; e: PackedEntry }
  | { s: number; op: 'del'; k: [string, number, string, string] };

/** JSON.parse that answers null instead of throwing. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function checksum(json: string): string {
  return createHash('sha1').update(json).digest('hex').slice(0, 8);
}

export interface CatalogOpenOptions {
  /** Take the writer lock; fails with CATALOG_LOCKED when another live process holds it. */
  writable: boolean;
  /** Compact when the log has this many lines more than... (default 100,000). */
  compactAfter?: number;
}

export class Catalog {
  private readonly byTopic = new Map<string, Map<number, PartitionSegments>>();
  private seq = 0;
  private snapshotSeq = 0;
  private logLines = 0;
  private log: FileHandle | null = null;
  private queue: Promise<void> = Promise.resolve();
  private pending: string[] = [];

  private constructor(
    readonly dir: string,
    readonly writable: boolean,
    private readonly compactAfter: number,
    readonly memoryOnly = false,
  ) {}

  static async open(dir: string, options: CatalogOpenOptions): Promise<Catalog> {
    const c = new Catalog(dir, options.writable, options.compactAfter ?? 100_000);
    if (options.writable) {
      await mkdir(dir, { recursive: true });
      await acquireLock(dir);
      try {
        const validBytes = await c.load();
        // Drop a torn tail so new lines are never appended after garbage.
        const fh = await open(join(dir, LOG), 'a+');
        const st = await fh.stat();
        if (st.size > validBytes) await fh.truncate(validBytes);
        c.log = fh;
      } catch (err) {
        await unlink(join(dir, LOCK)).catch(() => undefined);
        throw err;
      }
    } else {
      await c.loadConsistent();
    }
    return c;
  }

  /** A catalog kept in memory only (built from the segments by a command that cannot write). */
  static memory(): Catalog {
    return new Catalog('', true, Number.POSITIVE_INFINITY, true);
  }

  /** True when a catalog has been written in `dir`. */
  static async exists(dir: string): Promise<boolean> {
    return (
      (await stat(join(dir, SNAPSHOT)).catch(() => null)) !== null ||
      (await stat(join(dir, LOG)).catch(() => null)) !== null
    );
  }

  // ---- reading --------------------------------------------------------------------------------

  topics(): string[] {
    return [...this.byTopic.keys()].filter((t) => this.partitions(t).length > 0).sort();
  }

  partitions(topic: string): number[] {
    const m = this.byTopic.get(topic);
    if (m === undefined) return [];
    return [...m.entries()]
      .filter(([, s]) => s.size > 0)
      .map(([p]) => p)
      .sort((a, b) => a - b);
  }

  segments(topic: string, partition: number): PartitionSegments {
    return this.byTopic.get(topic)?.get(partition) ?? new PartitionSegments();
  }

  get(topic: string, partition: number, first: bigint, last: bigint): CatalogEntry | undefined {
    return this.byTopic.get(topic)?.get(partition)?.get(first, last);
  }

  *entries(): Generator<CatalogEntry> {
    for (const parts of this.byTopic.values()) for (const segs of parts.values()) yield* segs.all();
  }

  get size(): number {
    let n = 0;
    for (const parts of this.byTopic.values()) for (const segs of parts.values()) n += segs.size;
    return n;
  }

  // ---- writing --------------------------------------------------------------------------------

  /** Adds or replaces a segment's entry. */
  put(e: CatalogEntry): Promise<void> {
    this.apply({ s: 0, op: 'put', e: pack(e) });
    return this.append({ op: 'put', e: pack(e) });
  }

  remove(
    e: Pick<CatalogEntry, 'topic' | 'partition' | 'firstOffset' | 'lastOffset'>,
  ): Promise<void> {
    const k: [string, number, string, string] = [
      e.topic,
      e.partition,
      e.firstOffset.toString(),
      e.lastOffset.toString(),
    ];
    this.apply({ s: 0, op: 'del', k });
    return this.append({ op: 'del', k });
  }

  /** Waits until every change so far is written to the log file (and fsync'd when `sync`). */
  async flush(sync = false): Promise<void> {
    this.queue = this.queue.then(() => this.writePending(sync));
    await this.queue;
  }

  /** Writes a fresh snapshot and empties the log. */
  async compact(): Promise<void> {
    this.queue = this.queue.then(() => this.doCompact());
    await this.queue;
  }

  async close(): Promise<void> {
    if (this.log === null) return;
    await this.flush(true);
    await this.log.close();
    this.log = null;
    await unlink(join(this.dir, LOCK)).catch(() => undefined);
  }

  private append(
    op: { op: 'put'; e: PackedEntry } | { op: 'del'; k: [string, number, string, string] },
  ): Promise<void> {
    if (!this.writable) {
      return Promise.reject(
        new ArchiveError(ErrorCodes.INTERNAL, 'catalog opened read-only; cannot write'),
      );
    }
    if (this.memoryOnly) return Promise.resolve();
    const json = JSON.stringify({ s: ++this.seq, ...op });
    this.pending.push(`${json}\t${checksum(json)}\n`);
    // Lines written together when many changes arrive at once (rebuild, reconcile).
    if (this.pending.length === 1) {
      this.queue = this.queue.then(async () => {
        await this.writePending(false);
        if (this.logLines > this.compactAfter && this.logLines > this.size / 2)
          await this.doCompact();
      });
    }
    return this.queue;
  }

  private async writePending(sync: boolean): Promise<void> {
    if (this.log === null) return;
    if (this.pending.length > 0) {
      const chunk = this.pending.join('');
      const n = this.pending.length;
      this.pending = [];
      await this.log.appendFile(chunk);
      this.logLines += n;
    }
    if (sync) await this.log.datasync();
  }

  private async doCompact(): Promise<void> {
    if (this.log === null) return;
    await this.writePending(false);
    const tmp = join(this.dir, `.${SNAPSHOT}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      let buf = `${JSON.stringify({ format: FORMAT, version: VERSION, seq: this.seq })}\n`;
      for (const e of this.entries()) {
        buf += `${JSON.stringify(pack(e))}\n`;
        if (buf.length > 1 << 20) {
          await fh.write(buf);
          buf = '';
        }
      }
      await fh.write(buf);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, SNAPSHOT));
    await fsyncDir(this.dir);
    // Every logged change is in the snapshot (its seq says so): the log can start over. A crash
    // before the truncate is harmless, replay skips lines with s <= snapshot seq.
    await this.log.truncate(0);
    await this.log.sync();
    this.snapshotSeq = this.seq;
    this.logLines = 0;
  }

  // ---- loading --------------------------------------------------------------------------------

  private apply(op: LogOp): void {
    if (op.op === 'put') {
      const e = unpack(op.e);
      let parts = this.byTopic.get(e.topic);
      if (parts === undefined) this.byTopic.set(e.topic, (parts = new Map()));
      let segs = parts.get(e.partition);
      if (segs === undefined) parts.set(e.partition, (segs = new PartitionSegments()));
      segs.upsert(e);
    } else {
      const [topic, partition, first, last] = op.k;
      this.byTopic.get(topic)?.get(partition)?.remove(BigInt(first), BigInt(last));
    }
  }

  private reset(): void {
    this.byTopic.clear();
    this.seq = 0;
    this.snapshotSeq = 0;
    this.logLines = 0;
  }

  /** Loads snapshot + log; returns the byte length of the valid part of the log. */
  private async load(): Promise<number> {
    this.reset();
    await this.loadSnapshot();
    return this.loadLog();
  }

  /**
   * Readers: load, and load again if a compaction replaced the snapshot meanwhile (the log they
   * read may then already be truncated).
   */
  private async loadConsistent(): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const before = await stat(join(this.dir, SNAPSHOT)).catch(() => null);
      await this.load();
      const after = await stat(join(this.dir, SNAPSHOT)).catch(() => null);
      if (before?.ino === after?.ino && before?.mtimeMs === after?.mtimeMs) return;
    }
    throw new ArchiveError(
      ErrorCodes.CATALOG_CORRUPT,
      `catalog ${this.dir} kept changing while being read; try again`,
      { retryable: true },
    );
  }

  private async loadSnapshot(): Promise<void> {
    const path = join(this.dir, SNAPSHOT);
    if ((await stat(path).catch(() => null)) === null) return;
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    // The snapshot is only ever replaced whole (rename), so unlike the log's tail a bad line
    // here is damage from outside: refuse to load rather than silently drop segments.
    const corrupt = (lineNo: number, why: string) =>
      new ArchiveError(
        ErrorCodes.CATALOG_CORRUPT,
        `${path} line ${lineNo}: ${why}; rebuild the catalog with \`kafka-archive catalog rebuild\``,
        { details: { path, line: lineNo } },
      );
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (lineNo === 1) {
        const h = parseJson(line) as { format?: string; version?: number; seq?: number } | null;
        if (h?.format !== FORMAT || h.version !== VERSION || typeof h.seq !== 'number') {
          throw corrupt(lineNo, `not a version ${VERSION} kafka-archive catalog header`);
        }
        this.seq = this.snapshotSeq = h.seq;
        continue;
      }
      if (line.length === 0) continue;
      const e = parseJson(line);
      if (!isPackedEntry(e)) throw corrupt(lineNo, 'not a catalog entry');
      this.apply({ s: 0, op: 'put', e });
    }
  }

  private async loadLog(): Promise<number> {
    let text: string;
    try {
      text = await readFile(join(this.dir, LOG), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let pos = 0;
    while (pos < text.length) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) break; // torn last line
      const line = text.slice(pos, nl);
      const tab = line.lastIndexOf('\t');
      const json = tab < 0 ? '' : line.slice(0, tab);
      if (tab < 0 || checksum(json) !== line.slice(tab + 1)) break;
      let op: LogOp;
      try {
        op = JSON.parse(json) as LogOp;
      } catch {
        break;
      }
      if (op.s > this.snapshotSeq) this.apply(op);
      if (op.s > this.seq) this.seq = op.s;
      this.logLines++;
      pos = nl + 1;
    }
    return Buffer.byteLength(text.slice(0, pos));
  }
}

async function acquireLock(dir: string): Promise<void> {
  const path = join(dir, LOCK);
  const me = `${process.pid}@${hostname()}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(me);
      await fh.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = (await readFile(path, 'utf8').catch(() => '')).trim();
    const [pidText, host] = holder.split('@');
    const pid = Number(pidText);
    if (holder === '' || (host === hostname() && Number.isInteger(pid) && !pidAlive(pid))) {
      // A writer that died (kill -9) leaves its lock behind: take it over.
      await unlink(path).catch(() => undefined);
      continue;
    }
    throw new ArchiveError(
      ErrorCodes.CATALOG_LOCKED,
      `catalog ${dir} is being written by another process (${holder})`,
      { details: { holder } },
    );
  }
  throw new ArchiveError(ErrorCodes.CATALOG_LOCKED, `could not take the catalog lock ${path}`);
}
