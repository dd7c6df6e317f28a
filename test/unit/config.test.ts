import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ArchiveError,
  configSchema,
  loadConfig,
  parseBytes,
  parseDurationMs,
} from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ka-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ArchiveError);
    return (err as ArchiveError).message.split('\n');
  }
  throw new Error('expected a config error');
}

/** Every leaf key path of the schema, e.g. "archiver.rotation.maxBytes". */
function leafKeys(schema: unknown, prefix = ''): string[] {
  let s = schema as { _zod: { def: Record<string, unknown> } };
  for (let i = 0; i < 10; i++) {
    const def = s._zod.def;
    if (def.type === 'object') break;
    const inner = def.innerType ?? def.in;
    if (inner === undefined) return [prefix];
    s = inner as typeof s;
  }
  if (s._zod.def.type !== 'object') return [prefix];
  const shape = (s as unknown as { shape: Record<string, unknown> }).shape;
  return Object.entries(shape).flatMap(([k, v]) =>
    leafKeys(v, prefix === '' ? k : `${prefix}.${k}`),
  );
}

describe('config', () => {
  it('needs no file: defaults run a local demo', () => {
    const c = loadConfig({ env: {} });
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(c.archiver.rotation.maxBytes).toBe(128 * 2 ** 20);
    expect(c.archiver.compression).toBe('zstd');
  });

  it('reports a wrong type, an unknown key and a missing required key, one line each', () => {
    const p = file(
      'bad.yaml',
      [
        'kafka:',
        '  brokers: 5',
        '  sasl:',
        '    mechanism: plain',
        '    username: u',
        'archiver:',
        '  topcs: [a]',
        '',
      ].join('\n'),
    );
    const lines = problems(() => loadConfig({ file: p, env: {} }));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/kafka\.brokers: got 5: expected a list of host:port/);
    expect(lines.find((l) => l.includes('archiver.topcs'))).toMatch(
      /unknown key; allowed here: groupId, topics, topicPatterns/,
    );
    expect(lines.find((l) => l.includes('kafka.sasl.password'))).toMatch(/missing required key/);
    for (const l of lines) expect(l).toContain(`[from ${p}]`);
  });

  it('applies environment overrides with coercion and names the variable in errors', () => {
    const c = loadConfig({
      env: {
        KAFKA_ARCHIVE_KAFKA__BROKERS: 'a:9092, b:9093',
        KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: '/data/hot',
        KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_BYTES: '1MiB',
        KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '30s',
        KAFKA_ARCHIVE_KAFKA__SSL: 'true',
      },
    });
    expect(c.kafka.brokers).toEqual(['a:9092', 'b:9093']);
    expect(c.archiver.hotDir).toBe('/data/hot');
    expect(c.archiver.rotation.maxBytes).toBe(2 ** 20);
    expect(c.archiver.flushIntervalMs).toBe(30_000);
    expect(c.kafka.ssl).toBe(true);
    const lines = problems(() =>
      loadConfig({
        env: {
          KAFKA_ARCHIVE_ARCHIVER__COMPRESION: 'zstd',
          KAFKA_ARCHIVE_ARCHIVER__COMPRESSION: 'lz77',
        },
      }),
    );
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).toContain('archiver.compresion: unknown key');
    expect(lines.join('\n')).toContain('[from KAFKA_ARCHIVE_ARCHIVER__COMPRESION]');
    expect(lines.join('\n')).toMatch(
      /archiver\.compression: got "lz77": expected one of: zstd, snappy, none \[from KAFKA_ARCHIVE_ARCHIVER__COMPRESSION\]/,
    );
  });

  it('storage.s3.checksum: auto by default, sha256 or md5; another value names key, value and choices', () => {
    expect(loadConfig({ env: {} }).storage.s3.checksum).toBe('auto');
    expect(
      loadConfig({ env: { KAFKA_ARCHIVE_STORAGE__S3__CHECKSUM: 'md5' } }).storage.s3.checksum,
    ).toBe('md5');
    const lines = problems(() =>
      loadConfig({ env: { KAFKA_ARCHIVE_STORAGE__S3__CHECKSUM: 'crc32' } }),
    );
    expect(lines.join('\n')).toMatch(
      /storage\.s3\.checksum: got "crc32": expected one of: auto, sha256, md5/,
    );
  });

  it('file values lose to environment values', () => {
    const p = file('ok.yaml', 'archiver:\n  groupId: from-file\n  topics: [a, b]\n');
    const c = loadConfig({ file: p, env: { KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: 'from-env' } });
    expect(c.archiver.groupId).toBe('from-env');
    expect(c.archiver.topics).toEqual(['a', 'b']);
  });

  it('rejects invalid regular expressions and YAML syntax errors clearly', () => {
    expect(
      problems(() => loadConfig({ env: { KAFKA_ARCHIVE_ARCHIVER__TOPIC_PATTERNS: 'a(' } }))[0],
    ).toMatch(
      /archiver\.topicPatterns\.0: got "a\(": expected a valid JavaScript regular expression/,
    );
    const p = file('syntax.yaml', 'kafka:\n  brokers: [a:1\n');
    expect(problems(() => loadConfig({ file: p, env: {} }))[0]).toContain(p);
    expect(problems(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }))[0]).toMatch(
      /cannot read config file/,
    );
  });

  it('the example config is valid and documents every key; README lists every key', () => {
    const example = join(import.meta.dirname, '../../config/kafka-archive.example.yaml');
    expect(() => loadConfig({ file: example, env: {} })).not.toThrow();
    const exampleText = readFileSync(example, 'utf8');
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    for (const key of leafKeys(configSchema)) {
      const leaf = key.split('.').pop() as string;
      expect(exampleText, `example config mentions ${key}`).toContain(`${leaf}:`);
      expect(readme, `README documents ${key}`).toContain(`\`${key}\``);
    }
  });

  it('parses sizes and durations', () => {
    expect(parseBytes('128MiB')).toBe(134217728);
    expect(parseBytes('1GB')).toBe(1e9);
    expect(parseBytes('12xb')).toBeUndefined();
    expect(parseDurationMs('10m')).toBe(600_000);
    expect(parseDurationMs(1500)).toBe(1500);
  });
});
