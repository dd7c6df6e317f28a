/**
 * Parquet writer benchmark: the same N records written as one segment by
 *   - parquetjs-lite 0.8.7 (the design card's choice; GZIP or SNAPPY, it has no ZSTD),
 *   - the product's SegmentWriter (DuckDB, ZSTD; SNAPPY for comparison),
 *   - hyparquet-writer 0.17.0 (SNAPPY built in; GZIP through a node:zlib compressor; no ZSTD
 *     compressor is installed).
 * Each writer runs in a fresh child process (clean RSS, no JIT or GC carry-over), after a small
 * warm-up write, with an event-loop drift sampler running. Every output is then read back in
 * this process with DuckDB (count, schema, sampled rows) and with hyparquet (every record,
 * compared by the archive's content SHA-256).
 *
 *   npx tsx bench/parquet-writers.ts [--records 200000] [--value-bytes 512] [--writers a,b]
 *                                    [--out-dir DIR] [--keep] [--json FILE]
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdir, open, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import {
  DuckDBInstance,
  type DuckDBBlobValue,
  type DuckDBListValue,
  type DuckDBStructValue,
} from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors as readCompressors } from 'hyparquet-compressors';
import { ByteWriter, ParquetWriter as HyWriter, parquetWriteFile } from 'hyparquet-writer';
// Only the segment module: the rest of src/ is not needed (and changes more often).
import {
  ContentHasher,
  FORMAT_VERSION,
  SegmentWriter,
  toKv,
  type SegmentMeta,
} from '../src/segment/index.js';
import type { KafkaRecord } from '../src/record.js';
import { SEGMENT_SCHEMA } from '../src/segment/schema.js';
import { LoopMonitor, type LoopStats } from './lib/monitor.js';
import { generateRecords, payloadBytes } from './lib/records.js';
import { fmt, intFlag, MB, MiB, parseFlags, table } from './lib/util.js';

const require = createRequire(import.meta.url);
const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');

// ---- the writers ------------------------------------------------------------------------------

interface Variant {
  id: string;
  library: string;
  codec: string;
  /** How the writer is driven; "sync" = one synchronous call for the whole file. */
  mode: string;
  headers: string;
  write(path: string, records: KafkaRecord[], ctx: WriteContext): Promise<void>;
}

interface WriteContext {
  rowGroupRows: number;
  kv: Record<string, string>;
}

const PRODUCT_HEADERS = 'list<struct<key string, value binary>> (standard 3-level LIST)';

/** A SegmentWriter per child process, like the archiver (one encoder thread, reused). */
let segmentWriter: SegmentWriter | null = null;

function productVariant(codec: 'zstd' | 'snappy'): Variant {
  return {
    id: `product-${codec}`,
    library: 'SegmentWriter (hyparquet-writer on the encoder thread)',
    codec: codec.toUpperCase(),
    mode: 'packed slices, a row group at a time, off the event loop',
    headers: PRODUCT_HEADERS,
    async write(path, records) {
      segmentWriter ??= new SegmentWriter();
      const first = records[0] as KafkaRecord;
      const last = records[records.length - 1] as KafkaRecord;
      await segmentWriter.write(
        path,
        records,
        {
          topic: 'bench',
          partition: 0,
          firstOffset: first.offset,
          lastOffset: last.offset,
          minTimestamp: first.timestamp,
          maxTimestamp: last.timestamp,
          recordCount: records.length,
          rangeStart: first.offset,
          rangeEnd: last.offset,
        },
        { compression: codec, rowGroupBytes: 4 * MiB },
      );
    },
  };
}

// parquetjs-lite ships no type declarations: the little of its API used here.
interface PqWriter {
  appendRow(row: Record<string, unknown>): Promise<void>;
  setMetadata(key: string, value: string): void;
  close(): Promise<void>;
}
interface ParquetjsLite {
  ParquetSchema: new (schema: Record<string, unknown>) => unknown;
  ParquetWriter: {
    openFile(schema: unknown, path: string, opts: Record<string, unknown>): Promise<PqWriter>;
  };
}

