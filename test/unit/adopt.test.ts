/**
 * adoptObjects (what `catalog rebuild` and the tierer's start-up adoption run) on an in-memory
 * store: partitions found with delimiter listings and listed in parallel, generations included,
 * other keys skipped; one ranged GET per footer; unreadable objects logged and skipped;
 * overlaps reported; an outage thrown; a second run reads nothing again.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  adoptObjects,
  ArchiveError,
  Catalog,
  createLogger,
  decodeSegmentIndex,
  encodeSegmentIndex,
  segmentIndexKey,
  listPartitionDirs,
  MemoryObjectStore,
  segmentKey,
  SegmentWriter,
  type AdoptProgress,
} from '../../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'ka-adopt-unit-'));
const writer = new SegmentWriter();
afterAll(async () => {
  await writer.close();
  rmSync(root, { recursive: true, force: true });
});

/** A real segment of `stream` (a topic, or `<topic>~<n>` for generation n) under its key. */
async function putSegment(
  store: MemoryObjectStore,
  stream: string,
  partition: number,
  first: number,
  last: number,
): Promise<string> {
  const [topic, gen] = stream.split('~') as [string, string | undefined];
  const loc = { topic: stream, partition, firstOffset: BigInt(first), lastOffset: BigInt(last) };
  const key = segmentKey(loc);
  const path = join(root, key);
  mkdirSync(dirname(path), { recursive: true });
  const records = Array.from({ length: last - first + 1 }, (_, i) => ({
    offset: BigInt(first + i),
    timestamp: 1_700_000_000_000n + BigInt(first + i),
    timestampType: 0 as const,
    key: null,
    value: Buffer.from(`v${first + i}`),
    headers: [],
  }));
  await writer.write(
    path,
    records,
    {
      topic,
      ...(gen !== undefined ? { generation: Number(gen) } : {}),
      partition,
      firstOffset: loc.firstOffset,
      lastOffset: loc.lastOffset,
      minTimestamp: records[0]!.timestamp,
      maxTimestamp: records[records.length - 1]!.timestamp,
      recordCount: records.length,
      rangeStart: loc.firstOffset,
      rangeEnd: loc.lastOffset,
    },
    { compression: 'zstd', rowGroupBytes: 1 << 20 },
  );
  await store.put(key, readFileSync(path));
  return key;
}

function capture(): { log: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  });
  return { log, lines };
}

