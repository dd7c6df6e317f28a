import { describe, expect, it } from 'vitest';
import {
  decideGeneration,
  listGenerations,
  parseSegmentKey,
  parseStream,
  recordGeneration,
  segmentKey,
  streamName,
  topicRelDir,
  type GenerationRecord,
} from '../../src/archive/index.js';
import { fromKv, toKv, type SegmentMeta } from '../../src/segment/meta.js';
import { MemoryObjectStore } from '../../src/storage/memory.js';

const rec = (generation: number, topicId: string | null): GenerationRecord => ({
  topic: 'orders',
  generation,
  topicId,
  previousTopicId: null,
  detectedAt: '2026-12-01T00:00:00.000Z',
  reason: generation === 1 ? 'first' : 'topic-id',
});
const facts = (topicId: string | null, logsEndBelowArchive = false) => ({
  topicId,
  logsEndBelowArchive,
  now: Date.parse('2026-12-01T12:00:00Z'),
});

describe('topic generations', () => {
  it('streams: generation 1 is the topic itself, later ones <topic>~<n>; layout and keys follow', () => {
    expect(streamName('orders', 1)).toBe('orders');
    expect(streamName('orders', 2)).toBe('orders~2');
    expect(parseStream('orders~12')).toEqual({ topic: 'orders', generation: 12 });
    expect(parseStream('orders')).toEqual({ topic: 'orders', generation: 1 });
    expect(parseStream('orders~1')).toBeNull(); // generation 1 is spelled without a suffix
    expect(parseStream('orders~0')).toBeNull();
    expect(parseStream('bad topic')).toBeNull();
    expect(topicRelDir('orders~3')).toBe('topic=orders/generation=3');
    const loc = { topic: 'orders~2', partition: 4, firstOffset: 0n, lastOffset: 9n };
    const key = segmentKey(loc);
    expect(key).toBe(
      'topic=orders/generation=2/partition=4/00000000000000000000-00000000000000000009.parquet',
    );
    expect(parseSegmentKey(key)).toEqual(loc);
    expect(parseSegmentKey(key.replace('generation=2', 'generation=1'))).toBeNull();
    expect(parseSegmentKey('topic=orders/_generations/0000000002.json')).toBeNull();
  });

  it('footers carry the generation only from 2 on, and read it back', () => {
    const meta: SegmentMeta = {
      formatVersion: 1,
      writerVersion: 'test',
      topic: 'orders',
      generation: 2,
      partition: 0,
      firstOffset: 0n,
      lastOffset: 1n,
      rangeStart: 0n,
      rangeEnd: 1n,
      minTimestamp: 1n,
      maxTimestamp: 2n,
      recordCount: 2,
      compression: 'zstd',
      sha256: 'a'.repeat(64),
    };
    expect(fromKv(toKv(meta))).toEqual(meta);
    const { generation: _g, ...first } = meta;
    expect(toKv({ ...first, generation: 1 })['kafka_archive.generation']).toBeUndefined();
    expect(fromKv(toKv(first)).generation).toBeUndefined();
    expect(() => fromKv({ ...toKv(meta), 'kafka_archive.generation': '0' })).toThrow(/generation/);
  });

  it('decides: first, same topic id, a new topic id, no topic id with logs below the archive', () => {
    expect(decideGeneration('orders', [], facts('A'))).toMatchObject({
      kind: 'new',
      record: { generation: 1, topicId: 'A', reason: 'first' },
    });
    const two = [rec(1, 'A'), rec(2, 'B')];
    expect(decideGeneration('orders', two, facts('A'))).toMatchObject({
      kind: 'existing',
      record: { generation: 1 },
    });
    expect(decideGeneration('orders', two, facts('B'))).toMatchObject({
      kind: 'existing',
      record: { generation: 2 },
    });
    expect(decideGeneration('orders', two, facts('C'))).toMatchObject({
      kind: 'new',
      record: { generation: 3, topicId: 'C', previousTopicId: 'B', reason: 'topic-id' },
    });
    // Without a topic id (kafkajs), or against a generation recorded without one: the newest,
    // unless the partition logs end below what it archived.
    expect(decideGeneration('orders', two, facts(null))).toMatchObject({
      kind: 'existing',
      record: { generation: 2 },
    });
    expect(decideGeneration('orders', two, facts(null, true))).toMatchObject({
      kind: 'new',
      record: { generation: 3, topicId: null, previousTopicId: 'B', reason: 'offsets' },
    });
    expect(decideGeneration('orders', [rec(1, null)], facts('A'))).toMatchObject({
      kind: 'existing',
      record: { generation: 1 },
    });
    expect(decideGeneration('orders', [rec(1, null)], facts('A', true))).toMatchObject({
      kind: 'new',
      record: { generation: 2, topicId: 'A', reason: 'offsets' },
    });
  });

  it('records are put-if-absent: the second writer of a number gets the first one back', async () => {
    const store = new MemoryObjectStore();
    const mine = await recordGeneration(store, rec(1, 'A'));
    expect(mine.written).toBe(true);
    const theirs = await recordGeneration(store, rec(1, 'Z'));
    expect(theirs).toEqual({ written: false, record: rec(1, 'A') });
    await recordGeneration(store, rec(2, 'B'));
    expect((await listGenerations(store, 'orders')).map((r) => r.topicId)).toEqual(['A', 'B']);
    expect(await listGenerations(store, 'other')).toEqual([]);
    await store.put('topic=orders/_generations/0000000003.json', Buffer.from('{"topic":"x"}'));
    await expect(listGenerations(store, 'orders')).rejects.toMatchObject({
      code: 'GENERATION_RECORD_INVALID',
    });
  });
});
