// Restore engine logic without Kafka: rate limiter (fake clock), Kafka's murmur2 partitioner,
// offset map (runs, JSON lines with offsets beyond 2^53, reconciliation with committed
// progress, lookups), produce chunking under max.message.bytes, job ids.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkRecords, recordSize, type PendingRecord } from '../../src/restore/batch.js';
import { ContentDigest, type RecordContent } from '../../src/restore/digest.js';
import {
  buildRuns,
  committedRuns,
  formatRun,
  loadRuns,
  OffsetMapWriter,
  parseRun,
  partitionKey,
  RunCursor,
  writeRuns,
} from '../../src/restore/offset-map.js';
import { murmur2, targetPartition } from '../../src/restore/partitioner.js';
import { progressKey } from '../../src/restore/progress.js';
import { RateLimiter } from '../../src/restore/rate-limiter.js';
import { jobId } from '../../src/restore/spec.js';
import type { RestoreRequest } from '../../src/restore/types.js';
import { gapsIn, coveredSpans } from '../../src/restore/plan.js';
import { rowGroupVerdict } from '../../src/restore/window.js';

const dir = mkdtempSync(join(tmpdir(), 'ka-restore-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rate limiter', () => {
  it('paces bytes and records to the configured rates, the first call at once', async () => {
    let now = 0;
    const waits: number[] = [];
    const limiter = new RateLimiter({
      bytesPerSecond: 1000,
      recordsPerSecond: 10,
      now: () => now,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    });
    await limiter.acquire(500, 1); // free; costs 0.5 s (bytes)
    await limiter.acquire(100, 10); // waits 0.5 s; costs 1 s (records)
    await limiter.acquire(2000, 1); // waits 1 s; costs 2 s
    await limiter.acquire(0, 0);
    expect(waits).toEqual([500, 1000, 2000]);
    expect(now).toBe(3500);
    // 2600 bytes in 3.5 s of virtual time: under 1000 B/s once the last reservation drains (5.5 s).
  });

  it('is a no-op without limits; idle time is not banked as a burst', async () => {
    let now = 0;
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      now += ms;
    };
    await new RateLimiter({
      bytesPerSecond: 0,
      recordsPerSecond: 0,
      now: () => now,
      sleep,
    }).acquire(1e9, 1e9);
    const l = new RateLimiter({ bytesPerSecond: 100, recordsPerSecond: 0, now: () => now, sleep });
    await l.acquire(100, 0);
    now += 10_000; // idle for 10 s
    await l.acquire(100, 0);
    await l.acquire(100, 0);
    expect(waits).toEqual([1000]);
  });
});

describe('partitioner', () => {
  it("matches the Java client's murmur2 (org.apache.kafka.common.utils.UtilsTest)", () => {
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [s, h] of cases) expect(murmur2(Buffer.from(s)), s).toBe(h);
  });

  it('by-key: same key, same partition; no key and round-robin spread deterministically', () => {
    const p = targetPartition('by-key', Buffer.from('k'), 3, 10n, 4);
    expect(targetPartition('by-key', Buffer.from('k'), 0, 99n, 4)).toBe(p);
    expect(p).toBe((murmur2(Buffer.from('k')) & 0x7fffffff) % 4);
    expect(
      [0n, 1n, 2n, 3n, 4n].map((o) => targetPartition('round-robin', Buffer.from('k'), 1, o, 4)),
    ).toEqual([1, 2, 3, 0, 1]);
    expect(targetPartition('by-key', null, 1, 2n, 4)).toBe(3);
  });

  it('progress keys: the source partition itself, or lanes when repartitioning onto fewer', () => {
    expect(
      progressKey('j', { topic: 'a', partition: 5 }, { topic: 'b', partitions: 8 }),
    ).toMatchObject({
      groupId: 'kafka-archive-restore.j',
      topic: 'b',
      partition: 5,
    });
    expect(
      progressKey('j', { topic: 'a', partition: 5 }, { topic: 'b', partitions: 2 }),
    ).toMatchObject({
      groupId: 'kafka-archive-restore.j.2',
      topic: 'b',
      partition: 1,
    });
  });
});