function parquetjsVariant(codec: 'GZIP' | 'SNAPPY'): Variant {
  return {
    id: `parquetjs-${codec.toLowerCase()}`,
    library: 'parquetjs-lite 0.8.7',
    codec,
    mode: 'await appendRow per record',
    headers: PRODUCT_HEADERS,
    async write(path, records, ctx) {
      const parquet = require('parquetjs-lite') as ParquetjsLite;
      const c = { compression: codec };
      // Min/max statistics on the binary columns are off: parquetjs-lite computes them by
      // comparing Buffers with `<`/`>` (string conversion per comparison) and nobody prunes
      // row groups by them; offset and timestamp keep theirs (the reader prunes by offset).
      const bin = { ...c, statistics: false };
      const schema = new parquet.ParquetSchema({
        offset: { type: 'INT64', ...c },
        timestamp: { type: 'INT64', ...c },
        timestamp_type: { type: 'INT32', ...c },
        key: { type: 'BYTE_ARRAY', optional: true, ...bin },
        value: { type: 'BYTE_ARRAY', optional: true, ...bin },
        headers: {
          type: 'LIST',
          optional: true,
          fields: {
            list: {
              repeated: true,
              fields: {
                element: {
                  fields: {
                    key: { type: 'UTF8', ...bin },
                    value: { type: 'BYTE_ARRAY', optional: true, ...bin },
                  },
                },
              },
            },
          },
        },
      });
      const w = await parquet.ParquetWriter.openFile(schema, path, {
        rowGroupSize: ctx.rowGroupRows,
      });
      for (const [k, v] of Object.entries(ctx.kv)) w.setMetadata(k, v);
      for (const r of records) {
        await w.appendRow({
          offset: r.offset,
          timestamp: r.timestamp,
          timestamp_type: r.timestampType,
          key: r.key,
          value: r.value,
          headers: { list: r.headers.map((h) => ({ element: { key: h.key, value: h.value } })) },
        });
      }
      await w.close();
    },
  };
}

const PLAIN = process.env.HY_PLAIN === '1' ? { encoding: 'PLAIN' as const } : {};

function hyColumns(records: KafkaRecord[]) {
  const n = records.length;
  const offset = new Array<bigint>(n);
  const timestamp = new Array<bigint>(n);
  const tsType = new Array<number>(n);
  const key = new Array<Uint8Array | null>(n);
  const value = new Array<Uint8Array | null>(n);
  const headers = new Array<Array<{ key: string; value: Uint8Array | null }>>(n);
  for (let i = 0; i < n; i++) {
    const r = records[i] as KafkaRecord;
    offset[i] = r.offset;
    timestamp[i] = r.timestamp;
    tsType[i] = r.timestampType;
    key[i] = r.key;
    value[i] = r.value;
    headers[i] = r.headers;
  }
  return [
    { name: 'offset', data: offset },
    { name: 'timestamp', data: timestamp },
    { name: 'timestamp_type', data: tsType },
    // Binary min/max statistics are truncated to 16 bytes by hyparquet-writer; left on (default).
    { name: 'key', data: key, ...PLAIN },
    { name: 'value', data: value, ...PLAIN, statistics: false },
    { name: 'headers', data: headers, ...PLAIN },
  ];
}

const kvList = (kv: Record<string, string>) =>
  Object.entries(kv).map(([key, value]) => ({ key, value }));

/**
 * A file writer for hyparquet-writer whose flush() (called after each row group) writes the
 * buffered bytes with async fs and lets the event loop run before the next row group is encoded.
 */