describe('adoptObjects', () => {
  it('adopts every segment of every partition and generation, in parallel, one GET each', async () => {
    const store = new MemoryObjectStore();
    const keys: string[] = [];
    for (let p = 0; p < 3; p++) {
      for (let i = 0; i < 4; i++) keys.push(await putSegment(store, 't', p, i * 10, i * 10 + 9));
    }
    keys.push(await putSegment(store, 't~2', 0, 0, 4));
    keys.push(await putSegment(store, 't~2', 1, 0, 4));
    keys.push(await putSegment(store, 'u', 10, 100, 109));
    // Overlapping objects in u/10 (reported, both adopted).
    keys.push(await putSegment(store, 'u', 10, 105, 119));
    // Not segments: skipped without a GET.
    await store.put('topic=t/_topic.json', Buffer.from('{}'));
    await store.put('topic=t/_generations/0000000002.json', Buffer.from('{}'));
    await store.put('topic=t/generation=2/_topic.json', Buffer.from('{}'));
    await store.put('_groups/group=g/date=2026-01-01/00000000000000000001.jsonl', Buffer.from(''));
    // A segment key whose object is not a segment: logged SEGMENT_CORRUPT and skipped.
    const bad = segmentKey({ topic: 'u', partition: 11, firstOffset: 0n, lastOffset: 9n });
    await store.put(bad, Buffer.from('not parquet at all'));

    expect((await listPartitionDirs(store, 2)).sort()).toEqual([
      'topic=t/generation=2/partition=0/',
      'topic=t/generation=2/partition=1/',
      'topic=t/partition=0/',
      'topic=t/partition=1/',
      'topic=t/partition=2/',
      'topic=u/partition=10/',
      'topic=u/partition=11/',
    ]);

    const catalog = Catalog.memory();
    const { log, lines } = capture();
    const seen: AdoptProgress[] = [];
    store.calls.getRange = 0;
    const adopted = await adoptObjects(catalog, store, join(root, 'no-hot'), log, {
      concurrency: 3,
      listConcurrency: 2,
      progress: (p) => seen.push({ ...p }),
    });
    expect(adopted).toBe(keys.length);
    expect(store.calls.getRange).toBe(keys.length + 1); // small objects: one read each
    expect(catalog.size).toBe(keys.length);
    const entryKey = (e: {
      topic: string;
      partition: number;
      firstOffset: bigint;
      lastOffset: bigint;
    }) =>
      segmentKey({
        topic: e.topic,
        partition: e.partition,
        firstOffset: e.firstOffset,
        lastOffset: e.lastOffset,
      });
    expect([...catalog.entries()].map(entryKey).sort()).toEqual([...keys].sort());
    expect([...catalog.entries()].every((e) => e.cold && !e.hot)).toBe(true);
    expect(catalog.partitions('t~2')).toEqual([0, 1]);
    expect(seen.at(-1)).toMatchObject({ listed: keys.length + 1, read: keys.length + 1 });
    const corrupt = lines.filter((l) => l.code === 'SEGMENT_CORRUPT');
    expect(corrupt.map((l) => l.key)).toEqual([bad]);
    const overlaps = lines.filter((l) => l.code === 'BUCKET_OVERLAP');
    expect(overlaps).toHaveLength(1);
    expect(overlaps[0]).toMatchObject({ partition: 'u/10', overlaps: 1 });

    // Resumable: what the catalog knows as cold is not read again.
    store.calls.getRange = 0;
    expect(await adoptObjects(catalog, store, join(root, 'no-hot'), log)).toBe(0);
    expect(store.calls.getRange).toBe(1); // only the unreadable one, again
  });

  it('a footer longer than the first read costs a second read, then the read grows', async () => {
    const store = new MemoryObjectStore();
    for (let i = 0; i < 4; i++) await putSegment(store, 'f', 0, i * 10, i * 10 + 9);
    const catalog = Catalog.memory();
    const { log } = capture();
    expect(
      await adoptObjects(catalog, store, root, log, { concurrency: 1, footerFetchBytes: 16 }),
    ).toBe(4);
    expect(store.calls.getRange).toBe(5);
  });

  it('an object-store outage is thrown, not logged as a corrupt segment', async () => {
    const store = new MemoryObjectStore();
    for (let i = 0; i < 20; i++) await putSegment(store, 'o', i % 4, i * 10, i * 10 + 9);
    const catalog = Catalog.memory();
    const { log, lines } = capture();
    let reads = 0;
    const err = await adoptObjects(catalog, store, root, log, {
      concurrency: 2,
      listConcurrency: 2,
      progress: () => {
        if (++reads === 5) store.available = false;
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).code).toBe('STORAGE_UNAVAILABLE');
    expect(lines.filter((l) => l.code === 'SEGMENT_CORRUPT')).toEqual([]);
    // Nothing adopted past the outage is lost for good: a second run picks the rest up.
    store.available = true;
    const before = catalog.size;
    expect(await adoptObjects(catalog, store, root, log)).toBe(20 - before);
    expect(catalog.size).toBe(20);
  });

  it("takes what the partition's segment index describes (same key and size) without a footer read; the rest from footers", async () => {
    const store = new MemoryObjectStore();
    const keys: string[] = [];
    for (let i = 0; i < 6; i++) keys.push(await putSegment(store, 'x', 0, i * 10, i * 10 + 9));
    keys.push(await putSegment(store, 'x~2', 3, 0, 9));
    // The footers' view, to compare with.
    const truth = Catalog.memory();
    await adoptObjects(truth, store, join(root, 'no-hot'), capture().log, { useIndex: false });
    const entries = truth.segments('x', 0).all();
    expect(entries).toHaveLength(6);
    // An index written before the last object: it lacks keys[5], has keys[4] with a wrong size
    // (the object was replaced), and names an object that is not in the bucket.
    const ghost = { ...entries[0]!, firstOffset: 1000n, lastOffset: 1009n };
    const stale = [...entries.slice(0, 4), { ...entries[4]!, bytes: entries[4]!.bytes + 1 }, ghost];
    await store.put(segmentIndexKey('x', 0), encodeSegmentIndex('x', 0, stale));
    await store.put(
      segmentIndexKey('x~2', 3),
      encodeSegmentIndex('x~2', 3, truth.segments('x~2', 3).all()),
    );

    const catalog = Catalog.memory();
    const { log, lines } = capture();
    store.calls.getRange = 0;
    store.calls.get = 0;
    const seen: AdoptProgress[] = [];
    expect(
      await adoptObjects(catalog, store, join(root, 'no-hot'), log, {
        progress: (p) => seen.push({ ...p }),
      }),
    ).toBe(7);
    expect(store.calls.get).toBe(2); // one index per partition
    expect(store.calls.getRange).toBe(2); // the footers of keys[4] and keys[5] only
    expect(seen.at(-1)).toMatchObject({ read: 2, indexed: 5 });
    expect([...catalog.entries()]).toEqual([...truth.entries()]);
    expect(lines.filter((l) => (l.level as number) >= 40)).toEqual([]);

    // useIndex false reads every footer.
    const all = Catalog.memory();
    store.calls.getRange = 0;
    await adoptObjects(all, store, join(root, 'no-hot'), log, { useIndex: false });
    expect(store.calls.getRange).toBe(7);
  });

  it('an unusable segment index is logged and the footers read instead', async () => {
    const store = new MemoryObjectStore();
    for (let i = 0; i < 3; i++) await putSegment(store, 'y', 0, i * 10, i * 10 + 9);
    const truth = Catalog.memory();
    await adoptObjects(truth, store, join(root, 'no-hot'), capture().log, { useIndex: false });
    const good = encodeSegmentIndex('y', 0, truth.segments('y', 0).all());
    const bad = [
      Buffer.from('not json\n'),
      encodeSegmentIndex('other', 0, []), // another partition's
      Buffer.from(good.toString().replace('"entries":3', '"entries":4')), // truncated
    ];
    expect(() => decodeSegmentIndex(good, { stream: 'y', partition: 0 }).size).not.toThrow();
    for (const body of bad) {
      await store.put(segmentIndexKey('y', 0), body);
      const catalog = Catalog.memory();
      const { log, lines } = capture();
      store.calls.getRange = 0;
      expect(await adoptObjects(catalog, store, join(root, 'no-hot'), log)).toBe(3);
      expect(store.calls.getRange).toBe(3);
      expect([...catalog.entries()]).toEqual([...truth.entries()]);
      expect(lines.filter((l) => String(l.msg).startsWith('segment index unusable'))).toHaveLength(
        1,
      );
    }
  });
});
