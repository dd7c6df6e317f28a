/**
 * The bucket guarantee (README "Archive format"): the overlap/trim planner, and the tierer on an
 * in-memory object store holding objects another member uploaded (segments written from the same
 * records by a second writer): duplicates dropped, partly covered segments trimmed, different
 * records reported, segments of partitions another member owns deferred.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Catalog,
  createLogger,
  listSegmentObjects,
  LocalObjectStore,
  LocalSegmentIndex,
  loadConfig,
  MemoryObjectStore,
  planUpload,
  reconcileHot,
  segmentKey,
  SegmentWriter,
  Tierer,
  trimPieces,
  type KafkaRecord,
  type ObjectStore,
  type PartitionOwnership,
  type SegmentCompression,
} from '../../src/index.js';

const log = createLogger({ level: 'silent' });
const writer = new SegmentWriter();
const roots: string[] = [];
let hotDir: string;
let peerDir: string;
let root: string;
const tierers: Tierer[] = [];

afterAll(async () => {
  for (const t of tierers) await t.stop();
  await writer.close();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ka-bucket-unit-'));
  roots.push(root);
  hotDir = join(root, 'hot');
  peerDir = join(root, 'peer');
});

const span = (a: number, b: number) => ({ firstOffset: BigInt(a), lastOffset: BigInt(b) });

function record(offset: number, variant = ''): KafkaRecord {
  return {
    offset: BigInt(offset),
    timestamp: 1_600_000_000_000n + BigInt(offset),
    timestampType: 0,
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(`v${offset}${variant}`),
    headers: [{ key: 'h', value: Buffer.from('x') }],
  };
}

/** Writes the segment of offsets [first, last] of t/0 under `dir`; returns its path. */
async function writeSegment(
  dir: string,
  first: number,
  last: number,
  opts: { variant?: string; compression?: SegmentCompression } = {},
): Promise<string> {
  const records = Array.from({ length: last - first + 1 }, (_, i) =>
    record(first + i, opts.variant),
  );
  const loc = { topic: 't', partition: 0, firstOffset: BigInt(first), lastOffset: BigInt(last) };
  const path = join(dir, segmentKey(loc));
  mkdirSync(dirname(path), { recursive: true });
  await writer.write(
    path,
    records,
    {
      ...loc,
      minTimestamp: records[0]!.timestamp,
      maxTimestamp: records[records.length - 1]!.timestamp,
      recordCount: records.length,
      rangeStart: loc.firstOffset,
      rangeEnd: loc.lastOffset,
    },
    { compression: opts.compression ?? 'zstd', rowGroupBytes: 1 << 20 },
  );
  return path;
}

/** Another member's object in the bucket: written in its own hot dir, then uploaded. */
async function peerObject(store: ObjectStore, first: number, last: number, variant = '') {
  const path = await writeSegment(peerDir, first, last, { variant, compression: 'snappy' });
  const key = segmentKey({
    topic: 't',
    partition: 0,
    firstOffset: BigInt(first),
    lastOffset: BigInt(last),
  });
  await store.put(key, readFileSync(path), { ifAbsent: true });
}

async function hotCatalog(): Promise<Catalog> {
  const catalog = Catalog.memory();
  await reconcileHot(catalog, new LocalSegmentIndex(hotDir), log);
  return catalog;
}

function tierer(catalog: Catalog, store: ObjectStore, ownership?: PartitionOwnership) {
  const config = { ...loadConfig({ env: {} }).tiering, minAgeMs: 0, intervalMs: 0 };
  const t = new Tierer({
    catalog,
    store,
    hotDir,
    config,
    log,
    ...(ownership !== undefined ? { ownership } : {}),
  });
  tierers.push(t);
  return t;
}

async function bucketSpans(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const o of listSegmentObjects(store)) out.push(`${o.firstOffset}-${o.lastOffset}`);
  return out;
}

/** Every offset of the bucket exactly once, and no two objects overlap. */
async function expectDisjoint(store: ObjectStore, from: number, to: number) {
  const objs: Array<{ first: bigint; last: bigint }> = [];
  for await (const o of listSegmentObjects(store))
    objs.push({ first: o.firstOffset, last: o.lastOffset });
  objs.sort((a, b) => (a.first < b.first ? -1 : 1));
  let next = BigInt(from);
  for (const o of objs) {
    expect(o.first).toBe(next);
    next = o.last + 1n;
  }
  expect(next).toBe(BigInt(to) + 1n);
}

