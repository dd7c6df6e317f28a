import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  daysToPercent,
  daysUntil,
  DEFAULT_WATERMARKS,
  DiskHistory,
  forecastVolume,
  leastSquares,
  makeHistorySample,
  parseHistory,
  partitionGrowth,
  type HistorySample,
  type LogDirScan,
  type VolumeSample,
} from '../../src/disk/index.js';

const DAY = 86_400_000;
const GiB = 2 ** 30;
const T0 = Date.parse('2026-11-01T00:00:00Z');

function volume(
  over: { fsUsed?: number; fsAvailable?: number; allocated?: number; budget?: number } = {},
): VolumeSample {
  const fsUsed = over.fsUsed ?? 50 * GiB;
  const fsAvailable = over.fsAvailable ?? 50 * GiB;
  const allocated = over.allocated ?? 10 * GiB;
  const budget = over.budget ?? 100 * GiB;
  const fsPct = (fsUsed / (fsUsed + fsAvailable)) * 100;
  const budgetPct = (allocated / budget) * 100;
  return {
    name: 'kafka-1',
    kind: 'kafka-log-dir',
    path: '/data/kafka',
    exists: true,
    filesystem: {
      path: '/data/kafka',
      type: 'xfs',
      sizeBytes: fsUsed + fsAvailable,
      freeBytes: fsAvailable,
      availableBytes: fsAvailable,
      usedBytes: fsUsed,
      usedPercent: fsPct,
    },
    usage: {
      files: 1,
      directories: 1,
      apparentBytes: allocated,
      allocatedBytes: allocated,
      unreadable: 0,
    },
    budget: { bytes: budget },
    budgetBytes: budget,
    budgetUsedPercent: budgetPct,
    usedPercent: Math.max(fsPct, budgetPct),
    watermarks: { ...DEFAULT_WATERMARKS },
    state: 'ok',
    reserve: {
      dir: '/data/kafka',
      count: 0,
      sizeBytes: 0,
      armed: 0,
      armedBytes: 0,
      files: [],
      extra: [],
      partial: [],
    },
    floodAvailableBytes: 0,
  };
}

const kinds = (bytes: number) => ({ files: 1, apparentBytes: bytes, allocatedBytes: bytes });

function scan(
  parts: Array<{ topic: string; partition: number; log: number; index: number }>,
): LogDirScan {
  return {
    path: '/data/kafka',
    filesystemType: 'xfs',
    cleanShutdownMarker: false,
    brokerPid: 1,
    lastShutdown: 'running',
    meta: null,
    checkpoints: [],
    unknownDirectories: [],
    sparseIndexesObserved: true,
    sparseProbe: null,
    totals: {
      partitions: parts.length,
      segments: parts.length,
      log: kinds(0),
      index: kinds(0),
      timeindex: kinds(0),
      txnindex: kinds(0),
      other: kinds(0),
      apparentBytes: 0,
      allocatedBytes: 0,
    },
    partitions: parts.map((p) => ({
      logDir: '/data/kafka',
      dir: `/data/kafka/${p.topic}-${p.partition}`,
      topic: p.topic,
      partition: p.partition,
      state: 'live',
      segments: 1,
      log: kinds(p.log),
      index: kinds(p.index),
      timeindex: kinds(0),
      txnindex: kinds(0),
      other: kinds(0),
      apparentBytes: p.log + p.index,
      allocatedBytes: p.log + p.index,
      firstBaseOffset: 0n,
      activeBaseOffset: 0n,
      oldestSegmentMtime: null,
      newestSegmentMtime: null,
      recoveryPoint: null,
      logStartOffset: null,
      highWatermark: null,
      cleanerOffset: null,
      segmentsPastRecoveryPoint: null,
    })),
  };
}

/** Daily samples where the volume and partition a-0 grow linearly. */
function dailySamples(days: number, perDay: number): HistorySample[] {
  return Array.from({ length: days }, (_, d) =>
    makeHistorySample(
      [
        volume({
          fsUsed: 50 * GiB + d * perDay,
          fsAvailable: 50 * GiB - d * perDay,
          allocated: 10 * GiB + d * perDay,
        }),
      ],
      [
        scan([
          { topic: 'a', partition: 0, log: d * perDay, index: d * 1000 },
          { topic: 'b.c-d', partition: 12, log: 5, index: 0 },
        ]),
      ],
      new Date(T0 + d * DAY),
    ),
  );
}

