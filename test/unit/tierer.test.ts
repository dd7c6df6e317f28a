/**
 * The tierer on an in-memory object store (the same contract as the local and S3 backends) with
 * real segment files on a temp hot directory: upload + verify + evict, store outages, conflicts,
 * a store that corrupts what it keeps (never evicted), and adoption of objects left by a crash.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  adoptObjects,
  Catalog,
  createLogger,
  decodeSegmentIndex,
  segmentIndexKey,
  LocalSegmentIndex,
  loadConfig,
  MemoryObjectStore,
  reconcileHot,
  segmentKey,
  SegmentWriter,
  Tierer,
  type KafkaRecord,
  type PutBody,
  type PutOptions,
  type PutResult,
} from '../../src/index.js';

const log = createLogger({ level: 'silent' });
const writer = new SegmentWriter();
let hotDir: string;
const roots: string[] = [];

afterAll(async () => {
  await writer.close();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

beforeEach(() => {
  const root = mkdtempSync(join(tmpdir(), 'ka-tierer-unit-'));
  roots.push(root);
  hotDir = join(root, 'hot');
});

/** Writes `n` segments of 20 records each for topic t/0 and returns a catalog of them. */
async function seedSegments(n: number): Promise<Catalog> {
  for (let s = 0; s < n; s++) {
    const first = BigInt(s * 20);
    const records: KafkaRecord[] = Array.from({ length: 20 }, (_, i) => ({
      offset: first + BigInt(i),
      timestamp: 1_600_000_000_000n + first + BigInt(i),
      timestampType: 0,
      key: Buffer.from(`k${i}`),
      value: Buffer.alloc(512, s),
      headers: [],
    }));
    const last = first + 19n;
    const path = join(
      hotDir,
      segmentKey({ topic: 't', partition: 0, firstOffset: first, lastOffset: last }),
    );
    mkdirSync(dirname(path), { recursive: true });
    await writer.write(
      path,
      records,
      {
        topic: 't',
        partition: 0,
        firstOffset: first,
        lastOffset: last,
        minTimestamp: records[0]!.timestamp,
        maxTimestamp: records[19]!.timestamp,
        recordCount: 20,
        rangeStart: first,
        rangeEnd: last,
      },
      { compression: 'zstd', rowGroupBytes: 1 << 20 },
    );
  }
  const catalog = Catalog.memory();
  await reconcileHot(catalog, new LocalSegmentIndex(hotDir), log);
  return catalog;
}

function tierer(catalog: Catalog, store: MemoryObjectStore, segmentIndex = true): Tierer {
  const config = { ...loadConfig({ env: {} }).tiering, minAgeMs: 0, evictHot: true, segmentIndex };
  return new Tierer({ catalog, store, hotDir, config, log });
}

const hotFiles = async () => (await new LocalSegmentIndex(hotDir).segments('t', 0)).length;