describe('overlap planner', () => {
  it('plans upload, covered and trim spans', () => {
    expect(planUpload(span(10, 19), [span(0, 9), span(20, 29)])).toEqual({ kind: 'upload' });
    expect(planUpload(span(10, 19), [span(0, 14), span(15, 30)]).kind).toBe('covered');
    expect(planUpload(span(10, 19), [span(10, 19)]).kind).toBe('covered');
    expect(planUpload(span(0, 39), [span(0, 19)])).toMatchObject({
      kind: 'trim',
      keep: [span(20, 39)],
    });
    expect(planUpload(span(0, 39), [span(30, 50)])).toMatchObject({ keep: [span(0, 29)] });
    // A covered middle leaves two pieces; overlapping objects are merged.
    expect(planUpload(span(0, 39), [span(25, 30), span(10, 20), span(15, 22)])).toMatchObject({
      kind: 'trim',
      keep: [span(0, 9), span(23, 24), span(31, 39)],
    });
  });

  it('trims records into pieces, keeping the covered range inside the original', () => {
    const records = [0, 1, 2, 5, 6, 9].map((o) => record(o));
    const pieces = trimPieces(records, { rangeStart: 0n, rangeEnd: 10n }, [
      span(0, 1),
      span(3, 4),
      span(6, 12),
    ]);
    expect(pieces.map((p) => [p.firstOffset, p.lastOffset, p.rangeStart, p.rangeEnd])).toEqual([
      [0n, 1n, 0n, 1n],
      [6n, 9n, 6n, 10n],
    ]);
    expect(pieces[1]!.records.map((r) => r.offset)).toEqual([6n, 9n]);
    expect(pieces[1]!.minTimestamp).toBe(record(6).timestamp);
  });
});