describe('least squares', () => {
  it('recovers the slope of a line exactly, even at epoch-millisecond times', () => {
    const fit = leastSquares([0, 1, 2, 3].map((d) => [T0 + d * DAY, 100 + 7 * d] as const));
    expect(fit).not.toBeNull();
    expect(fit!.slope * DAY).toBeCloseTo(7, 9);
    expect(fit!.n).toBe(4);
    expect(fit!.spanMs).toBe(3 * DAY);
  });

  it('averages noise out', () => {
    const fit = leastSquares([
      [0, 0],
      [1, 3],
      [2, 2],
      [3, 5],
    ]);
    expect(fit!.slope).toBeCloseTo(1.4, 12);
    expect(fit!.intercept).toBeCloseTo(0.4, 12);
  });

  it('needs two points at different times', () => {
    expect(leastSquares([])).toBeNull();
    expect(leastSquares([[T0, 1]])).toBeNull();
    expect(
      leastSquares([
        [T0, 1],
        [T0, 2],
      ]),
    ).toBeNull();
  });
});

describe('days until a watermark', () => {
  it('divides what is left by the rate; 0 when already there; null when not growing', () => {
    expect(daysUntil(100, 10)).toBe(10);
    expect(daysUntil(0, 10)).toBe(0);
    expect(daysUntil(-5, null)).toBe(0);
    expect(daysUntil(100, 0)).toBeNull();
    expect(daysUntil(100, -3)).toBeNull();
    expect(daysUntil(100, null)).toBeNull();
  });

  it('takes the worse of the filesystem and the budget', () => {
    // fs: 50 of 100 GiB used, high at 90 GiB: 40 GiB to go at 1 GiB/day → 40 days.
    // budget: 10 of 20 GiB, high at 18 GiB: 8 GiB to go at 1 GiB/day → 8 days.
    const v = volume({ budget: 20 * GiB });
    expect(daysToPercent(v, 90, GiB, GiB)).toBeCloseTo(8, 9);
    expect(daysToPercent(v, 90, GiB, null)).toBeCloseTo(40, 9);
    expect(daysToPercent(volume(), 90, null, null)).toBeNull();
  });
});

describe('volume forecast', () => {
  it('fits the window and projects to the high and flood watermarks', () => {
    const samples = dailySamples(8, GiB);
    const now = new Date(T0 + 7 * DAY);
    // The current sample equals the last one: 57 GiB used, 43 GiB available.
    const current = volume({ fsUsed: 57 * GiB, fsAvailable: 43 * GiB, allocated: 17 * GiB });
    const f = forecastVolume(samples, current, { windowMs: 7 * DAY, now });
    expect(f.series).toHaveLength(8);
    expect(f.allocatedBytesPerDay).toBeCloseTo(GiB, 0);
    expect(f.fsUsedBytesPerDay).toBeCloseTo(GiB, 0);
    expect(f.daysToHigh).toBeCloseTo(33, 6); // 90 - 57 GiB at 1 GiB/day
    expect(f.daysToFlood).toBeCloseTo(38, 6);
    expect(f.projection[0]![0]).toBe(0);
    expect(f.projection[0]![1]).toBeCloseTo(57, 9);
    const [d, p] = f.projection[24]!;
    expect(d).toBe(7);
    expect(p).toBeCloseTo(64, 6);
  });

  it('a shorter window uses only the recent samples', () => {
    const samples = dailySamples(10, GiB);
    const f = forecastVolume(samples, volume(), { windowMs: 2 * DAY, now: new Date(T0 + 9 * DAY) });
    expect(f.series.map((p) => p.t)).toEqual([T0 + 7 * DAY, T0 + 8 * DAY, T0 + 9 * DAY]);
  });

  it('with one sample: no rate, no days', () => {
    const f = forecastVolume([], volume(), { windowMs: DAY, now: new Date(T0) });
    expect(f.series).toHaveLength(1);
    expect(f.allocatedBytesPerDay).toBeNull();
    expect(f.daysToHigh).toBeNull();
    expect(f.projection.every(([, p]) => p === 50)).toBe(true);
  });

  it('ignores samples of another path under the same name', () => {
    const samples = dailySamples(3, GiB);
    const moved = { ...volume(), path: '/elsewhere' };
    const f = forecastVolume(samples, moved, { windowMs: 7 * DAY, now: new Date(T0 + 3 * DAY) });
    expect(f.series).toHaveLength(1);
  });
});