async function asyncFileWriter(path: string) {
  const fh = await open(path, 'w');
  const writer: ByteWriter & { flush?: () => Promise<void> } = new ByteWriter();
  let chain: Promise<void> = Promise.resolve();
  const drain = () => {
    if (writer.index === 0) return chain;
    const chunk = new Uint8Array(writer.buffer.slice(0, writer.index));
    writer.index = 0;
    chain = chain.then(async () => {
      await fh.write(chunk);
    });
    return chain;
  };
  writer.flush = () => drain().then(() => new Promise<void>((r) => setImmediate(r)));
  writer.finish = () => undefined;
  return {
    writer,
    async close() {
      await drain();
      await fh.close();
    },
  };
}

function hyparquetVariant(codec: 'SNAPPY' | 'GZIP' | 'ZSTD', mode: 'sync' | 'async'): Variant {
  const compressors =
    codec === 'GZIP'
      ? { GZIP: (b: Uint8Array) => gzipSync(b) }
      : codec === 'ZSTD'
        ? { ZSTD: (b: Uint8Array) => zstdCompressSync(b) }
        : undefined;
  return {
    id: `hyparquet-${codec.toLowerCase()}-${mode}`,
    library: 'hyparquet-writer 0.17.0',
    codec:
      codec === 'GZIP'
        ? 'GZIP (node:zlib gzipSync)'
        : codec === 'ZSTD'
          ? 'ZSTD (node:zlib zstdCompressSync)'
          : 'SNAPPY (built-in JS)',
    mode:
      mode === 'sync'
        ? 'parquetWriteFile (one sync call)'
        : 'ParquetWriter, async flush + yield per row group',
    headers: PRODUCT_HEADERS,
    async write(path, records, ctx) {
      const columnData = hyColumns(records);
      if (mode === 'sync') {
        parquetWriteFile({
          filename: path,
          columnData,
          schema: SEGMENT_SCHEMA,
          codec,
          ...(compressors ? { compressors } : {}),
          rowGroupSize: ctx.rowGroupRows,
          kvMetadata: kvList(ctx.kv),
        });
        return;
      }
      const out = await asyncFileWriter(path);
      const pq = new HyWriter({
        writer: out.writer,
        schema: SEGMENT_SCHEMA,
        codec,
        ...(compressors ? { compressors } : {}),
        kvMetadata: kvList(ctx.kv),
      });
      await pq.write({ columnData, rowGroupSize: ctx.rowGroupRows });
      await pq.finish();
      await out.close();
    },
  };
}

const VARIANTS: Variant[] = [
  parquetjsVariant('GZIP'),
  parquetjsVariant('SNAPPY'),
  productVariant('zstd'),
  productVariant('snappy'),
  hyparquetVariant('SNAPPY', 'sync'),
  hyparquetVariant('SNAPPY', 'async'),
  hyparquetVariant('GZIP', 'async'),
  hyparquetVariant('ZSTD', 'sync'),
  hyparquetVariant('ZSTD', 'async'),
];

// ---- shared facts -----------------------------------------------------------------------------

/** Same row-group sizing rule as SegmentWriter (4 MiB target, multiples of 2048 rows). */
function rowGroupRows(records: KafkaRecord[]): number {
  let bytes = 0;
  for (const r of records) bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0) + 24;
  const avg = records.length > 0 ? bytes / records.length : 1024;
  return Math.max(2048, Math.ceil((4 * MiB) / avg / 2048) * 2048);
}

function footerKv(records: KafkaRecord[], writer: string, codec: string): Record<string, string> {
  const first = records[0] as KafkaRecord;
  const last = records[records.length - 1] as KafkaRecord;
  const h = new ContentHasher();
  for (const r of records) h.update(r);
  const meta: SegmentMeta = {
    formatVersion: FORMAT_VERSION,
    writerVersion: writer,
    topic: 'bench',
    partition: 0,
    firstOffset: first.offset,
    lastOffset: last.offset,
    rangeStart: first.offset,
    rangeEnd: last.offset,
    minTimestamp: first.timestamp,
    maxTimestamp: last.timestamp,
    recordCount: records.length,
    compression: codec === 'SNAPPY' ? 'snappy' : 'none',
    sha256: h.digestHex(),
  };
  return toKv(meta);
}

