// Catalog benchmark: a synthetic catalog of 1,000,000 segments (10,000 partitions x 100) —
// write rate, database size, open time, time->offset and offset->segment lookup latency
// (p50/p99), RSS; the rebuild rate from real segment files (footer reads, local), and with
// --s3 the rebuild rate from a real S3 server (list + footer reads in parallel).
//
//   npx tsx bench/catalog.ts [--partitions 10000] [--per-partition 100] [--rebuild-files 2000]
//     [--lookups 200000] [--s3] [--s3-objects 3000] [--s3-concurrency 32]
//     [--endpoint http://127.0.0.1:35265] [--bucket kafka-archive-test]
//
// Open and lookups run in a fresh child process (`--read <dir>`), so its RSS is the open
// catalog's and not the writer's leftovers. Lookups (Catalog.findByTime / findByOffset) on
// random partitions are answered by the database when the partition is not cached; whole
// partitions (Catalog.segments) are read from it into the bounded partition cache.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import {
  adoptObjects,
  Catalog,
  createLogger,
  forEachLimit,
  LocalSegmentIndex,
  reconcileHot,
  S3ObjectStore,
  SegmentWriter,
  segmentRelPath,
  type CatalogEntry,
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
    's3-concurrency': { type: 'string', default: '32' },
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

  if (values.s3) {
    const N = Number(values['s3-objects']);
    const C = Number(values['s3-concurrency']);
    const prefix = `bench-catalog-${Date.now()}`;
    const store = new S3ObjectStore({
      endpoint: values.endpoint,
      region: 'us-east-1',
      bucket: values.bucket,
      prefix,
      forcePathStyle: true,
      accessKeyId: process.env.S3_ACCESS_KEY ?? 'test-access-key',
      secretAccessKey: process.env.S3_SECRET_KEY ?? 'test-secret-key',
    });
    const s3hot = join(root, 's3-src');
    const paths = await writeSegments(s3hot, N, 's3rebuild');
    await forEachLimit(paths, 16, async (p) => {
      await store.put(relative(s3hot, p), readFileSync(p));
    });
    const sc = Catalog.memory();
    const emptyHot = join(root, 'empty-hot');
    t = performance.now();
    const adopted = await adoptObjects(sc, store, emptyHot, createLogger({ level: 'silent' }), {
      concurrency: C,
    });
    const s3S = (performance.now() - t) / 1000;
    if (adopted !== N) throw new Error(`adopted ${adopted} of ${N}`);
    const rate = adopted / s3S;
    rows.push([
      'rebuild from the object store (list + footer reads)',
      `${Math.round(rate).toLocaleString()} segments/s (${N} objects, concurrency ${C}, ${values.endpoint}); 1,000,000 extrapolated: ${(1_000_000 / rate / 60).toFixed(1)} min`,
    ]);
    const keys: string[] = [];
    for await (const o of store.list('')) keys.push(o.key);
    await forEachLimit(keys, 16, (k) => store.delete(k));
    await store.close();
  }

  console.log('\n| measure | result |\n|---|---|');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  await rm(root, { recursive: true, force: true });
}

if (values.read !== undefined) await readPhase(values.read);
else await main();
