// Catalog benchmark: a synthetic catalog of 1,000,000 segments (10,000 partitions x 100) —
// write rate, database size, open time, time->offset and offset->segment lookup latency
// (p50/p99), RSS; the rebuild rate from real segment files (footer reads, local), and with
// --s3 the rebuild rate from a real S3 server (list + footer reads in parallel).
//
//   npx tsx bench/catalog.ts [--partitions 10000] [--per-partition 100] [--rebuild-files 2000]
//     [--lookups 200000] [--s3] [--s3-only] [--s3-objects 3000] [--s3-concurrency 64]
//     [--s3-list-concurrency 8] [--s3-object-bytes B] [--s3-posix-dir DIR] [--s3-prefix P]
//     [--s3-reuse] [--s3-keep] [--s3-server-pid PID] [--s3-index] [--s3-no-index]
//     [--endpoint http://127.0.0.1:35265] [--bucket kafka-archive-test]
//
// Open and lookups run in a fresh child process (`--read <dir>`), so its RSS is the open
// catalog's and not the writer's leftovers. Lookups (Catalog.findByTime / findByOffset) on
// random partitions are answered by the database when the partition is not cached; whole
// partitions (Catalog.segments) are read from it into the bounded partition cache.
//
// --s3: `adoptObjects` (what `catalog rebuild` runs) into a fresh SQLite catalog from
// --s3-objects segment objects under a fresh prefix (--s3-prefix to name it), 1,000 per
// partition, 10 partitions per topic. Every object is a real segment (one template written by
// SegmentWriter, its footer's topic/partition/offsets patched per object). --s3-concurrency
// footer reads and --s3-list-concurrency partition listings run at once.
//   --s3-only          skip the synthetic catalog and the local rebuild
//   --s3-posix-dir DIR the S3 server is versitygw with its posix backend and DIR is the
//                      bucket's directory (e.g. <s3.sh dir>/data/kafka-archive-test): the
//                      objects are written there as files (sparse: the data part at the start,
//                      the footer at the end) instead of by PutObject, which makes 1,000,000
//                      objects take minutes, not hours
//   --s3-object-bytes  object size (default 32 MiB with --s3-posix-dir, like a real segment;
//                      else the template's few KiB, zero padding in between when larger)
//   --s3-reuse         the objects are already under --s3-prefix (a --s3-keep run): no writes
//   --s3-keep          leave the objects (else they are deleted afterwards)
//   --s3-generate-only write the objects and stop (for later --s3-reuse runs)
//   --s3-server-pid    the S3 server's pid: its CPU seconds during the rebuild are reported
//   --s3-index         write each partition's segment index (`_segments.jsonl`, what the tierer
//                      keeps with tiering.segmentIndex) before the rebuild, by PutObject
//   --s3-no-index      rebuild reading every footer even where an index exists (useIndex false)
// After the rebuild, 200 objects spread over the bucket have their footer read and compared
// with the rebuilt catalog's entry (an index must give exactly what the footer says).
// Reported: segments/s and wall time, CPU seconds of this process and of the server, ranged
// GETs and bytes per object, list calls, peak RSS, load average.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  adoptObjects,
  Catalog,
  createLogger,
  encodeSegmentIndex,
  entryFromMeta,
  objectBuffer,
  openSegment,
  readSegmentMeta,
  segmentIndexKey,
  segmentKey,
  forEachLimit,
  LocalSegmentIndex,
  localFileBuffer,
  reconcileHot,
  S3ObjectStore,
  SegmentWriter,
  segmentRelPath,
  type AdoptProgress,
  type CatalogEntry,
  type ListedObject,
  type ObjectHead,
  type ObjectStore,
  type PutBody,
  type PutOptions,
  type PutResult,
} from '../src/index.js';

