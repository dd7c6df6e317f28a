import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArchiveError, loadConfig } from '../../src/index.js';
import {
  availableAtPercent,
  budgetBytes,
  classifyWatermark,
  DEFAULT_WATERMARKS,
  resolveVolumes,
  validateWatermarks,
  type WatermarkState,
} from '../../src/disk/index.js';

const W = DEFAULT_WATERMARKS; // 85 / 90 / 95

/** Feed a series of samples through the classifier, as a monitor would. */
function run(samples: number[], start?: WatermarkState): WatermarkState[] {
  const out: WatermarkState[] = [];
  let prev = start;
  for (const s of samples) {
    prev = classifyWatermark(s, W, prev);
    out.push(prev);
  }
  return out;
}

describe('watermark classification', () => {
  it('without history uses the plain thresholds (a threshold itself counts as reached)', () => {
    expect(classifyWatermark(0, W)).toBe('ok');
    expect(classifyWatermark(84.99, W)).toBe('ok');
    expect(classifyWatermark(85, W)).toBe('low');
    expect(classifyWatermark(89.9, W)).toBe('low');
    expect(classifyWatermark(90, W)).toBe('high');
    expect(classifyWatermark(95, W)).toBe('flood');
    expect(classifyWatermark(100, W)).toBe('flood');
  });

  it('rises immediately, including straight from ok to flood', () => {
    expect(run([50, 86, 91, 96])).toEqual(['ok', 'low', 'high', 'flood']);
    expect(classifyWatermark(99, W, 'ok')).toBe('flood');
    expect(classifyWatermark(92, W, 'low')).toBe('high');
  });

  it('flood is held until below high, then high is held until below low', () => {
    expect(run([96, 94, 91, 90, 89.9, 86, 85, 84.9])).toEqual([
      'flood',
      'flood', // below flood but above high: no flapping
      'flood',
      'flood',
      'high', // crossed high downwards
      'high', // between low and high after high: still high
      'high',
      'ok', // below low: ok
    ]);
  });

  it('a value hovering around one threshold does not flap', () => {
    expect(run([95.1, 94.9, 95.2, 94.8, 95.0], 'high')).toEqual([
      'flood',
      'flood',
      'flood',
      'flood',
      'flood',
    ]);
    expect(run([90.1, 89.9, 90.2, 89.5], 'low')).toEqual(['high', 'high', 'high', 'high']);
  });

  it('low has no band below it: below low is ok', () => {
    expect(run([86, 84], 'ok')).toEqual(['low', 'ok']);
    expect(classifyWatermark(10, W, 'flood')).toBe('ok');
  });

  it('re-rises after falling', () => {
    expect(run([96, 89, 92, 96, 80, 91])).toEqual(['flood', 'high', 'high', 'flood', 'ok', 'high']);
  });

  it('keeps the previous state on an unmeasurable sample', () => {
    expect(classifyWatermark(Number.NaN, W, 'high')).toBe('high');
    expect(classifyWatermark(Number.NaN, W)).toBe('ok');
  });

  it('validates the order of custom watermarks', () => {
    expect(validateWatermarks({ low: 70, high: 80, flood: 90 })).toBeNull();
    expect(validateWatermarks({ low: 90, high: 80, flood: 95 })).toMatch(/low < high < flood/);
    expect(validateWatermarks({ low: 0, high: 80, flood: 95 })).toMatch(/\(0, 100\]/);
  });
});

describe('budgets', () => {
  it('is bytes or a percentage of the filesystem', () => {
    expect(budgetBytes({ bytes: 1000 }, 1e9)).toBe(1000);
    expect(budgetBytes({ percent: 50 }, 1000)).toBe(500);
  });

  it('computes the available bytes at a watermark like df', () => {
    const fs = {
      path: '/',
      type: 'ext2/3/4',
      sizeBytes: 1100,
      freeBytes: 150,
      availableBytes: 100, // 50 reserved for root
      usedBytes: 950,
      usedPercent: 90.47,
    };
    // used + available = 1050; at 95% used, 52.5 -> 53 available.
    expect(availableAtPercent(fs, 95)).toBe(53);
  });
});

