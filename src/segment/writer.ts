import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ArchiveError, ErrorCodes, errnoCode } from '../errors.js';
import { fsyncDir } from '../util/fs.js';
import type { EncoderReply, EncoderRequest } from './encode-worker.js';
import { packRecords, packedSize } from './pack.js';
import type { PackedRange } from './packed-records.js';
import { FORMAT_VERSION, toKv, type SegmentCompression, type SegmentMeta } from './meta.js';
import type { KafkaRecord } from '../record.js';

const WRITER_VERSION = `kafka-archive/${(createRequire(import.meta.url)('../../package.json') as { version: string }).version}`;

/** Row groups are a multiple of this many rows (DuckDB's vector size, kept for its readers). */
const CHUNK_ROWS = 2048;

/** zstd level of segments (1: measured faster than 3 with files no larger, bench/RESULTS.md). */
const ZSTD_LEVEL = 1;

export type SegmentFacts = Omit<
  SegmentMeta,
  'sha256' | 'formatVersion' | 'writerVersion' | 'compression'
>;

/** Records to write: record objects, or records already packed (PackedRecords.range). */
export type SegmentRecords = readonly KafkaRecord[] | PackedRange;

/** What a segment to write holds: records plus the covered offset span and its statistics. */
export interface SegmentContent<R extends SegmentRecords = SegmentRecords> {
  records: R;
  firstOffset: bigint;
  lastOffset: bigint;
  /** The consumer's covered range: offsets in it not in `records` were skipped by Kafka. */
  rangeStart: bigint;
  rangeEnd: bigint;
  minTimestamp: bigint;
  maxTimestamp: bigint;
}

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

/** Packed slices sent to the encoder thread are cut at this many bytes (bounded loop turns). */
const SLICE_BYTES = 4 * 2 ** 20;

const isPacked = (r: SegmentRecords): r is PackedRange => !Array.isArray(r);

/**
 * Bytes of record objects in the canonical encoding. The encoder writes rows in the order given
 * (no sort): offsets must ascend.
 */
function packedBytes(records: readonly KafkaRecord[]): number {
  let bytes = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as KafkaRecord;
    if (i > 0 && r.offset <= (records[i - 1] as KafkaRecord).offset) {
      throw new ArchiveError(
        ErrorCodes.INTERNAL,
        `segment records out of offset order at ${r.offset} (after ${(records[i - 1] as KafkaRecord).offset})`,
      );
    }
    bytes += packedSize(r);
  }
  return bytes;
}

/** Record objects packed a slice of about SLICE_BYTES at a time, each owning its memory. */
function* packSlices(records: readonly KafkaRecord[]): Generator<Buffer> {
  for (let start = 0; start < records.length;) {
    let end = start;
    let bytes = 0;
    while (end < records.length && bytes < SLICE_BYTES) bytes += packedSize(records[end++]!);
    yield packRecords(records, start, end);
    start = end;
  }
}

