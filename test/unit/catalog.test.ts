import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog, PartitionSegments, type CatalogEntry } from '../../src/catalog/index.js';
import { createLogger } from '../../src/log/index.js';

const STORE = new URL('../../src/catalog/store.ts', import.meta.url).pathname;
const BATCH = 500;
/** A writer that commits batches of BATCH segments (one partition each) until it is killed. */
const WRITER = `
const { Catalog } = await import(${JSON.stringify(STORE)});
const c = await Catalog.open(process.env.CATALOG_DIR, { writable: true });
for (let p = 0; ; p++) {
  let last;
  for (let i = 0; i < ${BATCH}; i++) {
    const f = BigInt(i * 10);
    last = c.put({ topic: 't', partition: p, firstOffset: f, lastOffset: f + 9n, rangeStart: f,
      rangeEnd: f + 9n, minTimestamp: f, maxTimestamp: f + 9n, recordCount: 10, bytes: 100,
      sha256: 'ab'.repeat(32), hot: true, cold: false });
  }
  await last;
  process.stdout.write('batch ' + p + '\\n');
}
`;

const entry = (first: number, last: number, over: Partial<CatalogEntry> = {}): CatalogEntry => ({
  topic: 't',
  partition: 0,
  firstOffset: BigInt(first),
  lastOffset: BigInt(last),
  rangeStart: BigInt(first),
  rangeEnd: BigInt(last),
  minTimestamp: BigInt(first * 10),
  maxTimestamp: BigInt(last * 10),
  recordCount: last - first + 1,
  bytes: 100,
  sha256: 'ab'.repeat(32),
  hot: true,
  cold: false,
  ...over,
});

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ka-catalog-'));
  dirs.push(d);
  return join(d, 'catalog');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('PartitionSegments lookups', () => {
  it('finds by offset and by time, with overlaps and timestamps going backwards', () => {
    const p = new PartitionSegments();
    p.upsert(entry(0, 99));
    p.upsert(entry(200, 299, { minTimestamp: 5n, maxTimestamp: 50n })); // old producer clock
    p.upsert(entry(100, 199));
    p.upsert(entry(150, 249)); // overlapping copy from another member
    expect(p.all().map((e) => e.firstOffset)).toEqual([0n, 100n, 150n, 200n]);
    expect(p.findByOffset(0n)?.firstOffset).toBe(0n);
    expect(p.findByOffset(120n)?.firstOffset).toBe(100n);
    expect(p.findByOffset(180n)?.firstOffset).toBe(100n);
    expect(p.findByOffset(260n)?.firstOffset).toBe(200n);
    expect(p.findByOffset(300n)).toBeUndefined();
    expect(p.highWatermark()).toBe(299n);
    expect(new PartitionSegments().highWatermark()).toBeNull();
    expect([...p.from(180n)].map((e) => e.firstOffset)).toEqual([100n, 150n, 200n]);
    // First segment in offset order whose max time reaches T.
    expect(p.findByTime(0n)?.firstOffset).toBe(0n);
    expect(p.findByTime(995n)?.firstOffset).toBe(100n);
    expect(p.findByTime(2000n)?.firstOffset).toBe(150n);
    expect(p.findByTime(2500n)).toBeUndefined(); // the last segment's clock is behind
    expect(p.findByTime(3000n)).toBeUndefined();
    p.upsert(entry(100, 199, { cold: true }));
    expect(p.size).toBe(4);
    expect(p.get(100n, 199n)?.cold).toBe(true);
    p.remove(150n, 249n);
    expect(p.findByOffset(220n)?.firstOffset).toBe(200n);
  });
});

