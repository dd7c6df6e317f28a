import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SEGMENT_BYTES,
  estimateFromLogDirs,
  estimatedIndexBytes,
  indexToLogRatio,
} from '../../src/disk/fleet/estimate.js';
import { KAFKA_INDEX_DEFAULTS } from '../../src/disk/headroom.js';
import type { BrokerLogDirs } from '../../src/kafka/types.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const B = 4096;

function dir(partial: Partial<BrokerLogDirs> & { sizes?: number[] }): BrokerLogDirs {
  return {
    brokerId: partial.brokerId ?? 1,
    logDir: partial.logDir ?? '/var/lib/kafka/data',
    error: partial.error ?? null,
    totalBytes: partial.totalBytes === undefined ? 100 * GiB : partial.totalBytes,
    usableBytes: partial.usableBytes === undefined ? 60 * GiB : partial.usableBytes,
    partitions:
      partial.partitions ??
      (partial.sizes ?? []).map((sizeBytes, i) => ({
        topic: 't',
        partition: i,
        sizeBytes,
        offsetLag: 0,
        isFuture: false,
      })),
  };
}

describe('estimateFromLogDirs', () => {
  it('states the index-to-log ratio: 20 bytes per index.interval.bytes + 1 of log', () => {
    expect(indexToLogRatio()).toBeCloseTo(20 / 4097, 12);
    expect(indexToLogRatio(1023)).toBeCloseTo(20 / 1024, 12);
    // 100 MiB of log: 25,594 entries → 204,752 + 307,140 bytes, each file rounded up to blocks.
    const e = estimatedIndexBytes(100 * MiB, KAFKA_INDEX_DEFAULTS, B);
    expect(e.offsetIndexBytes).toBe(Math.ceil(((Math.floor((100 * MiB) / 4097) + 1) * 8) / B) * B);
    expect(e.timeIndexBytes).toBe(Math.ceil(((Math.floor((100 * MiB) / 4097) + 2) * 12) / B) * B);
  });

  it('uses the volume from DescribeLogDirs v4 and classifies it with the watermarks', () => {
    const [row] = estimateFromLogDirs(
      [dir({ totalBytes: 100 * GiB, usableBytes: 8 * GiB, sizes: [GiB, 2 * GiB] })],
      { sparse: true },
    );
    expect(row).toMatchObject({
      brokerId: 1,
      sizeBytes: 100 * GiB,
      availableBytes: 8 * GiB,
      usedBytes: 92 * GiB,
      state: 'high',
      logBytes: 3 * GiB,
      partitions: 2,
      error: null,
      estimate: true,
      survivesUncleanRestart: true,
      hasBytes: 8 * GiB,
    });
    expect(row?.usedPercent).toBeCloseTo(92, 9);
    const ratio = (row?.indexBytes ?? 0) / (row?.logBytes ?? 1);
    expect(ratio).toBeGreaterThan(indexToLogRatio());
    expect(ratio).toBeLessThan(indexToLogRatio() * 1.01);
  });

  it('counts the active segments preallocated indexes as real blocks without sparse files', () => {
    const sparse = estimateFromLogDirs([dir({ sizes: [10 * MiB] })], { sparse: true })[0];
    const dense = estimateFromLogDirs([dir({ sizes: [10 * MiB] })])[0];
    const full = Math.floor((10 * MiB) / 8) * 8 + Math.floor((10 * MiB) / 12) * 12;
    expect(dense?.indexBytes).toBe(
      roundBlocks(Math.floor((10 * MiB) / 8) * 8) + roundBlocks(Math.floor((10 * MiB) / 12) * 12),
    );
    expect(dense?.indexBytes).toBeGreaterThanOrEqual(full);
    expect(sparse?.indexBytes).toBeLessThan(64 * 1024);
  });

  it('needs the in-flight preallocation of the rolled segment without sparse files', () => {
    // Two segments (1 GiB + 1 MiB): the rolled one is recovered too; its trimmed indexes are
    // reset to segment.index.bytes while it is rebuilt.
    const opts = { segmentBytes: GiB } as const;
    const [one] = estimateFromLogDirs([dir({ sizes: [MiB] })], opts);
    const [two] = estimateFromLogDirs([dir({ sizes: [GiB + MiB] })], opts);
    expect(one?.needsBytes).toBeLessThan(MiB);
    // 2 × 10 MiB preallocated minus the ~5 MiB the rolled segment's indexes already hold.
    expect(two?.needsBytes).toBeGreaterThan(14 * MiB);
    expect(two?.needsBytes).toBeLessThan(16 * MiB);
    const [twoSparse] = estimateFromLogDirs([dir({ sizes: [GiB + MiB] })], {
      ...opts,
      sparse: true,
    });
    expect(twoSparse?.needsBytes).toBeLessThan(MiB);
  });

  it('says no when the usable bytes are below the need', () => {
    const [row] = estimateFromLogDirs([dir({ usableBytes: 8 * B, sizes: [MiB, MiB, MiB] })], {
      sparse: true,
    });
    expect(row?.needsBytes).toBeGreaterThan(8 * B);
    expect(row?.survivesUncleanRestart).toBe(false);
    expect(row?.hasBytes).toBe(8 * B);
  });

  it('has no volume, state or verdict before Kafka 3.3 (no totalBytes/usableBytes)', () => {
    const [row] = estimateFromLogDirs(
      [dir({ totalBytes: null, usableBytes: null, sizes: [MiB] })],
      {
        sparse: true,
      },
    );
    expect(row).toMatchObject({
      sizeBytes: null,
      availableBytes: null,
      usedPercent: null,
      state: 'unknown',
      survivesUncleanRestart: null,
      hasBytes: null,
    });
    expect(row?.needsBytes).toBeGreaterThan(0);
    expect(row?.usedBytes).toBe(MiB + (row?.indexBytes ?? 0));
  });

  it('keeps a log.dir error and gives no numbers for it', () => {
    const [row] = estimateFromLogDirs([
      dir({ error: 'KAFKA_STORAGE_ERROR', totalBytes: null, usableBytes: null, partitions: [] }),
    ]);
    expect(row).toMatchObject({
      error: 'KAFKA_STORAGE_ERROR',
      survivesUncleanRestart: null,
      needsBytes: null,
      state: 'unknown',
      usedBytes: 0,
    });
  });

  it('applies per-topic segment.bytes and index.interval.bytes', () => {
    const partitions = [
      { topic: 'small-seg', partition: 0, sizeBytes: 10 * MiB, offsetLag: 0, isFuture: false },
    ];
    const base = estimateFromLogDirs([dir({ partitions })], { sparse: true })[0];
    const dense = estimateFromLogDirs([dir({ partitions })], {
      sparse: true,
      topics: new Map([['small-seg', { segmentBytes: MiB, indexIntervalBytes: 1023 }]]),
    })[0];
    // 10 segments of 1 MiB, 4× the entries: about 4× the bytes plus block rounding per file.
    expect(dense?.indexBytes).toBeGreaterThan(3.9 * (base?.indexBytes ?? 0));
    expect(DEFAULT_SEGMENT_BYTES).toBe(GiB);
  });

  it('gives one row per broker and log.dir, in the order given', () => {
    const rows = estimateFromLogDirs([
      dir({ brokerId: 2, logDir: '/a' }),
      dir({ brokerId: 2, logDir: '/b' }),
      dir({ brokerId: 3, logDir: '/a' }),
    ]);
    expect(rows.map((r) => `${r.brokerId}${r.logDir}`)).toEqual(['2/a', '2/b', '3/a']);
    expect(rows.every((r) => r.estimate && r.partitions === 0 && r.logBytes === 0)).toBe(true);
  });
});

function roundBlocks(n: number): number {
  return Math.ceil(n / B) * B;
}