const { values } = parseArgs({
  options: {
    partitions: { type: 'string', default: '10000' },
    'per-partition': { type: 'string', default: '100' },
    'rebuild-files': { type: 'string', default: '2000' },
    lookups: { type: 'string', default: '200000' },
    read: { type: 'string' },
    s3: { type: 'boolean', default: false },
    's3-objects': { type: 'string', default: '3000' },
    's3-only': { type: 'boolean', default: false },
    's3-concurrency': { type: 'string', default: '64' },
    's3-list-concurrency': { type: 'string', default: '8' },
    's3-object-bytes': { type: 'string' },
    's3-posix-dir': { type: 'string' },
    's3-prefix': { type: 'string' },
    's3-reuse': { type: 'boolean', default: false },
    's3-keep': { type: 'boolean', default: false },
    's3-generate-only': { type: 'boolean', default: false },
    's3-server-pid': { type: 'string' },
    's3-index': { type: 'boolean', default: false },
    's3-no-index': { type: 'boolean', default: false },
    endpoint: { type: 'string', default: process.env.S3_ENDPOINT ?? 'http://127.0.0.1:35265' },
    bucket: { type: 'string', default: process.env.S3_BUCKET ?? 'kafka-archive-test' },
  },
});
const PARTITIONS = Number(values.partitions);
const PER = Number(values['per-partition']);
const REBUILD_FILES = Number(values['rebuild-files']);
const LOOKUPS = Number(values.lookups);
const SEG_RECORDS = 10_000n;
const T0 = 1_790_000_000_000n;
const mb = (n: number) => (n / 2 ** 20).toFixed(0);
const us = (ms: number) => (ms * 1000).toFixed(1);

