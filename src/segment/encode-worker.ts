/**
 * The segment encoder thread: turns packed records (pack.ts) into a Parquet file with DuckDB,
 * off the service's event loop. The main thread (writer.ts) sends, per segment:
 *
 *   begin  {id, columnsSql}                 a table and an appender for the segment
 *   rows   {id, buf}  (transferred)         packed records: hashed, then appended as DataChunks
 *   finish {id, tmp, codec, rowGroupRows, kv, shaKey}
 *                                           COPY ... TO tmp (FORMAT parquet, KV_METADATA incl. the
 *                                           SHA-256), drop the table; answers {id, sha256}
 *   abort  {id}                             drop what was begun
 *
 * Appends are synchronous DuckDB calls: here they block only this thread. Compression and the
 * Parquet encoding run on DuckDB's own threads. Erasable TypeScript only (Node strips the types
 * when it runs this file from source).
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import {
  DuckDBDataChunk,
  DuckDBInstance,
  blobValue,
  listValue,
  structValue,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { unpackRecords } from './pack.ts';

export type EncoderRequest =
  | { type: 'begin'; id: number; columnsSql: string }
  | { type: 'rows'; id: number; buf: Uint8Array }
  | {
      type: 'finish';
      id: number;
      tmp: string;
      codec: string;
      rowGroupRows: number;
      kv: Record<string, string>;
      shaKey: string;
    }
  | { type: 'abort'; id: number }
  /** End the thread once no DuckDB call runs (SegmentWriter.close). */
  | { type: 'close' };

export type EncoderReply =
  | { type: 'done'; id: number; sha256: string }
  | { type: 'failed'; id: number; message: string; errno?: string };

/** DuckDB's vector size: the most rows one DataChunk holds. */
const CHUNK_ROWS = 2048;

interface Open {
  con: DuckDBConnection;
  appender: DuckDBAppender;
  types: DuckDBType[];
  table: string;
  hash: Hash;
  failed: Error | null;
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const port = parentPort;
let instance: Promise<DuckDBInstance> | null = null;
const open = new Map<number, Open>();

function appendPacked(o: Open, buf: Buffer): void {
  o.hash.update(buf);
  let cols: DuckDBValue[][] = [[], [], [], [], [], []];
  let rows = 0;
  const flush = () => {
    if (rows === 0) return;
    const chunk = DuckDBDataChunk.create(o.types, rows);
    chunk.setColumns(cols);
    o.appender.appendDataChunk(chunk);
    cols = [[], [], [], [], [], []];
    rows = 0;
  };
  for (const r of unpackRecords(buf)) {
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
    if (++rows === CHUNK_ROWS) flush();
  }
  flush();
}

async function handle(msg: EncoderRequest): Promise<EncoderReply | null> {
  switch (msg.type) {
    case 'begin': {
      instance ??= DuckDBInstance.create(':memory:', { threads: '2' });
      const con = await (await instance).connect();
      const table = `seg_${msg.id}`;
      await con.run(`CREATE TABLE ${table} (${msg.columnsSql})`);
      const appender = await con.createAppender(table);
      const types = Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
      open.set(msg.id, { con, appender, types, table, hash: createHash('sha256'), failed: null });
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
        o.appender.closeSync();
        const sha256 = o.hash.digest('hex');
        const kv = Object.entries({ ...msg.kv, [msg.shaKey]: sha256 })
          .map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`)
          .join(', ');
        await o.con.run(
          // Rows were appended in offset order (writer.ts checks it) and COPY keeps insertion
          // order (preserve_insertion_order): no sort, and no sorted copy of the table.
          `COPY ${o.table} TO ${sqlString(msg.tmp)} (FORMAT parquet, COMPRESSION ${msg.codec}, ROW_GROUP_SIZE ${msg.rowGroupRows}, KV_METADATA {${kv}})`,
        );
        return { type: 'done', id: msg.id, sha256 };
      } finally {
        await o.con.run(`DROP TABLE IF EXISTS ${o.table}`).catch(() => undefined);
        o.con.closeSync();
      }
    }
    case 'close':
      return null; // handled by closeThread
    case 'abort': {
      const o = open.get(msg.id);
      open.delete(msg.id);
      if (o !== undefined) {
        await o.con.run(`DROP TABLE IF EXISTS ${o.table}`).catch(() => undefined);
        o.con.closeSync();
      }
      return null;
    }
  }
}

/** Messages of one segment run in order (begin awaits DuckDB before rows may append). */
const chains = new Map<number, Promise<void>>();
/** The work of every message still running, of finished and aborted segments too. */
const inflight = new Set<Promise<void>>();

/**
 * Ends the thread by itself once its DuckDB calls are done: a thread terminated in the middle of
 * one (worker.terminate(), or the process exiting) aborts the whole process from native code
 * ("terminate called after throwing an instance of 'Napi::Error'").
 */
async function closeThread(): Promise<void> {
  while (inflight.size > 0) await Promise.allSettled([...inflight]);
  for (const id of [...open.keys()]) await handle({ type: 'abort', id }).catch(() => undefined);
  if (instance !== null) {
    const db = await instance.catch(() => null);
    db?.closeSync();
  }
  port?.close();
}

port?.on('message', (msg: EncoderRequest) => {
  if (msg.type === 'close') {
    void closeThread();
    return;
  }
  const run = (chains.get(msg.id) ?? Promise.resolve())
    .then(() => handle(msg))
    .then(
      (reply) => {
        if (reply !== null) port.postMessage(reply);
      },
      (err: unknown) => {
        const e = err as NodeJS.ErrnoException;
        const reply: EncoderReply = {
          type: 'failed',
          id: msg.id,
          message: e?.message ?? String(err),
          ...(typeof e?.code === 'string' ? { errno: e.code } : {}),
        };
        port.postMessage(reply);
      },
    );
  inflight.add(run);
  void run.finally(() => inflight.delete(run));
  if (msg.type === 'finish' || msg.type === 'abort') chains.delete(msg.id);
  else chains.set(msg.id, run);
});