describe('Tierer (in-memory object store)', () => {
  it('uploads, verifies by reading back, marks cold, then evicts the hot copy', async () => {
    const catalog = await seedSegments(3);
    const files = (await new LocalSegmentIndex(hotDir).segments('t', 0)).map((s) => ({
      key: segmentKey(s),
      bytes: readFileSync(s.path),
    }));
    const store = new MemoryObjectStore();
    const r = await tierer(catalog, store).runOnce();
    expect(r).toMatchObject({ uploaded: 3, evicted: 3, conflicts: [] });
    expect(store.calls.getRange).toBeGreaterThanOrEqual(3); // each object read back
    for (const f of files) expect((await store.get(f.key)).equals(f.bytes)).toBe(true);
    expect(await hotFiles()).toBe(0);
    expect(
      catalog
        .segments('t', 0)
        .all()
        .map((e) => [e.hot, e.cold]),
    ).toEqual([
      [false, true],
      [false, true],
      [false, true],
    ]);
  });

  it("writes the partition's segment index after the round: a rebuild from the bucket reads no footer", async () => {
    const catalog = await seedSegments(3);
    const store = new MemoryObjectStore();
    const t = tierer(catalog, store);
    await t.runOnce();
    const read = async () =>
      decodeSegmentIndex(await store.get(segmentIndexKey('t', 0)), { stream: 't', partition: 0 });
    expect([...(await read()).values()]).toEqual(catalog.segments('t', 0).all());
    expect(t.indexesWritten).toBe(1);
    // A round that uploads nothing writes nothing; one that uploads rewrites the index.
    await t.runOnce();
    expect(t.indexesWritten).toBe(1);
    const more = await seedSegments(4); // the same 3 plus one (seedSegments rewrites them all)
    const next = more.segments('t', 0).all()[3]!;
    await catalog.put(next);
    await t.runOnce();
    expect(t.indexesWritten).toBe(2);
    expect((await read()).size).toBe(4);

    const rebuilt = Catalog.memory();
    store.calls.getRange = 0;
    expect(await adoptObjects(rebuilt, store, join(hotDir, 'none'), log)).toBe(4);
    expect(store.calls.getRange).toBe(0);
    expect([...rebuilt.entries()]).toEqual([...catalog.entries()]);

    // tiering.segmentIndex false writes none.
    const off = await seedSegments(1);
    const plain = new MemoryObjectStore();
    await tierer(off, plain, false).runOnce();
    expect(await plain.head(segmentIndexKey('t', 0))).toBeNull();
  });

  it('the hot-tier check skips a file removed after it was listed (evicted meanwhile): no quarantine, no error', async () => {
    const catalog = await seedSegments(2);
    const [evicted] = catalog.segments('t', 0).all();
    // The tierer evicts between the check's listing and its footer read.
    class EvictingIndex extends LocalSegmentIndex {
      override async segments(topic: string, partition: number) {
        const files = await super.segments(topic, partition);
        rmSync(join(hotDir, segmentKey(evicted!)));
        await catalog.put({ ...evicted!, hot: false, cold: true });
        return files;
      }
    }
    const r = await reconcileHot(catalog, new EvictingIndex(hotDir), log);
    expect(r).toMatchObject({ adopted: 0, quarantined: [] });
    expect(existsSync(join(hotDir, '.quarantine'))).toBe(false);
    expect(catalog.get('t', 0, evicted!.firstOffset, evicted!.lastOffset)).toMatchObject({
      hot: false,
      cold: true,
    });
  });

  it('an unreachable store fails the round and evicts nothing; the next round finishes', async () => {
    const catalog = await seedSegments(2);
    const store = new MemoryObjectStore();
    store.available = false;
    const t = tierer(catalog, store);
    await expect(t.runOnce()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(await hotFiles()).toBe(2);
    expect(
      catalog
        .segments('t', 0)
        .all()
        .every((e) => e.hot && !e.cold),
    ).toBe(true);
    store.available = true;
    expect(await t.runOnce()).toMatchObject({ uploaded: 2, evicted: 2 });
  });

  it('reads each file once: a store that vouches for the bytes needs no HEAD or read-back; one that does not is read back', async () => {
    class VouchingStore extends MemoryObjectStore {
      override async put(key: string, body: PutBody, opts?: PutOptions): Promise<PutResult> {
        return { ...(await super.put(key, body, opts)), verified: true };
      }
    }
    for (const [store, readBack] of [
      [new VouchingStore(), false],
      [new MemoryObjectStore(), true],
    ] as const) {
      const catalog = await seedSegments(2);
      const files = catalog
        .segments('t', 0)
        .all()
        .map((e) => readFileSync(join(hotDir, segmentKey(e))));
      const r = await tierer(catalog, store).runOnce();
      expect(r).toMatchObject({ uploaded: 2, evicted: 2 });
      expect(store.calls.head > 0).toBe(readBack);
      expect(store.calls.getRange > 0).toBe(readBack);
      for (const [i, e] of catalog.segments('t', 0).all().entries()) {
        expect((await store.get(segmentKey(e))).equals(files[i]!)).toBe(true);
      }
    }
  });

  it('never evicts when the read-back differs from the hot file', async () => {
    class LossyStore extends MemoryObjectStore {
      override async put(key: string, body: PutBody, opts?: PutOptions): Promise<PutResult> {
        const res = await super.put(key, body, opts);
        const kept = await this.get(key);
        kept.writeUInt8(kept.readUInt8(kept.length >> 1) ^ 0xff, kept.length >> 1); // one flipped byte at rest
        this.corrupt(key, kept);
        return res;
      }
    }
    const catalog = await seedSegments(1);
    const store = new LossyStore();
    const r = await tierer(catalog, store)
      .runOnce()
      .catch((err: unknown) => err);
    expect(r).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(await hotFiles()).toBe(1);
    expect(catalog.segments('t', 0).all()[0]).toMatchObject({ hot: true, cold: false });
  });

  it('an existing object with other content is a conflict: left alone, hot copy kept', async () => {
    const catalog = await seedSegments(1);
    const store = new MemoryObjectStore();
    const key = segmentKey(catalog.segments('t', 0).all()[0]!);
    await store.put(key, Buffer.from('somebody else wrote this'));
    const r = await tierer(catalog, store).runOnce();
    expect(r.conflicts).toEqual([key]);
    expect(r.evicted).toBe(0);
    expect((await store.get(key)).toString()).toBe('somebody else wrote this');
    expect(existsSync(join(hotDir, key))).toBe(true);
  });

  it('adopts objects uploaded before a crash (verified against the hot copy)', async () => {
    const catalog = await seedSegments(2);
    const store = new MemoryObjectStore();
    for (const s of await new LocalSegmentIndex(hotDir).segments('t', 0)) {
      await store.put(segmentKey(s), readFileSync(s.path));
    }
    const t = tierer(catalog, store);
    expect(await t.adoptObjects()).toBe(2);
    expect(
      catalog
        .segments('t', 0)
        .all()
        .every((e) => e.cold && e.hot),
    ).toBe(true);
    // Nothing left to upload; eviction of the verified copies still happens.
    expect(await t.runOnce()).toMatchObject({ uploaded: 0, evicted: 2 });
  });
});