describe('Tierer: one bucket shared by members with separate hot tiers', () => {
  it('a hot segment the bucket already holds (in two objects) is dropped, never uploaded', async () => {
    const store = new MemoryObjectStore();
    await peerObject(store, 0, 19);
    await peerObject(store, 20, 39);
    const path = await writeSegment(hotDir, 10, 29);
    const catalog = await hotCatalog();
    const r = await tierer(catalog, store).runOnce();
    expect(r).toMatchObject({ uploaded: 0, duplicates: 1, conflicts: [] });
    expect(existsSync(path)).toBe(false);
    expect(await bucketSpans(store)).toEqual(['0-19', '20-39']);
    // The catalog now knows the peer's objects instead.
    const segs = catalog.segments('t', 0).all();
    expect(segs.map((e) => [e.firstOffset, e.lastOffset, e.hot, e.cold])).toEqual([
      [0n, 19n, false, true],
      [20n, 39n, false, true],
    ]);
  });

  it('a partly covered hot segment is trimmed to the offsets not in the bucket', async () => {
    const store = new MemoryObjectStore();
    await peerObject(store, 0, 19);
    await peerObject(store, 30, 34);
    const path = await writeSegment(hotDir, 10, 49);
    const catalog = await hotCatalog();
    const r = await tierer(catalog, store).runOnce();
    expect(r).toMatchObject({ uploaded: 2, trimmed: 1, conflicts: [] });
    expect(existsSync(path)).toBe(false);
    expect(await bucketSpans(store)).toEqual(['0-19', '20-29', '30-34', '35-49']);
    await expectDisjoint(store, 0, 49);
    const segs = catalog.segments('t', 0).all();
    expect(segs.every((e) => e.cold)).toBe(true);
    expect(segs.map((e) => `${e.firstOffset}-${e.lastOffset}`)).toEqual([
      '0-19',
      '20-29',
      '30-34',
      '35-49',
    ]);
  });

  it('the local cold tier (storage.type: local) keeps the same guarantee', async () => {
    const store = new LocalObjectStore({ dir: join(root, 'cold') });
    await peerObject(store, 5, 14);
    await writeSegment(hotDir, 0, 29);
    const catalog = await hotCatalog();
    const r = await tierer(catalog, store).runOnce();
    expect(r).toMatchObject({ uploaded: 2, trimmed: 1, conflicts: [] });
    expect(await bucketSpans(store)).toEqual(['0-4', '5-14', '15-29']);
    await expectDisjoint(store, 0, 29);
  });

  it('the same key with other bytes but the same records: the hot copy is dropped', async () => {
    const store = new MemoryObjectStore();
    await peerObject(store, 0, 19); // snappy, the hot copy zstd
    const path = await writeSegment(hotDir, 0, 19);
    const catalog = await hotCatalog();
    const r = await tierer(catalog, store).runOnce();
    expect(r).toMatchObject({ uploaded: 0, duplicates: 1, conflicts: [] });
    expect(existsSync(path)).toBe(false);
    expect(
      catalog
        .segments('t', 0)
        .all()
        .map((e) => [e.hot, e.cold]),
    ).toEqual([[false, true]]);
  });

  it('different records in the overlap: reported, nothing dropped, uploaded or deleted', async () => {
    const store = new MemoryObjectStore();
    await peerObject(store, 0, 19, '-other');
    const path = await writeSegment(hotDir, 10, 29);
    const catalog = await hotCatalog();
    const r = await tierer(catalog, store).runOnce();
    expect(r.conflicts).toHaveLength(1);
    expect(r.uploaded + r.duplicates + r.trimmed).toBe(0);
    expect(existsSync(path)).toBe(true);
    expect(await bucketSpans(store)).toEqual(['0-19']);
  });

  it('a partition another member owns: deferred until committed past it (two intervals later)', async () => {
    const store = new MemoryObjectStore();
    await writeSegment(hotDir, 0, 19);
    const catalog = await hotCatalog();
    let committed: bigint | null = null;
    const t = tierer(catalog, store, { owns: () => false, committed: async () => committed });
    expect(await t.runOnce()).toMatchObject({ uploaded: 0, deferred: 1 });
    committed = 20n;
    expect(await t.runOnce()).toMatchObject({ uploaded: 0, deferred: 1 }); // first seen committed
    expect(await t.runOnce()).toMatchObject({ uploaded: 1, deferred: 0 }); // intervalMs 0
    expect(await bucketSpans(store)).toEqual(['0-19']);
  });

  it('a non-owner trims a committed segment the bucket holds in part, in one round', async () => {
    const store = new MemoryObjectStore();
    await peerObject(store, 0, 19);
    const path = await writeSegment(hotDir, 0, 39);
    const catalog = await hotCatalog();
    const t = tierer(catalog, store, { owns: () => false, committed: async () => 40n });
    expect(await t.runOnce()).toMatchObject({ deferred: 1, uploaded: 0 });
    expect(await t.runOnce()).toMatchObject({ trimmed: 1, uploaded: 1, deferred: 0 });
    expect(existsSync(path)).toBe(false);
    expect(await bucketSpans(store)).toEqual(['0-19', '20-39']);
  });

  it('overlaps already in the bucket are reported at start (BUCKET_OVERLAP), nothing deleted', async () => {
    const store = new MemoryObjectStore();
    await peerObject(store, 0, 19);
    await peerObject(store, 10, 29);
    await peerObject(store, 30, 39);
    const lines: Array<Record<string, unknown>> = [];
    const capture = createLogger({
      level: 'error',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    });
    const catalog = Catalog.memory();
    const config = { ...loadConfig({ env: {} }).tiering, minAgeMs: 0 };
    const t = new Tierer({ catalog, store, hotDir, config, log: capture });
    expect(await t.adoptObjects()).toBe(3);
    const overlaps = lines.filter((l) => l.code === 'BUCKET_OVERLAP');
    expect(overlaps).toHaveLength(1);
    expect(overlaps[0]).toMatchObject({ partition: 't/0', overlaps: 1 });
    expect(await bucketSpans(store)).toEqual(['0-19', '10-29', '30-39']);
  });

  it('a non-owner drops its stray segment once the owner has uploaded those offsets', async () => {
    const store = new MemoryObjectStore();
    const path = await writeSegment(hotDir, 0, 19);
    const catalog = await hotCatalog();
    const t = tierer(catalog, store, { owns: () => false, committed: async () => null });
    expect(await t.runOnce()).toMatchObject({ deferred: 1 });
    await peerObject(store, 0, 9);
    expect(await t.runOnce()).toMatchObject({ deferred: 1, trimmed: 0 }); // not the owner: no trim
    await peerObject(store, 10, 25);
    expect(await t.runOnce()).toMatchObject({ duplicates: 1, deferred: 0 });
    expect(existsSync(path)).toBe(false);
    await expectDisjoint(store, 0, 25);
  });
});