describe('Catalog persistence', () => {
  it('reopens with the same content; readers see committed changes; summary from sums', async () => {
    const dir = tmp();
    const w = await Catalog.open(dir, { writable: true });
    for (let i = 0; i < 50; i++) await w.put(entry(i * 10, i * 10 + 9));
    await w.put(entry(0, 9, { cold: true }));
    await w.remove(entry(10, 19));
    await w.put(entry(0, 99, { partition: 3, hot: false, cold: true }));
    await w.flush();
    const r1 = await Catalog.open(dir, { writable: false });
    expect(r1.size).toBe(50);
    expect(r1.partitions('t')).toEqual([0, 3]);
    expect(r1.get('t', 0, 0n, 9n)?.cold).toBe(true);
    expect(r1.summary()).toEqual({
      segments: 50,
      records: 49 * 10 + 100,
      bytes: 5000,
      hot: 4900,
      cold: 200,
    });
    expect([...r1.hotEntries()].map((e) => [e.partition, e.firstOffset])).toEqual(
      [...r1.entries()].filter((e) => e.hot).map((e) => [e.partition, e.firstOffset]),
    );
    expect([...r1.hotEntries()]).toHaveLength(49);
    await expect(r1.put(entry(5000, 5009))).rejects.toMatchObject({ code: 'INTERNAL' });
    await r1.close();
    await w.compact();
    await w.remove(entry(0, 99, { partition: 3 }));
    await w.put(entry(1000, 1009));
    await w.close();
    const r2 = await Catalog.open(dir, { writable: false });
    expect(r2.size).toBe(50);
    expect(r2.topics()).toEqual(['t']);
    expect(r2.partitions('t')).toEqual([0]);
    const r3 = await Catalog.open(dir, { writable: false });
    expect([...r2.entries()]).toEqual([...r3.entries()]);
    expect(r2.segments('t', 0).findByOffset(1005n)?.firstOffset).toBe(1000n);
    await r2.close();
    await r3.close();
  });

  it('lookups answered by the database equal those of the loaded partition', async () => {
    const dir = tmp();
    const w = await Catalog.open(dir, { writable: true });
    await w.put(entry(0, 99));
    await w.put(entry(200, 299, { minTimestamp: 5n, maxTimestamp: 50n })); // old producer clock
    await w.put(entry(100, 199));
    await w.put(entry(150, 249)); // overlapping copy from another member
    await w.close();
    const r = await Catalog.open(dir, { writable: false });
    const offsets = [0n, 120n, 180n, 220n, 260n, 300n, 5000n];
    const times = [0n, 995n, 2000n, 2500n, 3000n];
    const sql = {
      o: offsets.map((o) => r.findByOffset('t', 0, o)?.firstOffset),
      t: times.map((t) => r.findByTime('t', 0, t)?.firstOffset),
    };
    const segs = r.segments('t', 0); // now cached: answered in memory
    expect(sql.o).toEqual(offsets.map((o) => segs.findByOffset(o)?.firstOffset));
    expect(sql.t).toEqual(times.map((t) => segs.findByTime(t)?.firstOffset));
    expect(sql.o).toEqual([0n, 100n, 100n, 150n, 200n, undefined, undefined]);
    expect(sql.t).toEqual([0n, 100n, 150n, undefined, undefined]);
    expect(r.findByOffset('t', 7, 0n)).toBeUndefined();
    await r.close();
  });

  it('a partition cache smaller than the catalog answers the same as a whole one', async () => {
    const dir = tmp();
    const w = await Catalog.open(dir, { writable: true, cacheEntries: 15 });
    for (let p = 0; p < 6; p++)
      for (let i = 0; i < 10; i++) void w.put(entry(i * 10, i * 10 + 9, { partition: p }));
    await w.flush();
    // Read (cached) partitions, change one after it was evicted and one while cached.
    for (let p = 0; p < 6; p++) expect(w.segments('t', p).size).toBe(10);
    await w.put(entry(0, 9, { partition: 0, cold: true }));
    await w.put(entry(100, 109, { partition: 5 }));
    await w.remove(entry(0, 9, { partition: 4 }));
    expect(w.get('t', 0, 0n, 9n)?.cold).toBe(true);
    expect(w.segments('t', 0).get(0n, 9n)?.cold).toBe(true);
    expect(w.segments('t', 5).size).toBe(11);
    expect(w.segments('t', 4).size).toBe(9);
    expect(w.size).toBe(60);
    await w.close();
  });

  it('migrates a snapshot.jsonl + log.jsonl catalog on the first writable open (one line)', async () => {
    const dir = tmp();
    mkdirSync(dir, { recursive: true });
    const packed = (e: CatalogEntry) =>
      JSON.stringify([
        e.topic,
        e.partition,
        String(e.firstOffset),
        String(e.lastOffset),
        String(e.rangeStart),
        String(e.rangeEnd),
        String(e.minTimestamp),
        String(e.maxTimestamp),
        e.recordCount,
        e.bytes,
        e.sha256,
        (e.hot ? 1 : 0) | (e.cold ? 2 : 0),
      ]);
    const logLine = (json: string) =>
      `${json}\t${createHash('sha1').update(json).digest('hex').slice(0, 8)}\n`;
    writeFileSync(
      join(dir, 'snapshot.jsonl'),
      `${JSON.stringify({ format: 'kafka-archive-catalog', version: 1, seq: 3 })}\n` +
        [0, 1, 2].map((i) => packed(entry(i * 10, i * 10 + 9))).join('\n') +
        '\n',
    );
    writeFileSync(
      join(dir, 'log.jsonl'),
      logLine(`{"s":2,"op":"del","k":["t",0,"0","9"]}`) + // already in the snapshot: skipped
        logLine(`{"s":4,"op":"put","e":${packed(entry(30, 39, { cold: true }))}}`) +
        logLine(`{"s":5,"op":"del","k":["t",0,"10","19"]}`) +
        `{"s":6,"op":"put","e":${packed(entry(40, 49))}}\tdeadbeef\n` + // corrupt: replay ends
        logLine(`{"s":7,"op":"put","e":${packed(entry(50, 59))}}`),
    );
    // A reader before the migration reads the old files.
    const before = await Catalog.open(dir, { writable: false });
    expect([...before.entries()].map((e) => e.firstOffset)).toEqual([0n, 20n, 30n]);
    const lines: string[] = [];
    const log = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    });
    const w = await Catalog.open(dir, { writable: true, log });
    expect([...w.entries()].map((e) => e.firstOffset)).toEqual([0n, 20n, 30n]);
    expect(w.get('t', 0, 30n, 39n)?.cold).toBe(true);
    await w.close();
    expect(lines.filter((l) => l.includes('catalog migrated'))).toHaveLength(1);
    expect(existsSync(join(dir, 'snapshot.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'log.jsonl'))).toBe(false);
    const r = await Catalog.open(dir, { writable: false });
    expect(r.size).toBe(3);
    await r.close();
  });

  it('kill -9 of a writer mid-batch: reopen is consistent, readers open while it writes', async () => {
    const dir = tmp();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', WRITER],
      { env: { ...process.env, CATALOG_DIR: dir }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let batches = 0;
    child.stdout.on('data', (b: Buffer) => {
      batches += b
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('batch')).length;
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Readers while the writer writes: every view holds whole batches only.
    let readerOpens = 0;
    const deadline = Date.now() + 60_000;
    while (batches < 20 || readerOpens < 5) {
      if (Date.now() > deadline) throw new Error(`writer made ${batches} batches`);
      if (batches > 0) {
        const r = await Catalog.open(dir, { writable: false });
        for (const p of r.partitions('t')) expect(r.segments('t', p).size).toBe(BATCH);
        expect(r.summary().segments % BATCH).toBe(0);
        await r.close();
        readerOpens++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    child.kill('SIGKILL');
    await exited;
    // The dead writer's lock is taken over; what was committed is whole, the rest absent.
    const w = await Catalog.open(dir, { writable: true });
    const counts = w.partitions('t').map((p) => w.segments('t', p).size);
    expect(counts.length).toBeGreaterThanOrEqual(20);
    expect(counts.every((n) => n === BATCH)).toBe(true);
    expect(w.summary()).toMatchObject({
      segments: counts.length * BATCH,
      bytes: counts.length * BATCH * 100,
    });
    await w.put(entry(0, 9, { partition: 100_000 }));
    await w.close();
  }, 90_000);

  it('one writer at a time; a dead writer’s lock is taken over', async () => {
    const dir = tmp();
    const w = await Catalog.open(dir, { writable: true });
    await expect(Catalog.open(dir, { writable: true })).rejects.toMatchObject({
      code: 'CATALOG_LOCKED',
    });
    await w.close();
    // Simulate kill -9: a lock naming a process that no longer exists.
    const { writeFileSync } = await import('node:fs');
    const { hostname } = await import('node:os');
    writeFileSync(join(dir, 'writer.lock'), `999999999@${hostname()}`);
    const w2 = await Catalog.open(dir, { writable: true });
    await w2.close();
  });
});
