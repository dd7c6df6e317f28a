import { mkdir, readFile, rename, rm, stat, unlink, open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ArchiveError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log/index.js';
import { fsyncDir, pidAlive } from '../util/fs.js';
import { entryKey, type CatalogEntry } from './entry.js';
import { legacyExists, readLegacy, removeLegacy, type LegacySink } from './legacy.js';
import { PartitionSegments } from './partition-segments.js';

/**
 * The catalog: every segment of every tier, in one SQLite database (node:sqlite, WAL mode) in
 * the catalog directory.
 *
 *   catalog.db (+ -wal, -shm)  table `segments` (one row per segment, primary key topic,
 *                              partition, first, last) and `partitions` (per-partition counts
 *                              and byte sums kept by triggers, so topics, partitions and the
 *                              metrics never scan the segments)
 *   writer.lock                pid@host of the one process allowed to write
 *
 * Opening reads only the partition list; a partition's segments are read when first asked for
 * and kept in a bounded cache (least recently used partitions dropped past `cacheEntries`), so
 * memory does not grow with the catalog. Any number of readers while the service writes (WAL:
 * readers never block the writer and see whole transactions only). Crash safety is SQLite's:
 * changes are committed in batches (one transaction per event-loop turn), a kill -9 loses at
 * most the uncommitted batch and never leaves a half-applied one; `flush(true)` makes what is
 * committed durable against power loss. Lost changes are harmless: the segment files are the
 * truth, the service reconciles the catalog with the hot directory at start (`reconcileHot`),
 * and `catalog rebuild` recreates it from the segments alone.
 *
 * A catalog in the older snapshot.jsonl + log.jsonl format is migrated on the first writable
 * open (one log line); a reader opening one before that reads it into memory.
 */
const DB = 'catalog.db';
const LOCK = 'writer.lock';
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS segments (
  topic TEXT NOT NULL, partition INTEGER NOT NULL,
  first_offset INTEGER NOT NULL, last_offset INTEGER NOT NULL,
  range_start INTEGER NOT NULL, range_end INTEGER NOT NULL,
  min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL,
  record_count INTEGER NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,
  flags INTEGER NOT NULL,
  PRIMARY KEY (topic, partition, first_offset, last_offset)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS segments_hot ON segments (topic, partition, first_offset, last_offset)
  WHERE (flags & 1) = 1;
CREATE TABLE IF NOT EXISTS partitions (
  topic TEXT NOT NULL, partition INTEGER NOT NULL,
  segments INTEGER NOT NULL, records INTEGER NOT NULL, bytes INTEGER NOT NULL,
  hot_bytes INTEGER NOT NULL, cold_bytes INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS segments_ins AFTER INSERT ON segments BEGIN
  INSERT INTO partitions VALUES (NEW.topic, NEW.partition, 1, NEW.record_count, NEW.bytes,
    NEW.bytes * (NEW.flags & 1), NEW.bytes * ((NEW.flags & 2) >> 1))
  ON CONFLICT (topic, partition) DO UPDATE SET segments = segments + 1,
    records = records + excluded.records, bytes = bytes + excluded.bytes,
    hot_bytes = hot_bytes + excluded.hot_bytes, cold_bytes = cold_bytes + excluded.cold_bytes;
END;
CREATE TRIGGER IF NOT EXISTS segments_upd AFTER UPDATE ON segments BEGIN
  UPDATE partitions SET records = records - OLD.record_count + NEW.record_count,
    bytes = bytes - OLD.bytes + NEW.bytes,
    hot_bytes = hot_bytes - OLD.bytes * (OLD.flags & 1) + NEW.bytes * (NEW.flags & 1),
    cold_bytes = cold_bytes - OLD.bytes * ((OLD.flags & 2) >> 1) + NEW.bytes * ((NEW.flags & 2) >> 1)
  WHERE topic = NEW.topic AND partition = NEW.partition;
END;
CREATE TRIGGER IF NOT EXISTS segments_del AFTER DELETE ON segments BEGIN
  UPDATE partitions SET segments = segments - 1, records = records - OLD.record_count,
    bytes = bytes - OLD.bytes, hot_bytes = hot_bytes - OLD.bytes * (OLD.flags & 1),
    cold_bytes = cold_bytes - OLD.bytes * ((OLD.flags & 2) >> 1)
  WHERE topic = OLD.topic AND partition = OLD.partition;
  DELETE FROM partitions WHERE topic = OLD.topic AND partition = OLD.partition AND segments <= 0;
END;
`;

const COLUMNS =
  'topic, partition, first_offset, last_offset, range_start, range_end, min_ts, max_ts, record_count, bytes, sha256, flags';
/** One segment's row: its partition and offset span. */
const SEGMENT_KEY = 'topic = ? AND partition = ? AND first_offset = ? AND last_offset = ?';
/** Put a segment (the service's writes and the migration of a legacy catalog alike). */
const UPSERT_SQL = `INSERT INTO segments (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (topic, partition, first_offset, last_offset) DO UPDATE SET
    range_start = excluded.range_start, range_end = excluded.range_end,
    min_ts = excluded.min_ts, max_ts = excluded.max_ts,
    record_count = excluded.record_count, bytes = excluded.bytes,
    sha256 = excluded.sha256, flags = excluded.flags`;
const DELETE_SQL = `DELETE FROM segments WHERE ${SEGMENT_KEY}`;

type Row = [
  string,
  bigint,
  bigint,
  bigint,
  bigint,
  bigint,
  bigint,
  bigint,
  bigint,
  bigint,
  string,
  bigint,
];

function fromRow(r: Row): CatalogEntry {
  const flags = Number(r[11]);
  return {
    topic: r[0],
    partition: Number(r[1]),
    firstOffset: r[2],
    lastOffset: r[3],
    rangeStart: r[4],
    rangeEnd: r[5],
    minTimestamp: r[6],
    maxTimestamp: r[7],
    recordCount: Number(r[8]),
    bytes: Number(r[9]),
    sha256: r[10],
    hot: (flags & 1) !== 0,
    cold: (flags & 2) !== 0,
  };
}

function toRow(e: CatalogEntry): Array<string | number | bigint> {
  return [
    e.topic,
    e.partition,
    e.firstOffset,
    e.lastOffset,
    e.rangeStart,
    e.rangeEnd,
    e.minTimestamp,
    e.maxTimestamp,
    e.recordCount,
    e.bytes,
    e.sha256,
    (e.hot ? 1 : 0) | (e.cold ? 2 : 0),
  ];
}

export interface CatalogOpenOptions {
  /** Take the writer lock; fails with CATALOG_LOCKED when another live process holds it. */
  writable: boolean;
  /** Segments kept in memory across cached partitions (default 20,000, about 20 MiB). */
  cacheEntries?: number;
  /** Where the one-line migration notice goes (a catalog in the older JSON-lines format). */
  log?: Logger;
  /** Accepted for compatibility; SQLite needs no compaction schedule. */
  compactAfter?: number;
}

/** Totals over the whole catalog, from the per-partition sums (no segment is read). */
export interface CatalogSummary {
  segments: number;
  records: number;
  bytes: number;
  hot: number;
  cold: number;
}

interface Statements {
  upsert: StatementSync;
  del: StatementSync;
  get: StatementSync;
  partition: StatementSync;
  all: StatementSync;
  partitionCount: StatementSync;
  byOffset: StatementSync;
  byTime: StatementSync;
  hot: StatementSync;
}

export class Catalog {
  /** topic -> partition -> segment count, as of open plus this process's own changes. */
  private readonly parts = new Map<string, Map<number, number>>();
  private readonly cache = new Map<string, PartitionSegments>();
  private cached = 0;
  private stmts: Statements;
  /** The open transaction of the current batch, committed on the next event-loop turn. */
  private batch: { done: Promise<void> } | null = null;
  private closed = false;
  /** Called with each written entry's key before the write (see `watch`). */
  private readonly watchers = new Set<(key: string) => void>();

  private constructor(
    private readonly db: DatabaseSync,
    readonly dir: string,
    readonly writable: boolean,
    private readonly cacheEntries: number,
    readonly memoryOnly = false,
    private readonly locked = false,
  ) {
    const prep = (sql: string, rows: boolean) => {
      const s = db.prepare(sql);
      if (rows) {
        s.setReadBigInts(true);
        s.setReturnArrays(true);
      }
      return s;
    };
    this.stmts = {
      upsert: prep(UPSERT_SQL, false),
      del: prep(DELETE_SQL, false),
      get: prep(`SELECT ${COLUMNS} FROM segments WHERE ${SEGMENT_KEY}`, true),
      partition: prep(
        `SELECT ${COLUMNS} FROM segments WHERE topic = ? AND partition = ? ORDER BY first_offset, last_offset`,
        true,
      ),
      all: prep(
        `SELECT ${COLUMNS} FROM segments ORDER BY topic, partition, first_offset, last_offset`,
        true,
      ),
      // First in (first, last) order whose last offset / newest record reaches the value: the
      // same answer as the prefix-maximum binary searches of PartitionSegments.
      byOffset: prep(
        `SELECT ${COLUMNS} FROM segments WHERE topic = ? AND partition = ? AND last_offset >= ? ORDER BY first_offset, last_offset LIMIT 1`,
        true,
      ),
      byTime: prep(
        `SELECT ${COLUMNS} FROM segments WHERE topic = ? AND partition = ? AND max_ts >= ? ORDER BY first_offset, last_offset LIMIT 1`,
        true,
      ),
      hot: prep(
        `SELECT ${COLUMNS} FROM segments INDEXED BY segments_hot WHERE (flags & 1) = 1 ORDER BY topic, partition, first_offset, last_offset`,
        true,
      ),
      partitionCount: prep(
        'SELECT segments FROM partitions WHERE topic = ? AND partition = ?',
        false,
      ),
    };
    const list = db.prepare('SELECT topic, partition, segments FROM partitions');
    for (const r of list.iterate() as Iterable<{
      topic: string;
      partition: number;
      segments: number;
    }>) {
      this.countPartition(r.topic, r.partition, r.segments);
    }
  }

  static async open(dir: string, options: CatalogOpenOptions): Promise<Catalog> {
    const cacheEntries = options.cacheEntries ?? 20_000;
    const path = join(dir, DB);
    if (!options.writable) {
      if ((await stat(path).catch(() => null)) === null && (await legacyExists(dir))) {
        // Not migrated yet (the service has not opened it since the upgrade): read it whole.
        const c = new Catalog(memoryDb(), dir, false, Number.POSITIVE_INFINITY, true);
        await c.importLegacy(dir);
        return c;
      }
      const db = openDb(path, true);
      return new Catalog(db, dir, false, cacheEntries);
    }
    await mkdir(dir, { recursive: true });
    await acquireLock(dir);
    try {
      const exists = (await stat(path).catch(() => null)) !== null;
      const legacy = await legacyExists(dir);
      if (!exists && legacy) await migrate(dir, options.log);
      else if (legacy) await removeLegacy(dir); // migrated before a crash removed them
      const db = openDb(path, false);
      return new Catalog(db, dir, true, cacheEntries, false, true);
    } catch (err) {
      await unlink(join(dir, LOCK)).catch(() => undefined);
      throw err;
    }
  }

  /** A catalog kept in memory only (built from the segments by a command that cannot write). */
  static memory(): Catalog {
    return new Catalog(memoryDb(), '', true, Number.POSITIVE_INFINITY, true);
  }

  /** True when a catalog has been written in `dir`. */
  static async exists(dir: string): Promise<boolean> {
    return (await stat(join(dir, DB)).catch(() => null)) !== null || legacyExists(dir);
  }

  // ---- reading --------------------------------------------------------------------------------

  topics(): string[] {
    return [...this.parts.keys()].sort();
  }

  partitions(topic: string): number[] {
    const m = this.parts.get(topic);
    if (m === undefined) return [];
    return [...m.keys()].sort((a, b) => a - b);
  }

  /** The segments of a partition in offset order (read from the database on first use). */
  segments(topic: string, partition: number): PartitionSegments {
    const k = `${topic}\u0000${partition}`;
    let segs = this.cache.get(k);
    if (segs !== undefined) {
      // Most recently used last.
      this.cache.delete(k);
      this.cache.set(k, segs);
      return segs;
    }
    segs = new PartitionSegments();
    if (this.parts.get(topic)?.has(partition) === true) {
      for (const r of this.stmts.partition.all(topic, partition) as unknown as Row[])
        segs.upsert(fromRow(r));
    }
    this.cache.set(k, segs);
    this.cached += segs.size;
    this.evict(k);
    return segs;
  }

  /**
   * The segment holding `offset` (as PartitionSegments.findByOffset), answered by the database
   * without reading the whole partition when it is not cached.
   */
  findByOffset(topic: string, partition: number, offset: bigint): CatalogEntry | undefined {
    const segs = this.cache.get(`${topic}\u0000${partition}`);
    if (segs !== undefined) return segs.findByOffset(offset);
    if (this.parts.get(topic)?.has(partition) !== true) return undefined;
    const r = this.stmts.byOffset.get(topic, partition, offset) as Row | undefined;
    const e = r === undefined ? undefined : fromRow(r);
    return e !== undefined && e.firstOffset <= offset ? e : undefined;
  }

  /** The first segment with a record at or after `ts` (as PartitionSegments.findByTime). */
  findByTime(topic: string, partition: number, ts: bigint): CatalogEntry | undefined {
    const segs = this.cache.get(`${topic}\u0000${partition}`);
    if (segs !== undefined) return segs.findByTime(ts);
    if (this.parts.get(topic)?.has(partition) !== true) return undefined;
    const r = this.stmts.byTime.get(topic, partition, ts) as Row | undefined;
    return r === undefined ? undefined : fromRow(r);
  }

  get(topic: string, partition: number, first: bigint, last: bigint): CatalogEntry | undefined {
    const segs = this.cache.get(`${topic}\u0000${partition}`);
    if (segs !== undefined) return segs.get(first, last);
    const r = this.stmts.get.get(topic, partition, first, last) as Row | undefined;
    return r === undefined ? undefined : fromRow(r);
  }

  /** Every entry in (topic, partition, offset) order, streamed from the database. */
  *entries(): Generator<CatalogEntry> {
    for (const r of this.stmts.all.iterate() as Iterable<Row>) yield fromRow(r);
  }

  /**
   * Entries with a hot copy, in (topic, partition, offset) order, from a partial index: what
   * tiering looks at each round without reading the cold rest of the catalog.
   */
  *hotEntries(): Generator<CatalogEntry> {
    for (const r of this.stmts.hot.iterate() as Iterable<Row>) yield fromRow(r);
  }

  get size(): number {
    let n = 0;
    for (const m of this.parts.values()) for (const c of m.values()) n += c;
    return n;
  }

  /** Segment, record and byte totals (per-partition sums kept by the database). */
  summary(): CatalogSummary {
    if (this.closed) return { segments: 0, records: 0, bytes: 0, hot: 0, cold: 0 };
    const r = this.db
      .prepare(
        'SELECT coalesce(sum(segments), 0) AS segments, coalesce(sum(records), 0) AS records, coalesce(sum(bytes), 0) AS bytes, coalesce(sum(hot_bytes), 0) AS hot, coalesce(sum(cold_bytes), 0) AS cold FROM partitions',
      )
      .get() as unknown as CatalogSummary;
    return { ...r };
  }

  // ---- writing --------------------------------------------------------------------------------

  /**
   * Calls `fn` with the key (entryKey) of every entry put or removed from now on, until the
   * returned function is called: what a rebuild running beside the service's writers needs to
   * know which entries were written after its scan began.
   */
  watch(fn: (key: string) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  /** Adds or replaces a segment's entry; resolves once its batch is committed. */
  put(e: CatalogEntry): Promise<void> {
    try {
      this.requireWritable();
      this.notify(e);
      const done = this.begin();
      this.stmts.upsert.run(...toRow(e));
      const segs = this.cache.get(`${e.topic}\u0000${e.partition}`);
      if (segs !== undefined) {
        // Cached partitions know whether this is a new segment without asking the database.
        const n = segs.size;
        segs.upsert(e);
        this.cached += segs.size - n;
        this.countPartition(e.topic, e.partition, segs.size);
      } else {
        this.countPartition(e.topic, e.partition, this.partitionCount(e.topic, e.partition));
      }
      return done;
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  remove(
    e: Pick<CatalogEntry, 'topic' | 'partition' | 'firstOffset' | 'lastOffset'>,
  ): Promise<void> {
    try {
      this.requireWritable();
      this.notify(e);
      const done = this.begin();
      this.stmts.del.run(e.topic, e.partition, e.firstOffset, e.lastOffset);
      this.countPartition(e.topic, e.partition, this.partitionCount(e.topic, e.partition));
      const segs = this.cache.get(`${e.topic}\u0000${e.partition}`);
      if (segs?.remove(e.firstOffset, e.lastOffset) !== undefined) this.cached--;
      return done;
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** Commits every change so far (and makes it durable against power loss when `sync`). */
  flush(sync = false): Promise<void> {
    try {
      this.commit();
      if (sync && this.locked && !this.closed) {
        // WAL with synchronous=NORMAL syncs only at checkpoints; one FULL commit syncs the WAL
        // file, and with it every commit before.
        this.db.exec('PRAGMA synchronous = FULL');
        try {
          this.db.exec("BEGIN; INSERT OR REPLACE INTO meta VALUES ('synced', unixepoch()); COMMIT");
        } finally {
          this.db.exec('PRAGMA synchronous = NORMAL');
        }
      }
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** Commits, and folds the write-ahead log into the database file. */
  async compact(): Promise<void> {
    await this.flush();
    if (this.locked && !this.closed) this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.writable) await this.flush(true);
    } finally {
      this.closed = true;
      this.db.close();
      this.cache.clear();
      if (this.locked) await unlink(join(this.dir, LOCK)).catch(() => undefined);
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private notify(e: Pick<CatalogEntry, 'topic' | 'partition' | 'firstOffset' | 'lastOffset'>) {
    if (this.watchers.size === 0) return;
    const k = entryKey(e);
    for (const fn of this.watchers) fn(k);
  }

  private requireWritable(): void {
    if (!this.writable)
      throw new ArchiveError(ErrorCodes.INTERNAL, 'catalog opened read-only; cannot write');
    if (this.closed) throw new ArchiveError(ErrorCodes.INTERNAL, 'catalog is closed');
  }

  /** Opens the batch transaction if none is open; the promise settles when it commits. */
  private begin(): Promise<void> {
    if (this.batch !== null) return this.batch.done;
    this.db.exec('BEGIN');
    const batch: { done: Promise<void> } = {
      done: new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          try {
            if (this.batch === batch) this.commit();
            resolve();
          } catch (err) {
            reject(err as Error);
          }
        });
      }),
    };
    this.batch = batch;
    return batch.done;
  }

  private commit(): void {
    if (this.batch === null) return;
    this.batch = null;
    try {
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  private partitionCount(topic: string, partition: number): number {
    const r = this.stmts.partitionCount.get(topic, partition) as { segments: number } | undefined;
    return r?.segments ?? 0;
  }

  private countPartition(topic: string, partition: number, n: number): void {
    let m = this.parts.get(topic);
    if (n <= 0) {
      m?.delete(partition);
      if (m?.size === 0) this.parts.delete(topic);
      return;
    }
    if (m === undefined) this.parts.set(topic, (m = new Map()));
    m.set(partition, n);
  }

  /** Drops least recently used partitions (never `keep`) while over the cache budget. */
  private evict(keep: string): void {
    for (const [k, segs] of this.cache) {
      if (this.cached <= this.cacheEntries) return;
      if (k === keep) continue;
      this.cache.delete(k);
      this.cached -= segs.size;
    }
  }

  /** Reads a legacy JSON-lines catalog into this (memory) catalog. */
  private async importLegacy(dir: string): Promise<void> {
    await importInto(this.db, dir);
    this.parts.clear();
    for (const r of this.db
      .prepare('SELECT topic, partition, segments FROM partitions')
      .iterate() as Iterable<{ topic: string; partition: number; segments: number }>) {
      this.countPartition(r.topic, r.partition, r.segments);
    }
  }
}

function memoryDb(): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  db.exec(SCHEMA);
  return db;
}

function openDb(path: string, readOnly: boolean): DatabaseSync {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly, timeout: 10_000 });
  } catch (err) {
    throw new ArchiveError(
      ErrorCodes.CATALOG_CORRUPT,
      `cannot open catalog ${path}: ${(err as Error).message}`,
      { details: { path } },
    );
  }
  try {
    if (!readOnly) {
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
      db.exec(SCHEMA);
      const v = db.prepare("SELECT v FROM meta WHERE k = 'schema'").get() as
        { v: string } | undefined;
      if (v === undefined)
        db.prepare("INSERT INTO meta VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
      else if (Number(v.v) !== SCHEMA_VERSION)
        throw new Error(`schema version ${v.v}, expected ${SCHEMA_VERSION}`);
    } else {
      const v = db.prepare("SELECT v FROM meta WHERE k = 'schema'").get() as
        { v: string } | undefined;
      if (v === undefined || Number(v.v) !== SCHEMA_VERSION)
        throw new Error(`not a version ${SCHEMA_VERSION} kafka-archive catalog`);
    }
    db.exec('PRAGMA cache_size = -8192'); // 8 MiB page cache
  } catch (err) {
    db.close();
    throw new ArchiveError(
      ErrorCodes.CATALOG_CORRUPT,
      `catalog ${path}: ${(err as Error).message}; rebuild it with \`kafka-archive catalog rebuild\``,
      { details: { path } },
    );
  }
  return db;
}

/** Streams a legacy catalog into `db` in one transaction. */
async function importInto(db: DatabaseSync, dir: string): Promise<number> {
  const upsert = db.prepare(UPSERT_SQL);
  const del = db.prepare(DELETE_SQL);
  const sink: LegacySink = {
    put: (e) => upsert.run(...toRow(e)),
    remove: (k) => del.run(k.topic, k.partition, k.firstOffset, k.lastOffset),
  };
  db.exec('BEGIN');
  try {
    await readLegacy(dir, sink);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
  const r = db.prepare('SELECT coalesce(sum(segments), 0) AS n FROM partitions').get() as {
    n: number;
  };
  return r.n;
}

/**
 * Migrates a snapshot.jsonl + log.jsonl catalog: into a temporary database, renamed to
 * catalog.db once complete, then the old files are removed. A crash at any point leaves either
 * the old catalog (migrated again at the next open) or the new one.
 */
async function migrate(dir: string, log: Logger | undefined): Promise<void> {
  const t0 = Date.now();
  const tmp = join(dir, `.${DB}.migrating`);
  await rm(tmp, { force: true });
  await rm(`${tmp}-wal`, { force: true });
  await rm(`${tmp}-shm`, { force: true });
  const db = openDb(tmp, false);
  let segments: number;
  try {
    segments = await importInto(db, dir);
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  const fh = await open(tmp, 'r+');
  await fh.sync();
  await fh.close();
  await rename(tmp, join(dir, DB));
  await fsyncDir(dir);
  await removeLegacy(dir);
  log?.info(
    { catalogDir: dir, segments, ms: Date.now() - t0 },
    'catalog migrated from snapshot.jsonl/log.jsonl to catalog.db (SQLite)',
  );
}

/**
 * The process that holds the writer lock of the catalog in `dir` ("pid@host"), or null when
 * none does (no lock, or the lock of a process of this host that is gone). Reads only.
 */
export async function catalogWriter(dir: string): Promise<string | null> {
  const holder = (await readFile(join(dir, LOCK), 'utf8').catch(() => '')).trim();
  if (holder === '') return null;
  const [pidText, host] = holder.split('@');
  const pid = Number(pidText);
  if (host === hostname() && Number.isInteger(pid) && !pidAlive(pid)) return null;
  return holder;
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
