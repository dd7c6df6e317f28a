/**
 * The segment encoder thread: turns packed records (pack.ts) into a Parquet file with
 * hyparquet-writer, off the service's event loop, one row group at a time (chosen by
 * measurement over DuckDB, see bench/RESULTS.md: less CPU per record, and memory bounded by a
 * row group instead of a whole segment). The main thread (writer.ts) sends, per segment:
 *
 *   begin  {id, tmp, codec, rowGroupRows, kv, shaKey}
 *                                   opens tmp and writes the Parquet header
 *   rows   {id, buf}                packed records (a shared slice of PackedRecords, or a slice
 *                                   packed and transferred by the writer): hashed, split into
 *                                   columns; every full row group is encoded, compressed and
 *                                   written to tmp
 *   finish {id}                     writes the last row group and the footer (KV metadata with
 *                                   the content SHA-256), closes tmp; answers {id, sha256}
 *   abort  {id}                     closes and removes what was begun
 *
 * Everything here is synchronous and blocks only this thread. Compression is native
 * (node:zlib zstd, the snappy package). Erasable TypeScript only (Node strips the types when it
 * runs this file from source).
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { constants as zlib, zstdCompressSync } from 'node:zlib';
import { parentPort } from 'node:worker_threads';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { ColumnSource } from 'hyparquet-writer';
import type { CompressionCodec } from 'hyparquet';
import { compressSync as snappyCompressSync } from 'snappy';
import { unpackRecords } from './pack.ts';
import { SEGMENT_SCHEMA } from './schema.ts';

export type EncoderCodec = 'zstd' | 'snappy' | 'none';

export type EncoderRequest =
  | {
      type: 'begin';
      id: number;
      tmp: string;
      codec: EncoderCodec;
      /** zstd level (ignored by the other codecs). */
      level: number;
      rowGroupRows: number;
      kv: Record<string, string>;
      shaKey: string;
      createdBy: string;
    }
  | { type: 'rows'; id: number; buf: Uint8Array }
  | { type: 'finish'; id: number }
  | { type: 'abort'; id: number }
  /** End the thread once the messages before it are done (SegmentWriter.close). */
  | { type: 'close' };

export type EncoderReply =
  | { type: 'done'; id: number; sha256: string }
  | { type: 'failed'; id: number; message: string; errno?: string };

/** A header with its key as UTF-8 bytes (hyparquet-writer writes them as they are). */
type Header = { key: Uint8Array; value: Uint8Array | null };

/** One row group's worth of columns (keys and values are views into the packed slices). */
class Columns {
  offset: bigint[] = [];
  timestamp: bigint[] = [];
  timestampType: number[] = [];
  key: Array<Uint8Array | null> = [];
  value: Array<Uint8Array | null> = [];
  headers: Header[][] = [];

  get rows(): number {
    return this.offset.length;
  }

  /**
   * Columns for hyparquet-writer. Offsets and timestamps keep min/max statistics (readers prune
   * row groups by them); the byte columns are written PLAIN without statistics (a dictionary of
   * record values is rarely smaller, and trying one costs a hash of every byte).
   */
  sources(): ColumnSource[] {
    return [
      { name: 'offset', data: this.offset },
      { name: 'timestamp', data: this.timestamp },
      { name: 'timestamp_type', data: this.timestampType, statistics: false },
      { name: 'key', data: this.key, encoding: 'PLAIN', statistics: false },
      { name: 'value', data: this.value, encoding: 'PLAIN', statistics: false },
      { name: 'headers', data: this.headers, encoding: 'PLAIN', statistics: false },
    ];
  }
}

interface Open {
  fd: number;
  tmp: string;
  writer: ParquetWriter;
  rowGroupRows: number;
  /** The row group being filled: views into the packed slices, kept alive until written. */
  cols: Columns;
  hash: Hash;
  kv: Record<string, string>;
  shaKey: string;
  failed: Error | null;
}

const port = parentPort;
const open = new Map<number, Open>();

