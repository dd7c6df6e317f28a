// The CLI as users run it (the built bin): user mistakes exit 2 with clear messages and no stack
// trace; `config show` never prints secrets.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { cliFromSource as cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ka-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kafka-archive CLI', () => {
  it('a bad config file: three clear messages, exit 2, no stack trace', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'kafka:\n  brokers: 5\n  sasl:\n    mechanism: plain\n    username: x\narchiver:\n  topcs: [a]\n',
    );
    const r = cli(['--config', bad]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^config error: kafka\.brokers: got 5: expected a list/);
    expect(lines[1]).toMatch(/^config error: kafka\.sasl\.password: missing required key/);
    expect(lines[2]).toMatch(/^config error: archiver\.topcs: unknown key; allowed here: groupId/);
    expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+/);
  });

  it('unknown commands and bad arguments exit 2', () => {
    expect(cli(['frobnicate']).code).toBe(2);
    const r = cli(['read', 'topic', '-p', 'x', '--offset', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--partition: got "x"');
  });

  it('config show redacts secrets', () => {
    const r = cli(['config', 'show', '--json'], {
      KAFKA_ARCHIVE_KAFKA__SASL__MECHANISM: 'plain',
      KAFKA_ARCHIVE_KAFKA__SASL__USERNAME: 'u',
      KAFKA_ARCHIVE_KAFKA__SASL__PASSWORD: 'kafka-secret-value',
      KAFKA_ARCHIVE_STORAGE__S3__ACCESS_KEY_ID: 'AKIDEXAMPLE',
      KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: 's3-secret-value',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('kafka-secret-value');
    expect(r.stdout).not.toContain('s3-secret-value');
    expect(JSON.parse(r.stdout).storage.s3.secretAccessKey).toBe('***');
  });

  it('--help lists every command', async () => {
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (
      out.push(String(s)),
      true
    )) as typeof process.stdout.write;
    try {
      await main(['node', 'kafka-archive', '--help']);
    } finally {
      process.stdout.write = write;
    }
    for (const c of [
      'run',
      'offsets',
      'lookup',
      'read',
      'catalog',
      'tier',
      'disk',
      'reserve',
      'config',
    ])
      expect(out.join('')).toContain(`  ${c}`);
  });
});