// ---- child: one timed write -------------------------------------------------------------------

interface ChildResult {
  id: string;
  records: number;
  payloadBytes: number;
  wallMs: number;
  cpuMs: number;
  fileBytes: number;
  loop: LoopStats;
  rowGroupRows: number;
  error?: string;
}

async function runChild(
  id: string,
  records: number,
  valueBytes: number,
  out: string,
): Promise<ChildResult> {
  const variant = VARIANTS.find((v) => v.id === id);
  if (variant === undefined) throw new Error(`unknown writer ${id}`);
  const recs = generateRecords(records, { valueBytes });
  const payload = recs.reduce((n, r) => n + payloadBytes(r), 0);
  const ctx: WriteContext = {
    rowGroupRows: rowGroupRows(recs),
    // Not part of the timing: the product writer hashes inside write(), the others get the
    // same footer metadata precomputed (see RESULTS.md).
    kv: footerKv(recs, variant.library, variant.codec.split(' ')[0] as string),
  };
  // Warm-up (JIT, DuckDB instance start, module loading) on a small separate file.
  const warm = `${out}.warmup.parquet`;
  await variant.write(warm, recs.slice(0, 4096), { ...ctx, rowGroupRows: 2048 });
  await rm(warm, { force: true });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const mon = new LoopMonitor();
  mon.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let error: string | undefined;
  try {
    await variant.write(out, recs, ctx);
  } catch (err) {
    error = (err as Error)?.stack ?? String(err);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // Let both samplers tick once more, so a block that ended the write is counted by both.
  await new Promise((r) => setTimeout(r, 30));
  const loop = mon.stop();
  const fileBytes = error === undefined ? (await stat(out)).size : 0;
  segmentWriter?.close();
  return {
    id,
    records,
    payloadBytes: payload,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    fileBytes,
    loop,
    rowGroupRows: ctx.rowGroupRows,
    ...(error !== undefined ? { error } : {}),
  };
}

function spawnChild(
  id: string,
  records: number,
  valueBytes: number,
  out: string,
): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const args = [
      '--expose-gc',
      '--max-old-space-size=8192',
      '--import',
      import.meta.resolve('tsx'),
      SELF,
      '--child',
      id,
      '--records',
      String(records),
      '--value-bytes',
      String(valueBytes),
      '--out',
      out,
    ];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolvePromise(JSON.parse(line) as ChildResult);
      } catch {
        reject(new Error(`writer ${id} exited ${code}: ${stderr.slice(-2000)}`));
      }
    });
  });
}

// ---- verification -----------------------------------------------------------------------------

interface Verification {
  ok: boolean;
  duckdbCount: number;
  duckdbHeadersType: string;
  duckdbSampleOk: boolean;
  codecs: string;
  rowGroups: number;
  hyparquetShaOk: boolean;
  notes: string[];
}

const blob = (v: unknown): Buffer | null =>
  v === null || v === undefined ? null : Buffer.from((v as DuckDBBlobValue).bytes);

const sameBuf = (a: Buffer | null, b: Buffer | null) =>
  a === null || b === null ? a === b : a.equals(b);

function sameRecord(a: KafkaRecord, b: KafkaRecord): boolean {
  return (
    a.offset === b.offset &&
    a.timestamp === b.timestamp &&
    a.timestampType === b.timestampType &&
    sameBuf(a.key, b.key) &&
    sameBuf(a.value, b.value) &&
    a.headers.length === b.headers.length &&
    a.headers.every(
      (h, i) => h.key === b.headers[i]?.key && sameBuf(h.value, b.headers[i]?.value ?? null),
    )
  );
}