describe('disk config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ka-disk-config-'));

  it('has defaults: hot volume, 85/90/95, 2 × 256 MiB reserves', async () => {
    const config = loadConfig({ env: { KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: '/data/hot' } });
    expect(config.disk.watermarks).toEqual({ low: 85, high: 90, flood: 95 });
    expect(config.disk.reserve).toEqual({ count: 2, size: 256 * 2 ** 20 });
    const specs = await resolveVolumes(config);
    expect(specs).toEqual([
      {
        name: 'hot',
        path: '/data/hot',
        kind: 'hot',
        budget: { percent: 100 },
        watermarks: { low: 85, high: 90, flood: 95 },
        reserve: { count: 2, sizeBytes: 256 * 2 ** 20, dir: '/data/hot' },
      },
    ]);
  });

  it('accepts budgets and percentages in their written forms', () => {
    const config = loadConfig({
      env: {
        KAFKA_ARCHIVE_DISK__HOT__BUDGET: '500GiB',
        KAFKA_ARCHIVE_DISK__KAFKA__BUDGET: '80%',
        KAFKA_ARCHIVE_DISK__WATERMARKS__LOW: '70%',
        KAFKA_ARCHIVE_DISK__WATERMARKS__HIGH: '80',
        KAFKA_ARCHIVE_DISK__RESERVE__SIZE: '8MiB',
        KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '3',
      },
    });
    expect(config.disk.hot.budget).toEqual({ bytes: 500 * 2 ** 30 });
    expect(config.disk.kafka.budget).toEqual({ percent: 80 });
    expect(config.disk.watermarks).toEqual({ low: 70, high: 80, flood: 95 });
    expect(config.disk.reserve).toEqual({ count: 3, size: 8 * 2 ** 20 });
  });

  it('reports bad values with key, value and what is allowed', () => {
    const lines = (env: Record<string, string>) => {
      try {
        loadConfig({ env });
      } catch (err) {
        expect(err).toBeInstanceOf(ArchiveError);
        return (err as ArchiveError).message;
      }
      throw new Error('expected a config error');
    };
    expect(lines({ KAFKA_ARCHIVE_DISK__HOT__BUDGET: 'lots' })).toMatch(
      /disk\.hot\.budget: got "lots": expected a byte size such as "500GiB" or a percentage of the filesystem such as "90%"/,
    );
    expect(lines({ KAFKA_ARCHIVE_DISK__HOT__BUDGET: '150%' })).toMatch(
      /disk\.hot\.budget\.percent: got 150: expected a percentage <= 100/,
    );
    expect(lines({ KAFKA_ARCHIVE_DISK__WATERMARKS__LOW: '92' })).toMatch(
      /disk\.watermarks: got .*"low":92.*: expected low < high < flood \[from defaults\]/,
    );
    expect(lines({ KAFKA_ARCHIVE_DISK__WATERMARKS__FLOOD: 'full' })).toMatch(
      /disk\.watermarks\.flood: got "full": expected a percentage such as 85 or "85%"/,
    );
  });

  it('adds Kafka log.dirs from server.properties and configured volumes', async () => {
    const props = join(dir, 'server.properties');
    writeFileSync(props, 'node.id=1\nlog.dirs=/data/k1, /data/k2\n');
    const yaml = join(dir, 'disk.yaml');
    writeFileSync(
      yaml,
      [
        'archiver:',
        '  hotDir: /data/hot',
        'disk:',
        `  kafka: { serverProperties: ${props}, logDirs: [/data/k0, /data/k1] }`,
        '  volumes:',
        '    - name: scratch',
        '      path: /scratch',
        '      budget: 10GiB',
        '      watermarks: { flood: 97 }',
        '      reserve: { count: 1, size: 1GiB, dir: /scratch/ballast }',
        '',
      ].join('\n'),
    );
    const specs = await resolveVolumes(loadConfig({ file: yaml, env: {} }));
    expect(specs.map((s) => [s.name, s.path, s.kind])).toEqual([
      ['hot', '/data/hot', 'hot'],
      ['kafka-1', '/data/k0', 'kafka-log-dir'],
      ['kafka-2', '/data/k1', 'kafka-log-dir'],
      ['kafka-3', '/data/k2', 'kafka-log-dir'],
      ['scratch', '/scratch', 'other'],
    ]);
    expect(specs[1]?.reserve.dir).toBe('/data/k0');
    const scratch = specs[4];
    expect(scratch?.budget).toEqual({ bytes: 10 * 2 ** 30 });
    expect(scratch?.watermarks).toEqual({ low: 85, high: 90, flood: 97 });
    expect(scratch?.reserve).toEqual({ count: 1, sizeBytes: 2 ** 30, dir: '/scratch/ballast' });
  });

  it('refuses a reserve directory inside a Kafka log.dir and duplicate volumes', async () => {
    const yaml = join(dir, 'bad.yaml');
    writeFileSync(
      yaml,
      'disk:\n  volumes:\n    - { name: k, path: /data/k, kind: kafka-log-dir, reserve: { dir: /data/k/ballast } }\n',
    );
    await expect(resolveVolumes(loadConfig({ file: yaml, env: {} }))).rejects.toThrow(
      /disk\.volumes\.0\.reserve\.dir: .*would be loaded by the broker as a partition/,
    );
    writeFileSync(yaml, 'disk:\n  volumes:\n    - { name: hot, path: /elsewhere }\n');
    await expect(resolveVolumes(loadConfig({ file: yaml, env: {} }))).rejects.toThrow(
      /volume name "hot" is used twice/,
    );
  });
});