function entry(p: number, i: number): CatalogEntry {
  const first = BigInt(i) * SEG_RECORDS;
  return {
    topic: `topic-${p % 100}`,
    partition: Math.floor(p / 100),
    firstOffset: first,
    lastOffset: first + SEG_RECORDS - 1n,
    rangeStart: first,
    rangeEnd: first + SEG_RECORDS - 1n,
    minTimestamp: T0 + BigInt(i) * 60_000n,
    maxTimestamp: T0 + BigInt(i) * 60_000n + 59_999n,
    recordCount: Number(SEG_RECORDS),
    bytes: 4 << 20,
    sha256: 'ab'.repeat(32),
    hot: i >= PER - 5,
    cold: true,
  };
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

interface ReadResult {
  openS: number;
  rssBaseMiB: number;
  rssOpenMiB: number;
  rssLookupsMiB: number;
  heapLookupsMiB: number;
  rssGcMiB: number;
  heapGcMiB: number;
  time: [number, number];
  offset: [number, number];
  load: [number, number];
}

/** Child process: open read-only, then random lookups. */
async function readPhase(dir: string): Promise<void> {
  const rssBase = process.memoryUsage().rss;
  let t = performance.now();
  const c = await Catalog.open(dir, { writable: false });
  const openS = (performance.now() - t) / 1000;
  const rssOpen = process.memoryUsage().rss;
  if (c.size !== PARTITIONS * PER) throw new Error(`expected ${PARTITIONS * PER}, got ${c.size}`);
  const byTime: number[] = [];
  const byOffset: number[] = [];
  const load: number[] = [];
  const rnd = () => {
    const p = Math.floor(Math.random() * PARTITIONS);
    return { p, topic: `topic-${p % 100}`, partition: Math.floor(p / 100) };
  };
  for (let k = 0; k < LOOKUPS; k++) {
    // time -> offset and offset -> segment on random partitions (cached ones are answered in
    // memory, the others by the database without reading the partition).
    const a = rnd();
    const i = Math.floor(Math.random() * PER);
    const ts = T0 + BigInt(i) * 60_000n + 30_000n;
    t = performance.now();
    const e1 = c.findByTime(a.topic, a.partition, ts);
    byTime.push(performance.now() - t);
    const off = BigInt(i) * SEG_RECORDS + 1234n;
    t = performance.now();
    const e2 = c.findByOffset(a.topic, a.partition, off);
    byOffset.push(performance.now() - t);
    if (e1?.firstOffset !== BigInt(i) * SEG_RECORDS || e2?.firstOffset !== e1.firstOffset) {
      throw new Error(`wrong lookup answer for partition ${a.p} segment ${i}`);
    }
    // A whole partition (what offsets/read/restore take), mostly read from the database.
    const b = rnd();
    t = performance.now();
    const segs = c.segments(b.topic, b.partition);
    const e3 = segs.findByOffset(off);
    load.push(performance.now() - t);
    if (segs.size !== PER || e3?.firstOffset !== e1.firstOffset) {
      throw new Error(`wrong partition read for ${b.p}`);
    }
  }
  byTime.sort((a, b) => a - b);
  byOffset.sort((a, b) => a - b);
  load.sort((a, b) => a - b);
  const m = process.memoryUsage();
  // What stays allocated once the lookups' garbage is collected (the bounded partition cache).
  (globalThis as { gc?: () => void }).gc?.();
  const afterGc = process.memoryUsage();
  const r: ReadResult = {
    openS,
    rssBaseMiB: rssBase / 2 ** 20,
    rssOpenMiB: rssOpen / 2 ** 20,
    rssLookupsMiB: m.rss / 2 ** 20,
    heapLookupsMiB: m.heapUsed / 2 ** 20,
    rssGcMiB: afterGc.rss / 2 ** 20,
    heapGcMiB: afterGc.heapUsed / 2 ** 20,
    time: [pct(byTime, 0.5), pct(byTime, 0.99)],
    offset: [pct(byOffset, 0.5), pct(byOffset, 0.99)],
    load: [pct(load, 0.5), pct(load, 0.99)],
  };
  await c.close();
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

async function writeSegments(hot: string, n: number, topic: string): Promise<string[]> {
  const writer = new SegmentWriter();
  const rec = (o: bigint) => ({
    offset: o,
    timestamp: T0 + o,
    timestampType: 0 as const,
    key: null,
    value: Buffer.from(`value ${o}`),
    headers: [],
  });
  const paths: string[] = [];
  for (let f = 0; f < n; f++) {
    const first = BigInt(f) * 10n;
    const records = Array.from({ length: 10 }, (_, k) => rec(first + BigInt(k)));
    const path = join(hot, segmentRelPath(topic, f % 8, first, first + 9n));
    await mkdir(join(path, '..'), { recursive: true });
    await writer.write(
      path,
      records,
      {
        topic,
        partition: f % 8,
        firstOffset: first,
        lastOffset: first + 9n,
        minTimestamp: T0 + first,
        maxTimestamp: T0 + first + 9n,
        recordCount: 10,
        rangeStart: first,
        rangeEnd: first + 9n,
      },
      { compression: 'zstd', rowGroupBytes: 1 << 20 },
    );
    paths.push(path);
  }
  writer.close();
  return paths;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'ka-bench-catalog-'));
  const dir = join(root, 'catalog');
  const total = PARTITIONS * PER;
  console.log(
    `catalog benchmark: ${total.toLocaleString()} segments (${PARTITIONS} partitions x ${PER}), node ${process.version}`,
  );

  // Write: every segment put in key order (as a rebuild lists them), committed 10,000 at a
  // time; then a checkpoint.
  let t = performance.now();
  const w = await Catalog.open(dir, { writable: true });
  let n = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    for (let i = 0; i < PER; i++) void w.put(entry(p, i));
    if ((n += PER) >= 10_000) {
      await w.flush();
      n = 0;
    }
  }
  await w.flush();
  const writeS = (performance.now() - t) / 1000;
  t = performance.now();
  await w.compact();
  const compactS = (performance.now() - t) / 1000;
  await w.close();
  let dbBytes = 0;
  for (const f of await readdir(dir)) dbBytes += (await stat(join(dir, f))).size;

  const out = execFileSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      process.argv[1] as string,
      '--read',
      dir,
      '--partitions',
      String(PARTITIONS),
      '--per-partition',
      String(PER),
      '--lookups',
      String(LOOKUPS),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  const r = JSON.parse(out.trim().split('\n').pop() as string) as ReadResult;

  // Rebuild rate from real segment files (footer reads), 16 at a time.
  const hot = join(root, 'hot');
  await writeSegments(hot, REBUILD_FILES, 'rebuild');
  const rc = Catalog.memory();
  t = performance.now();
  const rr = await reconcileHot(rc, new LocalSegmentIndex(hot), createLogger({ level: 'silent' }));
  const rebuildS = (performance.now() - t) / 1000;

  const rows: Array<[string, string]> = [
    ['segments', total.toLocaleString()],
    [
      'write rate (puts in key order, 10,000 per commit)',
      `${Math.round(total / writeS).toLocaleString()} segments/s`,
    ],
    ['checkpoint; database size', `${compactS.toFixed(2)} s; ${mb(dbBytes)} MiB`],
    ['open (read-only, fresh process)', `${r.openS.toFixed(3)} s`],
    ['RSS added by the open', `${(r.rssOpenMiB - r.rssBaseMiB).toFixed(1)} MiB`],
    [
      `RSS after ${LOOKUPS.toLocaleString()} x (2 lookups + 1 partition) (process total / added)`,
      `${r.rssLookupsMiB.toFixed(0)} / ${(r.rssLookupsMiB - r.rssBaseMiB).toFixed(0)} MiB (heap ${r.heapLookupsMiB.toFixed(0)} MiB)`,
    ],
    [
      'the same after a full GC (process total; heap)',
      `${r.rssGcMiB.toFixed(0)} MiB; heap ${r.heapGcMiB.toFixed(0)} MiB`,
    ],
    ['time -> offset p50 / p99', `${us(r.time[0])} / ${us(r.time[1])} µs`],
    ['offset -> segment p50 / p99', `${us(r.offset[0])} / ${us(r.offset[1])} µs`],
    [
      `whole partition (${PER} segments) p50 / p99, mostly from the database`,
      `${us(r.load[0])} / ${us(r.load[1])} µs`,
    ],
    [
      'rebuild from footers (local)',
      `${Math.round(rr.adopted / rebuildS).toLocaleString()} segments/s (${rr.adopted} local files, concurrency 16)`,
    ],
  ];

  if (values.s3) rows.push(...(await s3Rebuild(root)));

  console.log('\n| measure | result |\n|---|---|');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  await rm(root, { recursive: true, force: true });
}