const sql = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function verify(
  path: string,
  expected: KafkaRecord[],
  expectedSha: string,
): Promise<Verification> {
  const notes: string[] = [];
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  let duckdbCount = -1;
  let headersType = '?';
  let sampleOk = false;
  let codecs = '?';
  let rowGroups = -1;
  try {
    const f = sql(path);
    const c = await con.runAndReadAll(`SELECT count(*) FROM read_parquet(${f})`);
    duckdbCount = Number(c.getRows()[0]?.[0]);
    const d = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${f})`);
    headersType = String(d.getRows().find((r) => r[0] === 'headers')?.[1] ?? 'missing');
    const m = await con.runAndReadAll(
      `SELECT string_agg(DISTINCT compression, ','), count(DISTINCT row_group_id) FROM parquet_metadata(${f})`,
    );
    codecs = String(m.getRows()[0]?.[0]);
    rowGroups = Number(m.getRows()[0]?.[1]);
    // 500 offsets spread over the file, plus the first and the last.
    const picks = new Set<number>([0, expected.length - 1]);
    for (let i = 0; i < 500; i++) picks.add(Math.floor((i * 7919 * 104729) % expected.length));
    const list = [...picks].join(',');
    const s = await con.runAndReadAll(
      `SELECT "offset", "timestamp", timestamp_type, "key", "value", headers FROM read_parquet(${f}) WHERE "offset" IN (${list}) ORDER BY "offset"`,
    );
    const rows = s.getRows();
    sampleOk =
      rows.length === picks.size &&
      rows.every((row) => {
        const [offset, ts, tsType, key, value, headers] = row;
        const got: KafkaRecord = {
          offset: BigInt(offset as bigint),
          timestamp: BigInt(ts as bigint),
          timestampType: Number(tsType) === 1 ? 1 : 0,
          key: blob(key),
          value: blob(value),
          headers: (headers === null ? [] : (headers as DuckDBListValue).items).map((h) => {
            const e = (h as DuckDBStructValue).entries;
            return { key: String(e.key), value: blob(e.value) };
          }),
        };
        const want = expected[Number(got.offset)];
        return want !== undefined && sameRecord(got, want);
      });
    if (!sampleOk) notes.push('DuckDB sample rows differ from the generated records');
  } catch (err) {
    notes.push(`DuckDB: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    con.closeSync();
    db.closeSync();
  }

  // Every record through hyparquet (the product's reader library), row group by row group,
  // hashed with the archive's canonical content checksum.
  let shaOk = false;
  try {
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    const h = new ContentHasher();
    let rowStart = 0;
    let n = 0;
    const toBuf = (v: unknown) =>
      v === null || v === undefined ? null : Buffer.from(v as Uint8Array);
    for (const g of metadata.row_groups) {
      const rows = Number(g.num_rows);
      const objs = (await parquetReadObjects({
        file,
        metadata,
        rowStart,
        rowEnd: rowStart + rows,
        utf8: false,
        compressors: readCompressors,
      })) as Array<Record<string, unknown>>;
      for (const o of objs) {
        const hs = (o.headers ?? []) as Array<{ key: unknown; value: unknown }>;
        h.update({
          offset: BigInt(o.offset as bigint),
          timestamp: BigInt(o.timestamp as bigint),
          timestampType: Number(o.timestamp_type) === 1 ? 1 : 0,
          key: toBuf(o.key),
          value: toBuf(o.value),
          headers: hs.map((x) => ({
            key: typeof x.key === 'string' ? x.key : Buffer.from(x.key as Uint8Array).toString(),
            value: toBuf(x.value),
          })),
        });
        n++;
      }
      rowStart += rows;
    }
    shaOk = n === expected.length && h.digestHex() === expectedSha;
    if (!shaOk) notes.push(`hyparquet read ${n} records; content SHA-256 differs`);
  } catch (err) {
    notes.push(`hyparquet: ${(err as Error).message.split('\n')[0]}`);
  }
  return {
    ok: duckdbCount === expected.length && sampleOk && shaOk,
    duckdbCount,
    duckdbHeadersType: headersType,
    duckdbSampleOk: sampleOk,
    codecs,
    rowGroups,
    hyparquetShaOk: shaOk,
    notes,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor((s.length - 1) / 2)] as number);
};

