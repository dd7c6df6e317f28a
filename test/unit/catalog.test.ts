import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog, PartitionSegments, type CatalogEntry } from '../../src/catalog/index.js';

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
  it('replays the log, compacts, and reopens with the same content', async () => {
    const dir = tmp();
    const w = await Catalog.open(dir, { writable: true });
    for (let i = 0; i < 50; i++) await w.put(entry(i * 10, i * 10 + 9));
    await w.put(entry(0, 9, { cold: true }));
    await w.remove(entry(10, 19));
    await w.flush();
    const r1 = await Catalog.open(dir, { writable: false });
    expect(r1.size).toBe(49);
    expect(r1.get('t', 0, 0n, 9n)?.cold).toBe(true);
    await w.compact();
    expect(statSync(join(dir, 'log.jsonl')).size).toBe(0);
    await w.put(entry(1000, 1009));
    await w.close();
    const r2 = await Catalog.open(dir, { writable: false });
    expect(r2.size).toBe(50);
    expect([...r2.entries()]).toEqual([
      ...(await Catalog.open(dir, { writable: false })).entries(),
    ]);
  });

  it('a torn or corrupt tail line is dropped, never the rest', async () => {
    const dir = tmp();
    const w = await Catalog.open(dir, { writable: true });
    await w.put(entry(0, 9));
    await w.put(entry(10, 19));
    await w.close();
    const log = join(dir, 'log.jsonl');
    const full = readFileSync(log);
    // Torn write: the last line cut in the middle.
    truncateSync(log, full.length - 20);
    expect((await Catalog.open(dir, { writable: false })).size).toBe(1);
    // A writer opening it cuts the torn tail and appends cleanly after it.
    const w2 = await Catalog.open(dir, { writable: true });
    await w2.put(entry(20, 29));
    await w2.close();
    const r = await Catalog.open(dir, { writable: false });
    expect([...r.entries()].map((e) => e.firstOffset)).toEqual([0n, 20n]);
    // A line with a bad checksum ends replay there.
    appendFileSync(log, '{"s":99,"op":"del","k":["t",0,"0","9"]}\tdeadbeef\n');
    expect((await Catalog.open(dir, { writable: false })).size).toBe(2);
  });

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
