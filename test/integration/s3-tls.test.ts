// The S3 backend over HTTPS with a private CA: versitygw serving TLS (scripts/s3.sh start-tls,
// a test CA and certificate made with openssl). With storage.s3.caFile the store works; without
// it (system CAs only) the certificate is refused with STORAGE_TLS_FAILED, and `tier` says so in
// one line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, loadConfig, S3ObjectStore } from '../../src/index.js';
import { cliBuilt } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ka-s3-tls-'));
const s3Dir = join(dir, 's3');
let endpoint = '';
const ca = join(s3Dir, 'tls', 'ca.pem');
const creds = { accessKeyId: 'test-access-key', secretAccessKey: 'test-secret-key' };

beforeAll(() => {
  endpoint = execFileSync('bash', [join(ROOT, 'scripts/s3.sh'), 'start-tls', s3Dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 120_000,
  })
    .trim()
    .split('\n')
    .pop() as string;
}, 150_000);
afterAll(() => {
  execFileSync('bash', [join(ROOT, 'scripts/s3.sh'), 'stop', s3Dir]);
  rmSync(dir, { recursive: true, force: true });
});

describe('S3 over HTTPS with a custom CA', () => {
  it('works with storage.s3.caFile; refuses the certificate without it', async () => {
    expect(endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const log = createLogger({ level: 'silent' });
    const base = {
      endpoint,
      region: 'us-east-1',
      bucket: 'kafka-archive-test',
      prefix: 'tls',
      ...creds,
      log,
    };
    const good = new S3ObjectStore({ ...base, caFile: ca });
    try {
      await good.checkAccess();
      await good.put('a/b.bin', Buffer.from('over https'));
      expect((await good.get('a/b.bin')).toString()).toBe('over https');
    } finally {
      await good.close();
    }
    const untrusted = new S3ObjectStore(base);
    try {
      await expect(untrusted.checkAccess()).rejects.toMatchObject({
        code: 'STORAGE_TLS_FAILED',
        message: expect.stringMatching(/TLS to S3 at .* failed: .*set storage\.s3\.caFile/),
      });
    } finally {
      await untrusted.close();
    }
    expect(() => new S3ObjectStore({ ...base, caFile: join(dir, 'missing.pem') })).toThrow(
      /config error: storage\.s3\.caFile: cannot read/,
    );
  });

  it('tier without the CA: one [STORAGE_TLS_FAILED] line, exit 1; with it: exit 0', async () => {
    const env = {
      KAFKA_ARCHIVE_DATA_DIR: join(dir, 'data'),
      KAFKA_ARCHIVE_STORAGE__TYPE: 's3',
      KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: endpoint,
      KAFKA_ARCHIVE_STORAGE__S3__BUCKET: 'kafka-archive-test',
      KAFKA_ARCHIVE_STORAGE__S3__ACCESS_KEY_ID: creds.accessKeyId,
      KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: creds.secretAccessKey,
    };
    const bad = await cliBuilt(['tier'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^kafka-archive: \[STORAGE_TLS_FAILED\] TLS to S3 at /),
    ]);
    expect(bad.stderr).not.toContain(creds.secretAccessKey);
    const ok = await cliBuilt(['tier'], { ...env, KAFKA_ARCHIVE_STORAGE__S3__CA_FILE: ca });
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    expect(
      loadConfig({ env: { ...env, KAFKA_ARCHIVE_STORAGE__S3__CA_FILE: ca } }).storage.s3.caFile,
    ).toBe(ca);
  });
});