/** How long close() lets the encoder thread finish before it is terminated. */
const CLOSE_MS = 30_000;
const WORKER_URL = new URL(
  `./encode-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
  import.meta.url,
);

interface Pending {
  resolve(sha256: string): void;
  reject(err: Error): void;
}

/**
 * Writes segments on an encoder thread (encode-worker.ts: hyparquet-writer, chosen by
 * measurement, see bench/RESULTS.md), so the event loop (and the Kafka client's heartbeats on
 * it) does no Parquet work:
 *
 *   main thread:    packed records (PackedRecords.range: shared, no copy), or record objects
 *                   packed here (canonical encoding, 4 MiB slices, transferred)
 *   encoder thread: SHA-256 of the slices, columns of one row group at a time encoded,
 *                   compressed (zstd) and written to tmp; the footer with KV_METADATA last
 *   main thread:    fsync tmp, rename into place, fsync the directory
 *
 * A reader never sees a partial segment: the file is written under a dot-prefixed temporary
 * name and appears only by the rename. If the encoder thread dies, the writes in flight fail
 * (SEGMENT_WRITE_FAILED, retryable) and the next write starts a new thread.
 */
export class SegmentWriter {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  /**
   * @param maxConcurrent segments encoded at once. The encoder thread encodes one message at a
   *   time anyway; more in flight only holds more row groups being filled and more messages in
   *   the thread's queue. The others wait with their records on the main thread, where the
   *   archiver's buffer budget counts them.
   */
  constructor(private readonly maxConcurrent = 2) {}

  private async acquire(): Promise<void> {
    if (this.active < this.maxConcurrent) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.active--;
  }

  private encoder(): Worker {
    if (this.worker !== null) return this.worker;
    const w = new Worker(WORKER_URL);
    w.unref();
    w.on('message', (reply: EncoderReply) => {
      const p = this.pending.get(reply.id);
      if (p === undefined) return;
      this.pending.delete(reply.id);
      if (reply.type === 'done') p.resolve(reply.sha256);
      else p.reject(Object.assign(new Error(reply.message), { code: reply.errno }));
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = null;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(err);
      }
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`segment encoder thread exited (code ${code})`)));
    this.worker = w;
    return w;
  }

  async write(
    finalPath: string,
    records: SegmentRecords,
    facts: SegmentFacts,
    options: WriteOptions,
  ): Promise<WriteResult> {
    const dir = dirname(finalPath);
    const tmp = join(dir, `.${basename(finalPath)}.tmp-${randomBytes(4).toString('hex')}`);
    const id = ++this.seq;
    // Held while the segment is packed and encoded; the fsync and rename run outside it.
    await this.acquire();
    let held = true;
    const release = () => {
      if (held) this.release();
      held = false;
    };
    try {
      const worker = this.encoder();
      const done = new Promise<string>((resolve, reject) =>
        this.pending.set(id, { resolve, reject }),
      );
      // A failure reported before finish (e.g. begin) must not go unhandled while we send rows.
      done.catch(() => undefined);
      const packed = isPacked(records) ? records : null;
      const objects = records as readonly KafkaRecord[];
      const count = packed?.count ?? objects.length;
      const bytes = packed?.bytes ?? packedBytes(objects);
      const avg = count > 0 ? bytes / count : 1024;
      const rowGroupRows = Math.max(
        CHUNK_ROWS,
        Math.ceil(options.rowGroupBytes / avg / CHUNK_ROWS) * CHUNK_ROWS,
      );
      const partial: SegmentMeta = {
        ...facts,
        formatVersion: FORMAT_VERSION,
        writerVersion: WRITER_VERSION,
        compression: options.compression,
        sha256: '',
      };
      const kv = toKv(partial);
      const shaKey = Object.keys(kv).find((k) => k.endsWith('.sha256')) as string;
      delete kv[shaKey];
      worker.postMessage({
        type: 'begin',
        id,
        tmp,
        codec: options.compression,
        level: ZSTD_LEVEL,
        rowGroupRows,
        kv,
        shaKey,
        createdBy: WRITER_VERSION,
      } satisfies EncoderRequest);
      // Packed ranges are shared with the thread (SharedArrayBuffers, kept for a retry); slices
      // packed here are handed over.
      let first = true;
      for (const buf of packed?.slices ?? packSlices(objects)) {
        if (!first) await new Promise<void>((resolve) => setImmediate(resolve));
        first = false;
        worker.postMessage(
          { type: 'rows', id, buf } satisfies EncoderRequest,
          packed === null ? [buf.buffer as ArrayBuffer] : [],
        );
      }
      worker.postMessage({ type: 'finish', id } satisfies EncoderRequest);
      const sha256 = await done;
      release();
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, finalPath);
      await fsyncDir(dir);
      return { meta: { ...partial, sha256 }, bytes: (await stat(finalPath)).size };
    } catch (err) {
      release();
      this.pending.delete(id);
      this.worker?.postMessage({ type: 'abort', id } satisfies EncoderRequest);
      await rm(tmp, { force: true }).catch(() => undefined);
      const errno =
        errnoCode(err) ??
        (/No space left on device/i.test(String((err as Error)?.message)) ? 'ENOSPC' : undefined);
      throw new ArchiveError(
        ErrorCodes.SEGMENT_WRITE_FAILED,
        `cannot write segment ${finalPath}: ${(err as Error)?.message ?? String(err)}`,
        { cause: err, retryable: true, details: errno === undefined ? {} : { errno } },
      );
    }
  }

  /**
   * Ends the encoder thread: it finishes the messages sent before and exits by itself, removing
   * the temporary file of any segment still open. Resolves when it has exited; one that has not
   * within CLOSE_MS is terminated.
   */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w === null) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage({ type: 'close' } satisfies EncoderRequest);
    const timer = setTimeout(() => void w.terminate(), CLOSE_MS);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