/** A ByteWriter that writes what it holds to the file after every row group (and at the end). */
function fileWriter(fd: number): ByteWriter {
  const w: ByteWriter & { flush?: () => void } = new ByteWriter();
  const drain = () => {
    let pos = 0;
    while (pos < w.index) pos += writeSync(fd, new Uint8Array(w.buffer, pos, w.index - pos));
    w.index = 0;
  };
  w.flush = drain;
  w.finish = drain;
  return w;
}

function compressor(codec: EncoderCodec, level: number) {
  if (codec === 'zstd') {
    const params = { [zlib.ZSTD_c_compressionLevel]: level };
    return { ZSTD: (b: Uint8Array) => zstdCompressSync(b, { params }) };
  }
  if (codec === 'snappy') return { SNAPPY: (b: Uint8Array) => snappyCompressSync(b) };
  return {};
}

const CODECS: Record<EncoderCodec, CompressionCodec> = {
  zstd: 'ZSTD',
  snappy: 'SNAPPY',
  none: 'UNCOMPRESSED',
};

function writeGroup(o: Open): void {
  if (o.cols.rows === 0) return;
  const cols = o.cols;
  o.cols = new Columns();
  o.writer.write({ columnData: cols.sources(), rowGroupSize: cols.rows });
}

function appendPacked(o: Open, buf: Buffer): void {
  o.hash.update(buf);
  for (const r of unpackRecords(buf)) {
    const c = o.cols;
    c.offset.push(r.offset);
    c.timestamp.push(r.timestamp);
    c.timestampType.push(r.timestampType);
    c.key.push(r.key);
    c.value.push(r.value);
    c.headers.push(r.headers);
    if (c.rows === o.rowGroupRows) writeGroup(o);
  }
}

function discard(o: Open): void {
  try {
    closeSync(o.fd);
  } catch {
    // already closed
  }
  rmSync(o.tmp, { force: true });
}

function handle(msg: Exclude<EncoderRequest, { type: 'close' }>): EncoderReply | null {
  switch (msg.type) {
    case 'begin': {
      const fd = openSync(msg.tmp, 'w');
      try {
        const writer = new ParquetWriter({
          writer: fileWriter(fd),
          schema: SEGMENT_SCHEMA,
          codec: CODECS[msg.codec],
          compressors: compressor(msg.codec, msg.level),
          createdBy: msg.createdBy,
        });
        open.set(msg.id, {
          fd,
          tmp: msg.tmp,
          writer,
          rowGroupRows: msg.rowGroupRows,
          cols: new Columns(),
          hash: createHash('sha256'),
          kv: msg.kv,
          shaKey: msg.shaKey,
          failed: null,
        });
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      return null;
    }
    case 'rows': {
      const o = open.get(msg.id);
      if (o === undefined || o.failed !== null) return null;
      try {
        appendPacked(o, Buffer.from(msg.buf.buffer, msg.buf.byteOffset, msg.buf.byteLength));
      } catch (err) {
        o.failed = err as Error; // reported by finish
      }
      return null;
    }
    case 'finish': {
      const o = open.get(msg.id);
      if (o === undefined) return { type: 'failed', id: msg.id, message: 'segment was not begun' };
      open.delete(msg.id);
      try {
        if (o.failed !== null) throw o.failed;
        writeGroup(o);
        const sha256 = o.hash.digest('hex');
        o.writer.kvMetadata = Object.entries({ ...o.kv, [o.shaKey]: sha256 }).map(
          ([key, value]) => ({ key, value }),
        );
        o.writer.finish();
        closeSync(o.fd);
        return { type: 'done', id: msg.id, sha256 };
      } catch (err) {
        discard(o);
        throw err;
      }
    }
    case 'abort': {
      const o = open.get(msg.id);
      open.delete(msg.id);
      if (o !== undefined) discard(o);
      return null;
    }
  }
}

port?.on('message', (msg: EncoderRequest) => {
  if (msg.type === 'close') {
    for (const o of open.values()) discard(o);
    open.clear();
    port.close();
    return;
  }
  let reply: EncoderReply | null;
  try {
    reply = handle(msg);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    reply = {
      type: 'failed',
      id: msg.id,
      message: e?.message ?? String(err),
      ...(typeof e?.code === 'string' ? { errno: e.code } : {}),
    };
  }
  if (reply !== null) port.postMessage(reply);
});