/** The run with the median wall time (its other numbers are reported with it). */
function medianRun(rs: ChildResult[], error: string | undefined): ChildResult {
  if (rs.length === 0) {
    return { error: error ?? 'no run' } as ChildResult;
  }
  const s = [...rs].sort((a, b) => a.wallMs - b.wallMs);
  return s[Math.floor((s.length - 1) / 2)] as ChildResult;
}

const loadNote = () =>
  `(load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')})`;

// ---- main -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), {
    records: '200000',
    'value-bytes': '512',
    writers: VARIANTS.map((v) => v.id).join(','),
    'out-dir': join(tmpdir(), 'kafka-archive-bench-parquet'),
    repeat: '3',
    keep: false,
    json: '',
    child: '',
    out: '',
  });
  const records = intFlag(flags, 'records');
  const valueBytes = intFlag(flags, 'value-bytes');
  if (flags.child !== '') {
    const res = await runChild(String(flags.child), records, valueBytes, String(flags.out));
    process.stdout.write(`${JSON.stringify(res)}\n`);
    process.exit(0);
  }
  const ids = String(flags.writers)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of ids) {
    if (!VARIANTS.some((v) => v.id === id)) throw new Error(`unknown writer ${id}`);
  }
  const outDir = String(flags['out-dir']);
  await mkdir(outDir, { recursive: true });

  console.log(
    `node ${process.version}, ${availableParallelism()} CPUs, ${new Date().toISOString()} ${loadNote()}`,
  );
  console.log(
    `generating ${records.toLocaleString('en-US')} records with ${valueBytes}-byte values for verification...`,
  );
  const expected = generateRecords(records, { valueBytes });
  const h = new ContentHasher();
  for (const r of expected) h.update(r);
  const expectedSha = h.digestHex();

  // Writers take turns (round-robin over the repeats), so a burst of load from elsewhere on the
  // machine does not land on one writer only.
  const repeat = intFlag(flags, 'repeat');
  const runs = new Map<string, ChildResult[]>(ids.map((id) => [id, []]));
  const vers = new Map<string, Verification | null>();
  const errors = new Map<string, string>();
  for (let k = 0; k < repeat; k++) {
    for (const id of ids) {
      if (errors.has(id)) continue;
      const out = join(outDir, `${id}.parquet`);
      await rm(out, { force: true });
      process.stdout.write(`[${k + 1}/${repeat}] ${id}: writing... ${loadNote()} `);
      const res = await spawnChild(id, records, valueBytes, out);
      if (res.error !== undefined) {
        console.log(`FAILED: ${res.error.split('\n')[0]}`);
        errors.set(id, res.error);
        continue;
      }
      (runs.get(id) as ChildResult[]).push(res);
      process.stdout.write(
        `${fmt(res.wallMs / 1000, 2)} s, max block ${fmt(res.loop.maxBlockMs, 0)} ms`,
      );
      if (!vers.has(id)) {
        process.stdout.write('; verifying... ');
        const ver = await verify(out, expected, expectedSha);
        vers.set(id, ver);
        process.stdout.write(ver.ok ? 'ok' : `NOT OK (${ver.notes.join('; ')})`);
      }
      console.log();
      if (!flags.keep) await rm(out, { force: true });
    }
  }
  const results = ids.map((id) => {
    const variant = VARIANTS.find((v) => v.id === id) as Variant;
    const rs = runs.get(id) as ChildResult[];
    const err = errors.get(id);
    return { variant, rs, res: medianRun(rs, err), ver: vers.get(id) ?? null };
  });

  const ok = results.filter((r) => r.res.error === undefined);
  console.log(`(median of ${repeat} runs per writer; max loop block: median / worst run)`);
  const fastest = Math.min(...ok.map((r) => r.res.wallMs));
  const payloadMB = (ok[0]?.res.payloadBytes ?? 0) / MB;
  console.log(
    `\n${records.toLocaleString('en-US')} records, ${valueBytes}-byte values, ${fmt(payloadMB, 1)} MB payload (key + value + headers), row groups of ${ok[0]?.res.rowGroupRows ?? '?'} rows\n`,
  );
  const rows = results.map(({ variant, res, rs, ver }) => {
    if (res.error !== undefined) {
      return [variant.id, variant.codec, 'FAILED', '', '', '', '', '', '', '', '', ''];
    }
    return [
      variant.id,
      variant.codec,
      fmt(res.wallMs / 1000, 2),
      fmt(res.records / (res.wallMs / 1000), 0),
      fmt(res.payloadBytes / MB / (res.wallMs / 1000), 1),
      fmt(res.cpuMs / 1000, 2),
      fmt(res.fileBytes / MB, 1),
      fmt(res.payloadBytes / res.fileBytes, 2),
      fmt(res.loop.peakRssDeltaBytes / MB, 0),
      `${fmt(median(rs.map((x) => x.loop.maxBlockMs)), 0)} / ${fmt(Math.max(...rs.map((x) => x.loop.maxBlockMs)), 0)}`,
      `${fmt(res.wallMs / fastest, 2)}x`,
      ver === null ? '-' : ver.ok ? 'ok' : 'FAIL',
    ];
  });
  console.log(
    table(
      [
        'writer',
        'codec',
        'wall s',
        'records/s',
        'MB/s in',
        'CPU s',
        'file MB',
        'ratio',
        'peak RSS Δ MB',
        'max loop block ms',
        'time vs fastest',
        'verified',
      ],
      rows,
    ),
  );
  console.log('\nmodes and read-back details:');
  for (const { variant, res, rs, ver } of results) {
    console.log(
      `- ${variant.id}: ${variant.library}, ${variant.mode}; wall s per run ${rs.map((x) => fmt(x.wallMs / 1000, 2)).join(', ')}; ` +
        `max block ms per run ${rs.map((x) => fmt(x.loop.maxBlockMs, 0)).join(', ')}; median run: drift max ${fmt(res.loop.maxBlockMs, 0)} ms, ` +
        `monitorEventLoopDelay max ${fmt(res.loop.histMaxMs, 0)} ms / p99 ${fmt(res.loop.histP99Ms, 0)} ms, ` +
        `${res.loop.blocksOver100ms} blocks > 100 ms` +
        (ver
          ? `; read back: DuckDB count ${ver.duckdbCount}, headers ${ver.duckdbHeadersType}, codecs ${ver.codecs}, ${ver.rowGroups} row groups, sample ${ver.duckdbSampleOk ? 'ok' : 'FAIL'}, hyparquet all-record SHA-256 ${ver.hyparquetShaOk ? 'ok' : 'FAIL'}`
          : '') +
        (ver && ver.notes.length > 0 ? ` (${ver.notes.join('; ')})` : '') +
        (res.error ? `; error: ${res.error.split('\n')[0]}` : ''),
    );
  }
  if (flags.json !== '') {
    await writeFile(
      String(flags.json),
      JSON.stringify(
        results.map(({ variant, res, rs, ver }) => ({
          ...res,
          runs: rs,
          library: variant.library,
          codec: variant.codec,
          mode: variant.mode,
          verification: ver,
        })),
        null,
        2,
      ),
    );
  }
  if (!flags.keep) await rm(outDir, { recursive: true, force: true });
  console.log(`\nload average at the end: ${loadNote()}`);
  process.exit(results.every((r) => r.ver?.ok === true) ? 0 : 1);
}

await main();
