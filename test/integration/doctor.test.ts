// `kafka-archive doctor` (the built CLI) against the real test services: everything ok; then one
// thing broken at a time (a wrong broker port, a missing bucket, a stopped S3 server, a hot
// directory the service user cannot write, a wrong SASL password on the SASL_SSL test bed, a
// restore target without its CA): the right check fails with its code, a message naming the
// problem, a fix, and the documented exit code, in a few seconds, without a stack trace.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createKafkajsClient,
  createLogger,
  exitCodeOf,
  loadConfig,
  type DoctorReport,
} from '../../src/index.js';
import { cliBuilt, type CliResult } from '../helpers/cli.js';
import { serviceUser } from '../helpers/service-user.js';

const ROOT = join(import.meta.dirname, '../..');
const kafkaInfo = inject('kafka');
const s3 = inject('s3');
const root = mkdtempSync(join(tmpdir(), 'ka-doctor-'));
const topic = `doctor-${Math.random().toString(36).slice(2, 8)}`;

afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  const client = createKafkajsClient(
    { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
    createLogger({ level: 'silent' }),
  );
  const admin = await client.admin();
  await admin.createTopics([{ name: topic, partitions: 2 }]);
  await admin.disconnect();
});

function baseEnv(name: string): Record<string, string> {
  return {
    KAFKA_ARCHIVE_DATA_DIR: join(root, name),
    KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
    KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
    KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
    KAFKA_ARCHIVE_STORAGE__TYPE: 's3',
    KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: s3.endpoint,
    KAFKA_ARCHIVE_STORAGE__S3__BUCKET: s3.bucket,
    KAFKA_ARCHIVE_STORAGE__S3__PREFIX: `doctor-${name}`,
    KAFKA_ARCHIVE_STORAGE__S3__ACCESS_KEY_ID: s3.accessKeyId,
    KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: s3.secretAccessKey,
    KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '1',
    KAFKA_ARCHIVE_DISK__RESERVE__SIZE: '1MiB',
  };
}

interface Doctor {
  r: CliResult;
  report: DoctorReport;
  ms: number;
  check(name: string): DoctorReport['checks'][number];
}

async function doctor(
  env: Record<string, string>,
  args: string[] = [],
  wrap: string[] = [],
): Promise<Doctor> {
  const t0 = Date.now();
  const r =
    wrap.length === 0
      ? await cliBuilt(['--json', 'doctor', ...args], env)
      : wrapped(wrap, ['--json', 'doctor', ...args], env);
  const ms = Date.now() - t0;
  // Never a stack trace, whatever broke.
  expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  const report = JSON.parse(r.stdout) as DoctorReport;
  expect(r.code, r.stdout + r.stderr).toBe(report.exitCode);
  return {
    r,
    report,
    ms,
    check(name) {
      const c = report.checks.find((x) => x.name === name);
      expect(c, `check ${name} in ${r.stdout}`).toBeDefined();
      return c as DoctorReport['checks'][number];
    },
  };
}