describe('offset map', () => {
  const base = { topic: 'a', partition: 0, targetTopic: 'a.restored', txn: 1, next: 20n };

  it('runs: consecutive original and new offsets, split at holes and partition changes', () => {
    const runs = buildRuns(
      [
        { offset: 10n, targetPartition: 0, newOffset: 100n },
        { offset: 11n, targetPartition: 0, newOffset: 101n },
        { offset: 13n, targetPartition: 0, newOffset: 102n }, // 12 filtered out (time range)
        { offset: 14n, targetPartition: 1, newOffset: 7n },
        { offset: 15n, targetPartition: 0, newOffset: 103n }, // not 14's successor in partition 0
      ],
      base,
    );
    expect(runs.map((r) => [r.from, r.to, r.targetPartition, r.newFrom])).toEqual([
      [10n, 11n, 0, 100n],
      [13n, 13n, 0, 102n],
      [14n, 14n, 1, 7n],
      [15n, 15n, 0, 103n],
    ]);
  });

  it('JSON lines keep offsets beyond 2^53 exactly; torn lines are ignored', async () => {
    const big = 2n ** 60n + 7n;
    const r = {
      ...base,
      from: big,
      to: big + 9n,
      targetPartition: 3,
      newFrom: big - 1n,
      next: big + 10n,
    };
    expect(parseRun(formatRun(r))).toEqual(r);
    const path = join(dir, 'map.jsonl');
    const w = await OffsetMapWriter.open(path);
    await w.append([r]);
    await w.close();
    writeFileSync(path, readFileSync(path, 'utf8') + '{"topic":"a","parti');
    expect(await loadRuns(path)).toEqual([r]);
    expect(await loadRuns(join(dir, 'missing.jsonl'))).toEqual([]);
  });

  it('reconciliation keeps the runs of committed transactions only', async () => {
    const runs = [
      { ...base, from: 0n, to: 9n, newFrom: 0n, targetPartition: 0, txn: 1, next: 10n },
      { ...base, from: 10n, to: 19n, newFrom: 11n, targetPartition: 0, txn: 2, next: 20n },
      {
        ...base,
        partition: 1,
        from: 0n,
        to: 4n,
        newFrom: 0n,
        targetPartition: 1,
        txn: 1,
        next: 5n,
      },
    ];
    const { kept, dropped } = committedRuns(
      runs,
      new Map([
        [partitionKey('a', 0), 10n],
        [partitionKey('a', 1), 5n],
      ]),
    );
    expect(kept.map((r) => [r.partition, r.txn])).toEqual([
      [0, 1],
      [1, 1],
    ]);
    expect(dropped).toBe(1);
    const path = join(dir, 'rewritten.jsonl');
    await writeRuns(path, kept);
    expect(await loadRuns(path)).toEqual(kept);
  });

  it('cursors find the run of increasing keys by original or new offset', () => {
    const runs = [
      { ...base, from: 0n, to: 9n, newFrom: 100n, targetPartition: 0 },
      { ...base, from: 20n, to: 29n, newFrom: 111n, targetPartition: 0 },
    ];
    const bySource = new RunCursor(runs, 'source');
    expect([0n, 9n, 10n, 25n, 30n].map((k) => bySource.find(k)?.from ?? null)).toEqual([
      0n,
      0n,
      null,
      20n,
      null,
    ]);
    const byTarget = new RunCursor(runs, 'target');
    expect([100n, 109n, 110n, 111n, 120n, 121n].map((k) => byTarget.find(k)?.from ?? null)).toEqual(
      [0n, 0n, null, 20n, 20n, null],
    );
  });
});