/** Delegates to the product's store and counts requests and bytes (what one rebuild costs). */
class CountingStore implements ObjectStore {
  readonly n = {
    gets: 0,
    getBytes: 0,
    wholeGets: 0,
    wholeGetBytes: 0,
    lists: 0,
    listed: 0,
    listDirs: 0,
    listedBytes: 0,
  };
  constructor(private readonly inner: ObjectStore) {}
  get description(): string {
    return this.inner.description;
  }
  put(key: string, body: PutBody, opts?: PutOptions): Promise<PutResult> {
    return this.inner.put(key, body, opts);
  }
  async get(key: string): Promise<Buffer> {
    this.n.wholeGets++;
    const b = await this.inner.get(key);
    this.n.wholeGetBytes += b.byteLength;
    return b;
  }
  async getRange(key: string, start: number, endInclusive: number): Promise<Buffer> {
    const b = await this.inner.getRange(key, start, endInclusive);
    this.n.gets++;
    this.n.getBytes += b.byteLength;
    return b;
  }
  head(key: string): Promise<ObjectHead | null> {
    return this.inner.head(key);
  }
  async *list(prefix: string): AsyncIterable<ListedObject> {
    this.n.lists++;
    for await (const o of this.inner.list(prefix)) {
      this.n.listed++;
      this.n.listedBytes += o.size;
      yield o;
    }
  }
  listDirs(prefix: string): AsyncIterable<string> {
    this.n.listDirs++;
    return this.inner.listDirs(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  checkAccess(): Promise<void> {
    return this.inner.checkAccess();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Segments per partition and partitions per topic of the --s3 bucket layout. */
const S3_PER_PARTITION = 1000;
const S3_PARTITIONS_PER_TOPIC = 10;
const S3_FIRST = 1_000_000_000_000n;

/** Object i of the --s3 bucket: 13-digit offsets and 1-digit partitions, so every footer has
 * the same length as the template's. */
function s3Loc(i: number): { topic: string; partition: number; first: bigint; last: bigint } {
  const p = Math.floor(i / S3_PER_PARTITION);
  const first = S3_FIRST + BigInt(i % S3_PER_PARTITION) * 10n;
  return {
    topic: `rb${String(Math.floor(p / S3_PARTITIONS_PER_TOPIC)).padStart(4, '0')}`,
    partition: p % S3_PARTITIONS_PER_TOPIC,
    first,
    last: first + 9n,
  };
}

/** Object i's footer facts that differ between objects (the template's are object 0's). */
function s3Facts(l: ReturnType<typeof s3Loc>) {
  return {
    topic: l.topic,
    partition: l.partition,
    firstOffset: l.first,
    lastOffset: l.last,
    rangeStart: l.first,
    rangeEnd: l.last,
    minTimestamp: T0 + l.first,
    maxTimestamp: T0 + l.last,
  };
}

/**
 * A real segment (10 records, one row group each, so its footer is about as long as a 32 MiB
 * segment's with 8 row groups of 4 MiB) split into its data part and its footer (+ length +
 * magic), and a function patching the footer's key-value metadata for object i (same-length
 * values, so the Thrift lengths do not change).
 */
async function s3Template(
  dir: string,
): Promise<{ head: Buffer; tail: (i: number) => Buffer; footerBytes: number }> {
  const loc = s3Loc(0);
  const path = join(dir, 'template.parquet');
  const writer = new SegmentWriter();
  const records = Array.from({ length: 10 }, (_, k) => ({
    offset: loc.first + BigInt(k),
    timestamp: T0 + loc.first + BigInt(k),
    timestampType: 0 as const,
    key: null,
    value: Buffer.from(`value ${k}`.repeat(20)),
    headers: [],
  }));
  await mkdir(dir, { recursive: true });
  await writer.write(
    path,
    records,
    { ...s3Facts(loc), recordCount: 10 },
    { compression: 'zstd', rowGroupBytes: 64 },
  );
  writer.close();
  const file = readFileSync(path);
  const footerLen = file.readUInt32LE(file.length - 8);
  const split = file.length - 8 - footerLen;
  const head = file.subarray(0, split);
  const tail0 = file.subarray(split);
  const values = (l: ReturnType<typeof s3Loc>): Record<string, string> =>
    Object.fromEntries(Object.entries(s3Facts(l)).map(([k, v]) => [k, String(v)]));
  const v0 = values(loc);
  // Where each value sits: right after its key (Thrift compact: field header, length, bytes).
  const at: Array<[string, number]> = Object.entries(v0).map(([k, v]) => {
    const kb = Buffer.from(`kafka_archive.${k}`);
    const pos = tail0.indexOf(kb);
    const vpos = pos + kb.length + 2;
    if (pos < 0 || tail0.toString('latin1', vpos, vpos + v.length) !== v) {
      throw new Error(`template footer: ${k} not found where expected`);
    }
    return [k, vpos];
  });
  const tail = (i: number): Buffer => {
    const t = Buffer.from(tail0);
    const v = values(s3Loc(i));
    for (const [k, pos] of at) {
      const s = v[k] as string;
      if (s.length !== (v0[k] as string).length)
        throw new Error(`object ${i}: ${k} changes length`);
      t.write(s, pos, 'latin1');
    }
    return t;
  };
  return { head, tail, footerBytes: footerLen + 8 };
}

/** utime + stime of a process in seconds (Linux /proc). */
function procCpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function s3Rebuild(root: string): Promise<Array<[string, string]>> {
  const N = Number(values['s3-objects']);
  const C = Number(values['s3-concurrency']);
  const LC = Number(values['s3-list-concurrency']);
  const posixDir = values['s3-posix-dir'];
  const serverPid = values['s3-server-pid'] === undefined ? null : Number(values['s3-server-pid']);
  const prefix = values['s3-prefix'] ?? `bench-catalog-${Date.now()}`;
  const inner = new S3ObjectStore({
    endpoint: values.endpoint,
    region: 'us-east-1',
    bucket: values.bucket,
    prefix,
    forcePathStyle: true,
    accessKeyId: process.env.S3_ACCESS_KEY ?? 'test-access-key',
    secretAccessKey: process.env.S3_SECRET_KEY ?? 'test-secret-key',
  });
  const store = new CountingStore(inner);
  const log = createLogger({ level: 'silent' });
  const tpl = await s3Template(join(root, 's3-template'));
  const size =
    values['s3-object-bytes'] !== undefined
      ? Number(values['s3-object-bytes'])
      : posixDir !== undefined
        ? 32 * 2 ** 20
        : tpl.head.length + tpl.footerBytes;
  if (size < tpl.head.length + tpl.footerBytes) throw new Error(`--s3-object-bytes too small`);
  let t = performance.now();
  if (!values['s3-reuse']) {
    if (posixDir !== undefined) {
      // Straight into versitygw's posix backend (an object is a file; sparse, so a 32 MiB
      // object takes two blocks): far faster than N PutObjects.
      let dir = '';
      for (let i = 0; i < N; i++) {
        const l = s3Loc(i);
        const path = join(posixDir, prefix, segmentRelPath(l.topic, l.partition, l.first, l.last));
        const d = dirname(path);
        if (d !== dir) mkdirSync((dir = d), { recursive: true });
        const fd = openSync(path, 'w');
        try {
          writeSync(fd, tpl.head, 0, tpl.head.length, 0);
          const tail = tpl.tail(i);
          writeSync(fd, tail, 0, tail.length, size - tail.length);
        } finally {
          closeSync(fd);
        }
        if (i % 100_000 === 99_999) console.error(`generated ${i + 1} objects`);
      }
    } else {
      const pad = Buffer.alloc(size - tpl.head.length - tpl.footerBytes);
      await forEachLimit(
        Array.from({ length: N }, (_, i) => i),
        16,
        async (i) => {
          const l = s3Loc(i);
          const key = segmentRelPath(l.topic, l.partition, l.first, l.last);
          await store.put(key, Buffer.concat([tpl.head, pad, tpl.tail(i)]));
        },
      );
    }
  }
  const genS = (performance.now() - t) / 1000;
  if (values['s3-generate-only']) {
    await inner.close();
    return [[`generated ${N.toLocaleString()} objects under ${prefix}`, `${genS.toFixed(1)} s`]];
  }
  let indexS: number | null = null;
  if (values['s3-index']) {
    // The entries the tierer would have written: the template's footer facts, each object's own.
    const meta = await readSegmentMeta(
      await localFileBuffer(join(root, 's3-template', 'template.parquet')),
    );
    const partitions = Math.ceil(N / S3_PER_PARTITION);
    t = performance.now();
    await forEachLimit(
      Array.from({ length: partitions }, (_, p) => p),
      8,
      async (p) => {
        const entries: CatalogEntry[] = [];
        for (let i = p * S3_PER_PARTITION; i < Math.min(N, (p + 1) * S3_PER_PARTITION); i++) {
          const l = s3Loc(i);
          entries.push({
            ...entryFromMeta(meta, size, { hot: false, cold: true }),
            ...s3Facts(l),
          });
        }
        const e0 = entries[0] as CatalogEntry;
        await inner.put(
          segmentIndexKey(e0.topic, e0.partition),
          encodeSegmentIndex(e0.topic, e0.partition, entries),
        );
      },
    );
    indexS = (performance.now() - t) / 1000;
  }
  const load0 = loadavg()[0] as number;
  const catalog = await Catalog.open(join(root, 's3-catalog'), { writable: true });
  const cpu0 = process.cpuUsage();
  const srv0 = serverPid === null ? 0 : procCpuS(serverPid);
  t = performance.now();
  let lastReport = t;
  // adoptObjects passes one progress object, updated in place: after it returns, the totals.
  let progress: AdoptProgress | null = null;
  const adopted = await adoptObjects(catalog, store, join(root, 'empty-hot'), log, {
    concurrency: C,
    listConcurrency: LC,
    useIndex: !values['s3-no-index'],
    progress: (p) => {
      progress = p;
      if (performance.now() - lastReport < 10_000) return;
      lastReport = performance.now();
      const s = (lastReport - t) / 1000;
      console.error(
        `${s.toFixed(0)} s: listed ${p.listed}, footers read ${p.read}, from indexes ${p.indexed} (${Math.round((p.read + p.indexed) / s)}/s), load ${loadavg()[0]?.toFixed(1)}`,
      );
    },
  });
  const indexed = (progress as AdoptProgress | null)?.indexed ?? 0;
  const s3S = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const srvS = serverPid === null ? null : procCpuS(serverPid) - srv0;
  const load1 = loadavg()[0] as number;
  const segments = catalog.size;
  // What the rebuild catalogued is what the footers say: 200 objects spread over the bucket.
  let checked = 0;
  const step = Math.max(1, Math.floor(N / 200));
  for (let i = 0; i < N; i += step) {
    const l = s3Loc(i);
    const key = segmentKey({
      topic: l.topic,
      partition: l.partition,
      firstOffset: l.first,
      lastOffset: l.last,
    });
    const seg = await openSegment(objectBuffer(inner, key, size));
    const want = entryFromMeta(seg.meta, size, { hot: false, cold: true });
    const got = catalog.get(l.topic, l.partition, l.first, l.last);
    if (
      JSON.stringify(got, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) !==
      JSON.stringify(want, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))
    ) {
      throw new Error(`catalog entry of ${key} differs from its footer`);
    }
    checked++;
  }
  await catalog.close();
  if (adopted !== N || segments !== N) throw new Error(`adopted ${adopted} of ${N}`);
  const rate = adopted / s3S;
  const rows: Array<[string, string]> = [
    [
      `rebuild from the object store (${N.toLocaleString()} objects of ${(store.n.listedBytes / Math.max(1, store.n.listed) / 2 ** 20).toFixed(1)} MiB, ${values.endpoint}, concurrency ${C}, list concurrency ${LC})`,
      `${Math.round(rate).toLocaleString()} segments/s, ${s3S.toFixed(1)} s wall` +
        (N < 1_000_000
          ? `; 1,000,000 extrapolated: ${(1_000_000 / rate / 60).toFixed(1)} min`
          : ''),
    ],
    [
      'CPU: this process (user + system) / the S3 server',
      `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s / ${srvS === null ? '?' : `${srvS.toFixed(1)} s`}`,
    ],
    [
      'catalogued from segment indexes / from footers; entries checked against their footer',
      `${indexed.toLocaleString()} / ${(adopted - indexed).toLocaleString()}; ${checked} of ${checked} equal`,
    ],
    [
      'ranged GETs and bytes per object; list calls (paged) + delimiter lists',
      `${(store.n.gets / N).toFixed(2)}, ${Math.round(store.n.getBytes / N).toLocaleString()} B; ${store.n.lists} + ${store.n.listDirs}`,
    ],
    [
      'whole-object GETs (segment indexes, 404 included) and their bytes',
      `${store.n.wholeGets.toLocaleString()}, ${(store.n.wholeGetBytes / 2 ** 20).toFixed(1)} MiB`,
    ],
    ['peak RSS of this process', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`],
    [
      'load average (1 min) before / after the rebuild',
      `${load0.toFixed(1)} / ${load1.toFixed(1)}`,
    ],
  ];
  if (indexS !== null)
    rows.push([
      `writing the segment indexes (${Math.ceil(N / S3_PER_PARTITION)} PutObjects)`,
      `${indexS.toFixed(1)} s`,
    ]);
  if (!values['s3-reuse'])
    rows.push([
      `generating the objects (${posixDir !== undefined ? 'files in the posix backend' : 'PutObject, 16 at once'})`,
      `${genS.toFixed(1)} s`,
    ]);
  if (!values['s3-keep']) {
    if (posixDir !== undefined) await rm(join(posixDir, prefix), { recursive: true, force: true });
    else {
      const keys: string[] = [];
      for await (const o of inner.list('')) keys.push(o.key);
      await forEachLimit(keys, 16, (k) => inner.delete(k));
    }
  }
  await inner.close();
  return rows;
}

if (values.read !== undefined) await readPhase(values.read);
else if (values['s3-only']) {
  const root = await mkdtemp(join(tmpdir(), 'ka-bench-catalog-'));
  try {
    const rows = await s3Rebuild(root);
    console.log('\n| measure | result |\n|---|---|');
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
} else await main();