describe('partition growth', () => {
  it('ranks partitions by growth and keeps topic names with dashes', () => {
    const g = partitionGrowth(dailySamples(5, 2 * GiB), {
      windowMs: 30 * DAY,
      now: new Date(T0 + 5 * DAY),
    });
    expect(g.map((p) => `${p.topic}/${p.partition}`)).toEqual(['a/0', 'b.c-d/12']);
    expect(g[0]!.bytesPerDay).toBeCloseTo(2 * GiB + 1000, 0);
    expect(g[0]!.indexBytesPerDay).toBeCloseTo(1000, 6);
    expect(g[0]!.logBytes).toBe(4 * 2 * GiB);
    expect(g[0]!.samples).toBe(5);
    expect(g[1]!.bytesPerDay).toBe(0);
  });

  it('needs two samples of a partition', () => {
    expect(partitionGrowth(dailySamples(1, GiB), { windowMs: DAY, now: new Date(T0) })).toEqual([]);
  });
});

describe('history store', () => {
  it('appends JSON lines, trims samples older than the max age, drops a torn line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ka-history-'));
    const h = new DiskHistory(join(dir, 'history'), 3 * DAY);
    expect(await h.load(new Date(T0))).toEqual({ samples: [], malformed: 0, trimmed: 0 });
    for (const s of dailySamples(5, GiB)) await h.append(s);
    appendFileSync(h.file, '{"v":1,"t":"2026-11-0'); // a crash in the middle of a write
    const text = readFileSync(h.file, 'utf8');
    expect(text.split('\n').filter((l) => l !== '')).toHaveLength(6);

    const loaded = await h.load(new Date(T0 + 5 * DAY));
    expect(loaded.malformed).toBe(1);
    expect(loaded.trimmed).toBe(2); // days 0 and 1 are older than 3 days
    expect(loaded.samples.map((s) => s.t)).toEqual([
      new Date(T0 + 2 * DAY).toISOString(),
      new Date(T0 + 3 * DAY).toISOString(),
      new Date(T0 + 4 * DAY).toISOString(),
    ]);
    // Rewritten without them; the next load has nothing to drop.
    expect(
      readFileSync(h.file, 'utf8')
        .split('\n')
        .filter((l) => l !== ''),
    ).toHaveLength(3);
    expect((await h.load(new Date(T0 + 5 * DAY))).trimmed).toBe(0);
  });

  it('parses out of order lines in time order and rejects foreign ones', () => {
    const [a, b] = dailySamples(2, GiB);
    const text = `${JSON.stringify(b)}\n${JSON.stringify(a)}\n{"v":2}\nnot json\n\n`;
    const parsed = parseHistory(text);
    expect(parsed.samples.map((s) => s.t)).toEqual([a!.t, b!.t]);
    expect(parsed.malformed).toBe(2);
  });

  it('a sample holds volumes and live partitions compactly', () => {
    const s = makeHistorySample(
      [volume()],
      [scan([{ topic: 't', partition: 3, log: 100, index: 20 }])],
      new Date(T0),
    );
    expect(s.t).toBe('2026-11-01T00:00:00.000Z');
    expect(s.volumes['kafka-1']).toMatchObject({
      allocated: 10 * GiB,
      fsUsed: 50 * GiB,
      budget: 100 * GiB,
    });
    expect(s.logDirs['/data/kafka']).toEqual({ 't-3': [120, 100, 20, 1] });
    const dir = mkdtempSync(join(tmpdir(), 'ka-history-'));
    writeFileSync(join(dir, 'x.jsonl'), JSON.stringify(s));
    expect(JSON.stringify(s).length).toBeLessThan(400);
  });
});