describe('batching and planning helpers', () => {
  const pending = (partition: number, size: number): PendingRecord => ({
    source: { offset: 0n, timestamp: 0n, timestampType: 0, key: null, value: null, headers: [] },
    produce: { partition, key: null, value: Buffer.alloc(size) },
    size,
  });

  it('chunks produce calls per partition under max.message.bytes, in order', () => {
    const chunks = chunkRecords(
      [pending(0, 400), pending(0, 400), pending(1, 10), pending(0, 400)],
      1000,
    );
    expect(chunks.map((c) => [c.partition, c.records.length])).toEqual([
      [0, 2],
      [1, 1],
      [0, 1],
    ]);
    expect(
      recordSize({
        key: Buffer.alloc(3),
        value: null,
        headers: [{ key: 'ab', value: Buffer.alloc(5) }],
      }),
    ).toBe(26 + 3 + 10 + 2 + 5);
  });

  it('gaps and spans; row-group verdicts by statistics', () => {
    const spans = coveredSpans([
      { rangeStart: 0n, rangeEnd: 9n },
      { rangeStart: 5n, rangeEnd: 19n },
      { rangeStart: 30n, rangeEnd: 39n },
    ] as never);
    expect(spans).toEqual([
      { from: 0n, to: 19n },
      { from: 30n, to: 39n },
    ]);
    expect(gapsIn(spans, 0n, 50n)).toEqual([
      { from: 20n, to: 29n },
      { from: 40n, to: 49n },
    ]);
    expect(gapsIn(spans, 5n, 25n)).toEqual([{ from: 20n, to: 24n }]);
    const g = {
      index: 0,
      rowStart: 0,
      rows: 10,
      minOffset: 10n,
      maxOffset: 19n,
      minTimestamp: 100n,
      maxTimestamp: 200n,
      compressedBytes: 1,
      recordBytes: 1,
    };
    const w = { fromOffset: 0n, endOffset: 100n, fromTime: null, toTime: null };
    expect(rowGroupVerdict(g, 0n, w)).toBe('full');
    expect(rowGroupVerdict(g, 20n, w)).toBe('skip');
    expect(rowGroupVerdict(g, 15n, w)).toBe('partial');
    expect(rowGroupVerdict(g, 0n, { ...w, fromTime: 201n })).toBe('skip');
    expect(rowGroupVerdict(g, 0n, { ...w, toTime: 100n })).toBe('skip');
    expect(rowGroupVerdict(g, 0n, { ...w, toTime: 150n })).toBe('partial');
  });

  it('job ids: the same request gives the same id; --job names it', () => {
    const r: RestoreRequest = {
      topic: 'ztf_alerts',
      partitions: [3, 1],
      fromTime: 1n,
      toTime: 2n,
      startOffset: null,
      endOffset: null,
      targetTopic: null,
      topicMap: new Map(),
      repartition: null,
      offsetHeader: false,
      targetBrokers: ['b:9092', 'a:9092'],
      jobName: null,
    };
    const id = jobId(r);
    expect(id).toMatch(/^ztf_alerts-[0-9a-f]{10}$/);
    expect(jobId({ ...r, partitions: [1, 3], targetBrokers: ['a:9092', 'b:9092'] })).toBe(id);
    expect(jobId({ ...r, toTime: 3n })).not.toBe(id);
    expect(jobId({ ...r, jobName: 'replay-1' })).toBe('replay-1');
    expect(() => jobId({ ...r, jobName: '../x' })).toThrow(/--job/);
  });

  it('content digest covers key, value, headers and timestamp, not offsets', () => {
    const a = {
      timestamp: 1n,
      key: null,
      value: Buffer.alloc(0),
      headers: [{ key: 'h', value: null }],
    };
    const d = (x: RecordContent) => new ContentDigest().update(x).digestHex();
    expect(d(a)).toBe(d({ ...a }));
    expect(d(a)).not.toBe(d({ ...a, value: null }));
    expect(d(a)).not.toBe(d({ ...a, key: Buffer.alloc(0) }));
    expect(d(a)).not.toBe(d({ ...a, headers: [{ key: 'h', value: Buffer.alloc(0) }] }));
    expect(d(a)).not.toBe(d({ ...a, timestamp: 2n }));
  });
});

describe('restore configuration', () => {
  it('validates restore.* with messages naming the key, and resolves the defaults', async () => {
    const { loadConfig, restoreStateDir, restoreTargetKafka, redactConfig } =
      await import('../../src/config/index.js');
    const c = loadConfig({ env: { KAFKA_ARCHIVE_CATALOG__DIR: '/srv/ka/catalog' } });
    expect(restoreStateDir(c)).toBe('/srv/ka/restore');
    expect(restoreTargetKafka(c)).toBe(c.kafka);
    expect(restoreTargetKafka(c, ['dr:9092']).brokers).toEqual(['dr:9092']);
    expect(c.restore).toMatchObject({
      compression: 'lz4',
      concurrency: 4,
      batchBytes: 16 * 2 ** 20,
    });
    const t = loadConfig({
      env: {
        KAFKA_ARCHIVE_RESTORE__TARGET__BROKERS: 'dr1:9092,dr2:9092',
        KAFKA_ARCHIVE_RESTORE__TARGET__SASL__MECHANISM: 'plain',
        KAFKA_ARCHIVE_RESTORE__TARGET__SASL__USERNAME: 'u',
        KAFKA_ARCHIVE_RESTORE__TARGET__SASL__PASSWORD: 'secret',
        KAFKA_ARCHIVE_RESTORE__STATE_DIR: '/var/lib/ka-restore',
      },
    });
    expect(restoreTargetKafka(t).brokers).toEqual(['dr1:9092', 'dr2:9092']);
    expect(restoreStateDir(t)).toBe('/var/lib/ka-restore');
    expect(redactConfig(t).restore.target?.sasl?.password).toBe('***');
    expect(() =>
      loadConfig({
        env: {
          KAFKA_ARCHIVE_RESTORE__TARGET__SSL: 'true',
          KAFKA_ARCHIVE_RESTORE__CONCURRENCY: '0',
          KAFKA_ARCHIVE_RESTORE__COMPRESSION: 'brotli',
        },
      }),
    ).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          /restore\.target\.brokers: missing required key[\s\S]*restore\.compression: got "brotli": expected one of: none, gzip, snappy, lz4, zstd[\s\S]*restore\.concurrency: got 0: expected a number of partitions restored at once \(>= 1\)/,
        ),
      }),
    );
  });
});
