// Catalog benchmark: a synthetic catalog of 1,000,000 segments (10,000 partitions x 100) —
// write rate, snapshot size, open time, time->offset and offset->segment lookup latency
// (p50/p99), RSS; and the rebuild rate from real segment files (footer reads).
//
//   npx tsx bench/catalog.ts [--partitions 10000] [--per-partition 100] [--rebuild-files 2000]
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Catalog,
  createLogger,
  LocalSegmentIndex,
  reconcileHot,
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
  },
});
const PARTITIONS = Number(values.partitions);
const PER = Number(values['per-partition']);
const REBUILD_FILES = Number(values['rebuild-files']);
const LOOKUPS = Number(values.lookups);
const SEG_RECORDS = 10_000n;
const T0 = 1_790_000_000_000n;
const mb = (n: number) => (n / 2 ** 20).toFixed(0);

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

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'ka-bench-catalog-'));
  const dir = join(root, 'catalog');
  const total = PARTITIONS * PER;
  console.log(
    `catalog benchmark: ${total.toLocaleString()} segments (${PARTITIONS} partitions x ${PER}), node ${process.version}`,
  );

  // Write: every segment appended through the log, then one compaction (snapshot).
  let t = performance.now();
  const w = await Catalog.open(dir, { writable: true, compactAfter: Number.POSITIVE_INFINITY });
  for (let i = 0; i < PER; i++) {
    for (let p = 0; p < PARTITIONS; p++) void w.put(entry(p, i));
    await w.flush();
  }
  const writeS = (performance.now() - t) / 1000;
  t = performance.now();
  await w.compact();
  const compactS = (performance.now() - t) / 1000;
  await w.close();
  const snapBytes = (await stat(join(dir, 'snapshot.jsonl'))).size;

  // Open (what every CLI command and the service do at start).
  const rssBefore = process.memoryUsage().rss;
  t = performance.now();
  const c = await Catalog.open(dir, { writable: false });
  const openS = (performance.now() - t) / 1000;
  const rssAfter = process.memoryUsage().rss;
  if (c.size !== total) throw new Error(`expected ${total} entries, got ${c.size}`);

  // Lookups on random partitions.
  const byTime: number[] = [];
  const byOffset: number[] = [];
  for (let k = 0; k < LOOKUPS; k++) {
    const p = Math.floor(Math.random() * PARTITIONS);
    const i = Math.floor(Math.random() * PER);
    const segs = c.segments(`topic-${p % 100}`, Math.floor(p / 100));
    const ts = T0 + BigInt(i) * 60_000n + 30_000n;
    let s = performance.now();
    const e1 = segs.findByTime(ts);
    byTime.push(performance.now() - s);
    const off = BigInt(i) * SEG_RECORDS + 1234n;
    s = performance.now();
    const e2 = segs.findByOffset(off);
    byOffset.push(performance.now() - s);
    if (e1?.firstOffset !== BigInt(i) * SEG_RECORDS || e2?.firstOffset !== e1.firstOffset) {
      throw new Error(`wrong lookup answer for partition ${p} segment ${i}`);
    }
  }
  byTime.sort((a, b) => a - b);
  byOffset.sort((a, b) => a - b);

  // Rebuild rate from real segment files (footer reads), 16 at a time.
  const hot = join(root, 'hot');
  const writer = new SegmentWriter();
  const rec = (o: bigint) => ({
    offset: o,
    timestamp: T0 + o,
    timestampType: 0 as const,
    key: null,
    value: Buffer.from(`value ${o}`),
    headers: [],
  });
  for (let f = 0; f < REBUILD_FILES; f++) {
    const first = BigInt(f) * 10n;
    const records = Array.from({ length: 10 }, (_, k) => rec(first + BigInt(k)));
    const path = join(hot, segmentRelPath('rebuild', f % 8, first, first + 9n));
    await mkdir(join(path, '..'), { recursive: true });
    await writer.write(
      path,
      records,
      {
        topic: 'rebuild',
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
  }
  writer.close();
  const rc = Catalog.memory();
  t = performance.now();
  const r = await reconcileHot(rc, new LocalSegmentIndex(hot), createLogger({ level: 'silent' }));
  const rebuildS = (performance.now() - t) / 1000;

  const rows: Array<[string, string]> = [
    ['segments', total.toLocaleString()],
    ['append rate (log)', `${Math.round(total / writeS).toLocaleString()} segments/s`],
    ['compaction (snapshot write)', `${compactS.toFixed(2)} s, ${mb(snapBytes)} MiB`],
    ['open (snapshot load)', `${openS.toFixed(2)} s`],
    ['RSS added by the open catalog', `${mb(rssAfter - rssBefore)} MiB`],
    [
      'time -> offset p50 / p99',
      `${(pct(byTime, 0.5) * 1000).toFixed(1)} / ${(pct(byTime, 0.99) * 1000).toFixed(1)} µs`,
    ],
    [
      'offset -> segment p50 / p99',
      `${(pct(byOffset, 0.5) * 1000).toFixed(1)} / ${(pct(byOffset, 0.99) * 1000).toFixed(1)} µs`,
    ],
    [
      'rebuild from footers',
      `${Math.round(r.adopted / rebuildS).toLocaleString()} segments/s (${r.adopted} local files, concurrency 16)`,
    ],
  ];
  console.log('\n| measure | result |\n|---|---|');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  await rm(root, { recursive: true, force: true });
}

await main();
