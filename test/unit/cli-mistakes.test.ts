// What a new user gets for common mistakes: one clear line (the flag or key, the value, what is
// allowed, or the error code), the documented exit code, no stack trace; an unreachable broker
// is reported once per retry window, not as a flood of kafkajs stack traces.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliFromSource as cli } from '../helpers/cli.js';
import { logTail, serverUrl, spawnFromSource, stopProcess } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'ka-mistakes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STACK = /\bat .*:\d+:\d+/;

/** The environment of a throwaway data root under the test's directory. */
function dataEnv(name: string): Record<string, string> {
  const root = join(dir, name);
  return {
    KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(root, 'hot'),
    KAFKA_ARCHIVE_CATALOG__DIR: join(root, 'catalog'),
    KAFKA_ARCHIVE_STORAGE__LOCAL__DIR: join(root, 'cold'),
    KAFKA_ARCHIVE_DISK__HISTORY_DIR: join(root, 'history'),
  };
}

// Each case starts the CLI from the sources (a few seconds each on a loaded machine).
describe('user mistakes', { timeout: 90_000 }, () => {
  it('--log-level bogus: a usage error naming the flag and the levels, exit 2', () => {
    const r = cli(['--log-level', 'bogus', 'offsets', 'x'], dataEnv('loglevel'));
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      '--log-level: got "bogus": expected one of: trace, debug, info, warn, error, fatal, silent (it sets log.level)',
    );
  });

  it('run --topic-pattern "[": refused like the same pattern in YAML, exit 2', () => {
    const r = cli(['run', '--topic-pattern', 'ok.*', '['], dataEnv('pattern'));
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      '--topic-pattern: got "[": expected a valid JavaScript regular expression (it sets archiver.topicPatterns.1)',
    );
    const yaml = join(dir, 'pattern.yaml');
    writeFileSync(yaml, "archiver:\n  topicPatterns: ['[']\n");
    const y = cli(['--config', yaml, 'config', 'check']);
    expect(y.code).toBe(2);
    expect(y.stderr).toContain('config error: archiver.topicPatterns.0: got "["');
  });

  it('catalog rebuild --concurrency x: exit 2 naming the flag', () => {
    const r = cli(['catalog', 'rebuild', '--concurrency', 'x'], dataEnv('concurrency'));
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('--concurrency: got "x": expected a whole number from 1 to 1024');
  });

  it('a garbage line in the catalog snapshot: CATALOG_CORRUPT in one line, exit 3', () => {
    const env = dataEnv('corrupt');
    const catalog = env.KAFKA_ARCHIVE_CATALOG__DIR as string;
    mkdirSync(catalog, { recursive: true });
    writeFileSync(
      join(catalog, 'snapshot.jsonl'),
      '{"format":"kafka-archive-catalog","version":1,"seq":3}\ngarbage{\n',
    );
    const r = cli(['offsets', 'x'], env);
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^kafka-archive: \[CATALOG_CORRUPT\] .*snapshot\.jsonl line 2: not a catalog entry; rebuild the catalog/,
    );
    // A garbage header too.
    writeFileSync(join(catalog, 'snapshot.jsonl'), 'garbage{\n');
    const h = cli(['offsets', 'x'], env);
    expect(h.code).toBe(3);
    expect(h.stderr).toMatch(/\[CATALOG_CORRUPT\] .*line 1: not a version 1 kafka-archive catalog/);
    expect(h.stderr).not.toMatch(STACK);
    // --debug adds the stack for a bug report.
    expect(cli(['--debug', 'offsets', 'x'], env).stderr).toMatch(STACK);
  });

  it('a catalog.db that is not a database: CATALOG_CORRUPT in one line, exit 3', () => {
    const env = dataEnv('corrupt-db');
    const catalog = env.KAFKA_ARCHIVE_CATALOG__DIR as string;
    mkdirSync(catalog, { recursive: true });
    writeFileSync(join(catalog, 'catalog.db'), 'garbage, not SQLite\n'.repeat(300));
    const r = cli(['offsets', 'x'], env);
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^kafka-archive: \[CATALOG_CORRUPT\] catalog .*catalog\.db: .*rebuild it/,
    );
    expect(r.stderr).not.toMatch(STACK);
  });

  it('tier with an unreachable S3 endpoint: one [STORAGE_UNAVAILABLE] line, exit 1', () => {
    const r = cli(['tier'], {
      ...dataEnv('s3down'),
      KAFKA_ARCHIVE_STORAGE__TYPE: 's3',
      KAFKA_ARCHIVE_STORAGE__S3__BUCKET: 'b',
      KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: 'http://127.0.0.1:1',
      KAFKA_ARCHIVE_STORAGE__S3__ACCESS_KEY_ID: 'AKIDEXAMPLE',
      KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: 'tier-secret-value',
    });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kafka-archive: \[STORAGE_UNAVAILABLE\] /);
    expect(r.stderr).not.toContain('tier-secret-value');
  });

  it('run with an unreachable broker: stays up, not ready, one warning per window, SIGTERM exits 0', async () => {
    const p = spawnFromSource(['run', '--topics', 't'], {
      ...dataEnv('kafkadown'),
      KAFKA_ARCHIVE_KAFKA__BROKERS: '127.0.0.1:1',
      KAFKA_ARCHIVE_SERVER__PORT: '0',
      KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
    });
    try {
      // Wait until the archiver has failed to connect three times (its back-off: ~1 s, 2 s).
      let reason = '';
      const deadline = Date.now() + 60_000;
      for (;;) {
        const url = serverUrl(p);
        if (url !== null) {
          const r = await fetch(`${url}/readyz`).catch(() => null);
          if (r !== null) {
            expect(r.status).toBe(503);
            reason = ((await r.json()) as { reason: string }).reason;
            const m = /\((\d+) failed attempts/.exec(reason);
            if (m !== null && Number(m[1]) >= 3) break;
          }
        }
        if (!p.isRunning()) throw new Error(`exited early:\n${logTail(p)}`);
        if (Date.now() > deadline) throw new Error(`never failed 3 times:\n${logTail(p)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(reason).toMatch(
        /^cannot use Kafka: \[KAFKA_UNAVAILABLE\] cannot connect to Kafka at 127\.0\.0\.1:1: .*ECONNREFUSED/,
      );
      const warnings = p.logs.filter((l) => (l.level as number) >= 40);
      // Nothing at error level, no stack traces; every warning carries a code.
      expect(p.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
      expect(
        p.logs.filter((l) => 'stack' in l || JSON.stringify(l).includes('\\n    at ')),
      ).toEqual([]);
      for (const w of warnings) expect(w.code, JSON.stringify(w)).toBe('KAFKA_UNAVAILABLE');
      // One archiver warning for the three failures (same cause, same window), and each kafkajs
      // message once.
      expect(warnings.filter((l) => l.component === 'archiver')).toHaveLength(1);
      const kafkajs = warnings.filter((l) => l.component === 'kafkajs').map((l) => l.msg);
      expect(new Set(kafkajs).size).toBe(kafkajs.length);
      expect(kafkajs.length).toBeLessThanOrEqual(3);
    } finally {
      expect(await stopProcess(p)).toBe(0);
    }
  });
});