/** The built CLI under a wrapper command (setpriv). */
function wrapped(wrap: string[], args: string[], env: Record<string, string>): CliResult {
  const [cmd, ...pre] = wrap as [string, ...string[]];
  const r = spawnSync(
    cmd,
    [...pre, process.execPath, join(ROOT, 'bin/kafka-archive.js'), ...args],
    {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function statuses(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe(`doctor against Kafka ${kafkaInfo.version} and S3`, () => {
  it('all ok against the test services (a warning for unarmed reserves does not fail)', async () => {
    const env = baseEnv('ok');
    const first = await doctor(env);
    expect(first.r.code).toBe(0);
    expect(first.check('disk.hot')).toMatchObject({ status: 'warn' });
    expect(first.check('disk.hot').fix).toContain('kafka-archive reserve rearm --volume hot');

    const rearm = await cliBuilt(['reserve', 'rearm', '--volume', 'hot'], env);
    expect(rearm.code, rearm.stderr).toBe(0);
    const d = await doctor(env);
    expect(d.r.code).toBe(0);
    expect(statuses(d.report)).toEqual({
      config: 'ok',
      kafka: 'ok',
      'kafka.topics': 'ok',
      'kafka.group': 'ok',
      storage: 'ok',
      'dir.data': 'ok',
      'dir.hot': 'ok',
      'dir.catalog': 'ok',
      'disk.hot': 'ok',
      'restore.target': 'skip',
    });
    expect(d.check('kafka.topics').message).toContain(`${topic} (2)`);
    expect(d.check('storage').message).toMatch(/wrote, read back and deleted _doctor\/probe-/);
    expect(d.check('disk.hot').message).toContain('reserves 1/1 armed');

    // The probe object is gone.
    const text = await cliBuilt(['doctor'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ok {4}config/m);
    expect(text.stdout).toMatch(/no check failed: 9 ok, 0 warn, 0 fail, 1 skipped \(exit 0\)/);
  });

  it('a wrong broker port: the Kafka check fails with KAFKA_UNAVAILABLE naming the address, exit 1', async () => {
    const port = await freePort();
    const d = await doctor({
      ...baseEnv('badport'),
      KAFKA_ARCHIVE_KAFKA__BROKERS: `127.0.0.1:${port}`,
    });
    expect(d.r.code).toBe(exitCodeOf('KAFKA_UNAVAILABLE'));
    expect(d.r.code).toBe(1);
    const k = d.check('kafka');
    expect(k).toMatchObject({ status: 'fail', code: 'KAFKA_UNAVAILABLE' });
    expect(k.message).toContain(`127.0.0.1:${port}`);
    expect(k.message).toContain('ECONNREFUSED');
    expect(k.fix).toContain('kafka.brokers');
    expect(d.check('kafka.topics').status).toBe('skip');
    // The other checks still ran.
    expect(d.check('storage').status).toBe('ok');
    expect(d.ms).toBeLessThan(15_000);
  });

  it('a missing bucket: the storage check fails with STORAGE_BUCKET_MISSING, exit 2', async () => {
    const d = await doctor({
      ...baseEnv('nobucket'),
      KAFKA_ARCHIVE_STORAGE__S3__BUCKET: 'no-such-bucket-here',
    });
    expect(d.r.code).toBe(exitCodeOf('STORAGE_BUCKET_MISSING'));
    expect(d.r.code).toBe(2);
    const s = d.check('storage');
    expect(s).toMatchObject({ status: 'fail', code: 'STORAGE_BUCKET_MISSING' });
    expect(s.message).toContain('no-such-bucket-here');
    expect(s.fix).toContain('storage.s3.bucket');
    expect(d.check('kafka').status).toBe('ok');
  });

  it('a stopped S3 server: the storage check fails with STORAGE_UNAVAILABLE within its time limit, exit 1', async () => {
    const dir = join(root, 's3-stopped');
    const endpoint = execFileSync('bash', [join(ROOT, 'scripts/s3.sh'), 'start', dir], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop() as string;
    execFileSync('bash', [join(ROOT, 'scripts/s3.sh'), 'stop', dir]);
    const d = await doctor(
      { ...baseEnv('s3stopped'), KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: endpoint },
      ['--timeout', '3s'],
    );
    expect(d.r.code).toBe(1);
    const s = d.check('storage');
    expect(s).toMatchObject({ status: 'fail', code: 'STORAGE_UNAVAILABLE' });
    expect(s.message).toContain(endpoint.replace(/^http:\/\//, ''));
    expect(s.fix).toContain('storage.s3.endpoint');
    expect(d.ms).toBeLessThan(15_000);
  });

  if (serviceUser.unavailable !== null)
    console.log(`[doctor test] unwritable hot dir case skipped: ${serviceUser.unavailable}`);
  it.skipIf(serviceUser.unavailable !== null)(
    'a hot directory the service user cannot write: dir.hot fails with DIR_UNWRITABLE, exit 2',
    async () => {
      chmodSync(root, 0o755); // nobody must reach it
      const data = join(root, 'ro');
      mkdirSync(join(data, 'hot'), { recursive: true });
      chmodSync(data, 0o777);
      chmodSync(join(data, 'hot'), 0o555); // root-owned, read-only for everyone else
      const env = {
        ...baseEnv('ro'),
        KAFKA_ARCHIVE_DATA_DIR: data,
        KAFKA_ARCHIVE_STORAGE__TYPE: 'local',
        KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '0',
      };
      // Root writes anywhere: as root the CLI runs as nobody, as the container runs it.
      const d = await doctor(env, [], serviceUser.wrap);
      expect(d.r.code).toBe(2);
      const h = d.check('dir.hot');
      expect(h.message).toContain(
        `archiver.hotDir: ${join(data, 'hot')}: cannot create a file in it: EACCES`,
      );
      expect(d.check('dir.data').status).toBe('ok');
      expect(d.check('dir.hot')).toMatchObject({ status: 'fail', code: 'DIR_UNWRITABLE' });
    },
  );

  it('a hot directory path through a regular file: dir.hot fails naming the file', async () => {
    const base = join(root, 'file-parent');
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, 'not-a-dir'), 'x');
    const d = await doctor({
      ...baseEnv('fileparent'),
      KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(base, 'not-a-dir', 'hot'),
      KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '0',
    });
    expect(d.r.code).toBe(2);
    const h = d.check('dir.hot');
    expect(h).toMatchObject({ status: 'fail', code: 'DIR_UNWRITABLE' });
    expect(h.message).toContain(`${join(base, 'not-a-dir')} is not a directory`);
    expect(h.message).toContain('archiver.hotDir');
    expect(h.fix).toContain('write access');
  });

  it('a configuration that does not load: the config check fails with the loader message, exit 2', async () => {
    const d = await doctor({ ...baseEnv('badcfg'), KAFKA_ARCHIVE_KAFKA__BROKERS: 'no-port' });
    expect(d.r.code).toBe(2);
    expect(d.report.checks).toHaveLength(1);
    expect(d.check('config')).toMatchObject({ status: 'fail', code: 'CONFIG_INVALID' });
    expect(d.check('config').message).toContain('kafka.brokers');
    expect(d.check('config').message).toContain('no-port');
  });
});

describe(`doctor against the SASL_SSL test bed (Kafka ${kafkaInfo.version})`, () => {
  const brokerDir = join(root, 'secure');
  let secure = '';
  let users: Record<string, string> = {};
  beforeAll(() => {
    const out = execFileSync(
      'bash',
      [join(ROOT, 'scripts/kafka.sh'), 'start-secure', kafkaInfo.version, brokerDir],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 180_000 },
    );
    secure = (out.trim().split('\n').pop() as string).split(' ')[1] as string;
    users = Object.fromEntries(
      readFileSync(join(brokerDir, 'users.env'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }, 200_000);
  afterAll(() => {
    execFileSync('bash', [join(ROOT, 'scripts/kafka.sh'), 'stop', brokerDir]);
  });

  const saslEnv = (client: string, password: string): Record<string, string> => ({
    ...baseEnv(`sasl-${client}`),
    KAFKA_ARCHIVE_KAFKA__CLIENT: client,
    KAFKA_ARCHIVE_KAFKA__BROKERS: secure,
    KAFKA_ARCHIVE_KAFKA__SSL: 'true',
    KAFKA_ARCHIVE_KAFKA__TLS__CA_FILE: users.CA_FILE as string,
    KAFKA_ARCHIVE_KAFKA__SASL__MECHANISM: 'scram-sha-512',
    KAFKA_ARCHIVE_KAFKA__SASL__USERNAME: users.SCRAM_SHA_512_USER as string,
    KAFKA_ARCHIVE_KAFKA__SASL__PASSWORD: password,
    KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '0',
  });

  for (const client of ['kafkajs', 'platformatic']) {
    it(`${client}: the right password connects; a wrong one fails the Kafka check naming SASL, exit 1`, async () => {
      const good = await doctor(saslEnv(client, users.SCRAM_SHA_512_PASSWORD as string));
      expect(good.check('kafka').status, good.r.stdout).toBe('ok');
      expect(good.check('kafka').message).toContain('SASL scram-sha-512 as archiver-512');

      const d = await doctor(saslEnv(client, 'not-the-password'));
      expect(d.r.code).toBe(1);
      const k = d.check('kafka');
      expect(k).toMatchObject({ status: 'fail', code: 'KAFKA_AUTHENTICATION_FAILED' });
      expect(k.message).toMatch(/refused the SASL credentials: .*SCRAM-SHA-512/);
      expect(k.fix).toContain('kafka.sasl.password');
      // Refused credentials are reported at once, not after the client's retries.
      expect(d.ms).toBeLessThan(10_000);
    });
  }

  it('restore.target over SASL_SSL: reachable with its CA; without it KAFKA_TLS_FAILED naming restore.target.tls.caFile', async () => {
    const target = {
      KAFKA_ARCHIVE_RESTORE__TARGET__BROKERS: secure,
      KAFKA_ARCHIVE_RESTORE__TARGET__SSL: 'true',
      KAFKA_ARCHIVE_RESTORE__TARGET__SASL__MECHANISM: 'scram-sha-256',
      KAFKA_ARCHIVE_RESTORE__TARGET__SASL__USERNAME: users.SCRAM_SHA_256_USER as string,
      KAFKA_ARCHIVE_RESTORE__TARGET__SASL__PASSWORD: users.SCRAM_SHA_256_PASSWORD as string,
    };
    const env = { ...baseEnv('target'), KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '0' };
    const ok = await doctor({
      ...env,
      ...target,
      KAFKA_ARCHIVE_RESTORE__TARGET__TLS__CA_FILE: users.CA_FILE as string,
    });
    expect(ok.check('restore.target').status, ok.r.stdout).toBe('ok');
    expect(ok.r.code).toBe(0);
    const bad = await doctor({ ...env, ...target });
    expect(bad.r.code).toBe(1);
    const t = bad.check('restore.target');
    expect(t).toMatchObject({ status: 'fail', code: 'KAFKA_TLS_FAILED' });
    expect(t.message).toContain('certificate');
    expect(t.fix).toContain('restore.target.tls.caFile');
    expect(bad.check('kafka').status).toBe('ok');
  });
});
