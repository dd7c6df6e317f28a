import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import {
  DuckDBDataChunk,
  DuckDBInstance,
  blobValue,
  listValue,
  structValue,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import { ArchiveError, ErrorCodes, errnoCode } from '../errors.js';
import { fsyncDir } from '../util/fs.js';
import { ContentHasher } from './checksum.js';
import { FORMAT_VERSION, toKv, type SegmentCompression, type SegmentMeta } from './meta.js';
import type { KafkaRecord } from '../record.js';

const WRITER_VERSION = `kafka-archive/${(createRequire(import.meta.url)('../../package.json') as { version: string }).version}`;

/** DuckDB's vector size: data chunks hold at most this many rows. */
/** DuckDB's vector size: the most rows one DataChunk holds. */
const CHUNK_ROWS = 2048;
/** A chunk is also cut at this many bytes of keys and values (large records). */
const CHUNK_BYTES = 2 * 2 ** 20;
/**
 * Rows are moved from the appender into the table (synchronous work) at least this often, so
 * no single step blocks the event loop long: DuckDB would otherwise flush ~200k rows at once.
 */
const FLUSH_ROWS = 32_768;
const FLUSH_BYTES = 8 * 2 ** 20;

export const SEGMENT_COLUMNS_SQL = `"offset" BIGINT, "timestamp" BIGINT, timestamp_type INTEGER, "key" BLOB, "value" BLOB, headers STRUCT("key" VARCHAR, "value" BLOB)[]`;

export type SegmentFacts = Omit<
  SegmentMeta,
  'sha256' | 'formatVersion' | 'writerVersion' | 'compression'
>;

export interface WriteOptions {
  compression: SegmentCompression;
  /** Target bytes per row group. */
  rowGroupBytes: number;
}

export interface WriteResult {
  meta: SegmentMeta;
  /** Size of the Parquet file. */
  bytes: number;
}

let tableSeq = 0;
const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * Writes segments with DuckDB (chosen by measurement, see bench/RESULTS.md): records are
 * appended as 2048-row data chunks, yielding to the event loop between chunks (appends are
 * synchronous), then `COPY ... TO ... (FORMAT parquet)` runs on DuckDB's own threads.
 * The file is written under a dot-prefixed temporary name, fsync'd, renamed into place and the
 * directory fsync'd, so a reader never sees a partial segment.
 */
export class SegmentWriter {
  private instance: Promise<DuckDBInstance> | null = null;
  /**
   * Appending runs on the event loop (building chunks, appender flushes): one segment at a
   * time, so several partitions sealing together do not stack their steps into one loop turn.
   * Sorting, encoding and compression (COPY) run on DuckDB's threads and may overlap.
   */
  private appendQueue: Promise<void> = Promise.resolve();

  private db(): Promise<DuckDBInstance> {
    this.instance ??= DuckDBInstance.create(':memory:', { threads: '2' });
    return this.instance;
  }

  async write(
    finalPath: string,
    records: readonly KafkaRecord[],
    facts: SegmentFacts,
    options: WriteOptions,
  ): Promise<WriteResult> {
    const dir = dirname(finalPath);
    const tmp = join(dir, `.${basename(finalPath)}.tmp-${randomBytes(4).toString('hex')}`);
    const table = `seg_${process.pid}_${++tableSeq}`;
    let con: DuckDBConnection | null = null;
    try {
      const hasher = new ContentHasher();
      let recordBytes = 0;
      con = await (await this.db()).connect();
      await con.run(`CREATE TABLE ${table} (${SEGMENT_COLUMNS_SQL})`);
      const appender = await con.createAppender(table);
      const types = Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
      const previous = this.appendQueue;
      let appended!: () => void;
      this.appendQueue = new Promise<void>((resolve) => (appended = resolve));
      await previous;
      try {
        let sinceFlushRows = 0;
        let sinceFlushBytes = 0;
        for (let start = 0; start < records.length;) {
          let end = start;
          let bytes = 0;
          while (end < records.length && end - start < CHUNK_ROWS && bytes < CHUNK_BYTES) {
            const r = records[end] as KafkaRecord;
            bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0) + 24;
            end++;
          }
          const slice = records.slice(start, end);
          start = end;
          const cols: DuckDBValue[][] = [[], [], [], [], [], []];
          for (const r of slice) {
            hasher.update(r);
            cols[0]!.push(r.offset);
            cols[1]!.push(r.timestamp);
            cols[2]!.push(r.timestampType);
            cols[3]!.push(r.key === null ? null : blobValue(r.key));
            cols[4]!.push(r.value === null ? null : blobValue(r.value));
            cols[5]!.push(
              listValue(
                r.headers.map((h) =>
                  structValue({ key: h.key, value: h.value === null ? null : blobValue(h.value) }),
                ),
              ),
            );
          }
          recordBytes += bytes;
          const chunk = DuckDBDataChunk.create(types, slice.length);
          chunk.setColumns(cols);
          appender.appendDataChunk(chunk);
          sinceFlushRows += slice.length;
          sinceFlushBytes += bytes;
          if (sinceFlushRows >= FLUSH_ROWS || sinceFlushBytes >= FLUSH_BYTES) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            appender.flushSync();
            sinceFlushRows = 0;
            sinceFlushBytes = 0;
          }
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        appender.closeSync();
      } finally {
        appended();
      }
      const meta: SegmentMeta = {
        ...facts,
        formatVersion: FORMAT_VERSION,
        writerVersion: WRITER_VERSION,
        compression: options.compression,
        sha256: hasher.digestHex(),
      };
      const avg = records.length > 0 ? recordBytes / records.length : 1024;
      const rowGroupRows = Math.max(
        CHUNK_ROWS,
        Math.ceil(options.rowGroupBytes / avg / CHUNK_ROWS) * CHUNK_ROWS,
      );
      const kv = Object.entries(toKv(meta))
        .map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`)
        .join(', ');
      const codec = options.compression === 'none' ? 'uncompressed' : options.compression;
      await con.run(
        `COPY (SELECT * FROM ${table} ORDER BY "offset") TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${rowGroupRows}, KV_METADATA {${kv}})`,
      );
      await con.run(`DROP TABLE ${table}`);
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, finalPath);
      await fsyncDir(dir);
      return { meta, bytes: (await stat(finalPath)).size };
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      await con?.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      const errno =
        errnoCode(err) ??
        (/No space left on device/i.test(String((err as Error)?.message)) ? 'ENOSPC' : undefined);
      throw new ArchiveError(
        ErrorCodes.SEGMENT_WRITE_FAILED,
        `cannot write segment ${finalPath}: ${(err as Error)?.message ?? String(err)}`,
        { cause: err, retryable: true, details: errno === undefined ? {} : { errno } },
      );
    } finally {
      con?.closeSync();
    }
  }

  close(): void {
    const inst = this.instance;
    this.instance = null;
    void inst?.then((i) => i.closeSync()).catch(() => undefined);
  }
}
