// Secrets never appear in what the product prints or writes. With distinctive random secrets
// (the SASL password of the SASL_SSL test bed, the secret key of an S3 server started here with
// random root credentials, read and admin API tokens), the built CLI runs `config show`,
// `doctor`, `run` (archiving over SASL_SSL into S3, its HTTP API and /metrics used with the
// tokens), `tier` and `restore --dry-run`, every one at log level trace, plus failing runs with
// wrong secrets (refused SASL password, wrong S3 secret, a wrong bearer token). Every byte of
// stdout, stderr, HTTP response and every file written under the data directory is searched for
// each secret, raw and base64: zero hits.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { createKafkajsClient, createLogger, loadConfig } from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';
import { cliBuilt } from '../helpers/cli.js';
import { logTail, serverUrl, spawnArchiver, stopProcess } from '../helpers/process.js';

const ROOT = join(import.meta.dirname, '../..');
const kafkaInfo = inject('kafka');
const dir = mkdtempSync(join(tmpdir(), 'ka-secrets-'));
const data = join(dir, 'data');
const s3Dir = join(dir, 's3');
const brokerDir = join(dir, 'broker');
const topic = `secrets-${Math.random().toString(36).slice(2, 8)}`;
const hex = (n: number) => randomBytes(n).toString('hex');

const S3_ACCESS_KEY = `AK${hex(8).toUpperCase()}`;
const S3_SECRET = `s3secret-${hex(16)}`;
const READ_TOKEN = `readtoken-${hex(16)}`;
const ADMIN_TOKEN = `admintoken-${hex(16)}`;
const WRONG_S3_SECRET = `wrongs3-${hex(16)}`;
const WRONG_PASSWORD = `wrongpw-${hex(16)}`;
const WRONG_TOKEN = `wrongtoken-${hex(16)}`;
let saslPassword = '';
let s3Endpoint = '';
let secureBroker = '';
let plainBroker = '';
let users: Record<string, string> = {};

/** Everything the product printed, answered or wrote, as [where, bytes]. */
const seen: Array<[string, Buffer]> = [];
const saw = (where: string, text: string | Buffer) =>
  seen.push([where, Buffer.isBuffer(text) ? text : Buffer.from(text)]);

const sh = (script: string, args: string[], env: Record<string, string> = {}) =>
  execFileSync('bash', [join(ROOT, 'scripts', script), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 180_000,
    env: { ...process.env, ...env },
  })
    .trim()
    .split('\n')
    .pop() as string;

beforeAll(async () => {
  [plainBroker, secureBroker] = sh('kafka.sh', [
    'start-secure',
    kafkaInfo.version,
    brokerDir,
  ]).split(' ') as [string, string];
  users = Object.fromEntries(
    readFileSync(join(brokerDir, 'users.env'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  saslPassword = users.SCRAM_SHA_512_PASSWORD as string;
  s3Endpoint = sh('s3.sh', ['start', s3Dir], {
    S3_ROOT_ACCESS_KEY: S3_ACCESS_KEY,
    S3_ROOT_SECRET_KEY: S3_SECRET,
  });
  const client = createKafkajsClient(
    { ...loadConfig({ env: {} }).kafka, brokers: [plainBroker] },
    createLogger({ level: 'silent' }),
  );
  const admin = await client.admin();
  await admin.createTopics([{ name: topic, partitions: 2 }]);
  const producer = await client.producer();
  await producer.send(
    topic,
    Array.from({ length: 60 }, (_, i) => ({
      partition: i % 2,
      key: null,
      value: Buffer.from(`r${i}`),
    })),
  );
  await producer.disconnect();
  await admin.disconnect();
}, 240_000);

afterAll(() => {
  sh('kafka.sh', ['stop', brokerDir]);
  sh('s3.sh', ['stop', s3Dir]);
  rmSync(dir, { recursive: true, force: true });
});

/** The configuration file: every secret in it, log level trace. */
function writeConfig(name: string, over: { s3Secret?: string; password?: string } = {}): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      dataDir: data,
      log: { level: 'trace' },
      kafka: {
        brokers: [secureBroker],
        ssl: true,
        tls: { caFile: users.CA_FILE },
        sasl: {
          mechanism: 'scram-sha-512',
          username: users.SCRAM_SHA_512_USER,
          password: over.password ?? saslPassword,
        },
      },
      archiver: { topics: [topic], groupId: `g-${topic}`, flushIntervalMs: 500 },
      storage: {
        type: 's3',
        s3: {
          endpoint: s3Endpoint,
          bucket: 'kafka-archive-test',
          accessKeyId: S3_ACCESS_KEY,
          secretAccessKey: over.s3Secret ?? S3_SECRET,
        },
      },
      tiering: { enabled: false },
      disk: { reserve: { count: 1, size: '1MiB' }, monitor: { intervalMs: 1000 } },
      server: {
        port: 0,
        auth: { readTokens: [READ_TOKEN], adminTokens: [ADMIN_TOKEN] },
      },
    }),
  );
  return file;
}

async function cli(name: string, args: string[]): Promise<number | null> {
  const r = await cliBuilt(args, {});
  saw(`${name} stdout`, r.stdout);
  saw(`${name} stderr`, r.stderr);
  return r.code;
}

function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((d) => {
    const p = join(root, d.name);
    return d.isDirectory() ? filesUnder(p) : statSync(p).size < 64 << 20 ? [p] : [];
  });
}

describe(`secrets never appear in output, logs, responses or files (Kafka ${kafkaInfo.version})`, () => {
  it('config show, doctor, run (HTTP API and /metrics), tier, restore --dry-run and failing runs', async () => {
    const cfg = writeConfig('good');

    // config show: the secrets are redacted, and what they are keyed by is still there.
    expect(await cli('config show', ['--config', cfg, 'config', 'show'])).toBe(0);
    expect(await cli('config show --json', ['--config', cfg, '--json', 'config', 'show'])).toBe(0);
    const shown = seen.find(([w]) => w === 'config show stdout')?.[1].toString() ?? '';
    expect(shown).toContain('secretAccessKey');
    expect(shown).toContain(S3_ACCESS_KEY); // an access key id is not a secret

    // doctor: all good with the right secrets, at log level trace.
    expect(await cli('doctor', ['--config', cfg, '--log-level', 'trace', 'doctor'])).toBe(0);

    // run: archives over SASL_SSL; the API and /metrics are used with the tokens.
    const p = spawnArchiver(['--config', cfg, 'run'], {});
    try {
      await waitFor(
        '60 records archived',
        async () => {
          if (!p.isRunning()) throw new Error(`exited:\n${logTail(p)}`);
          const url = serverUrl(p);
          if (url === null) return false;
          const r = await fetch(`${url}/metrics`, {
            headers: { authorization: `Bearer ${READ_TOKEN}` },
          }).catch(() => null);
          if (r === null || r.status !== 200) return false;
          const text = await r.text();
          saw('/metrics', text);
          const m = /^kafka_archive_records_archived_total (\d+)/m.exec(text);
          return m !== null && Number(m[1]) >= 60;
        },
        90_000,
        200,
      );
      const url = serverUrl(p) as string;
      const calls: Array<[string, RequestInit]> = [
        ['/metrics', {}],
        ['/metrics', { headers: { authorization: `Bearer ${WRONG_TOKEN}` } }],
        [`/api/offsets?topic=${topic}`, { headers: { authorization: `Bearer ${READ_TOKEN}` } }],
        ['/api/tier', { method: 'POST', headers: { authorization: `Bearer ${READ_TOKEN}` } }],
        [
          '/api/tier?olderThan=0',
          { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } },
        ],
        ['/readyz', {}],
        ['/openapi.json', {}],
      ];
      for (const [path, init] of calls) {
        const r = await fetch(`${url}${path}`, init);
        saw(
          `${init.method ?? 'GET'} ${path} -> ${r.status}`,
          `${JSON.stringify([...r.headers])}\n${await r.text()}`,
        );
      }
    } finally {
      expect(await stopProcess(p)).toBe(0);
      saw('run stdout', p.stdout());
      saw('run stderr', p.logs.map((l) => JSON.stringify(l)).join('\n'));
    }
    expect(p.logs.length).toBeGreaterThan(10); // trace level: the debug lines too

    // tier (by hand, the service stopped) and restore --dry-run into the SASL_SSL cluster.
    expect(await cli('tier', ['--config', cfg, 'tier', '--older-than', '0'])).toBe(0);
    expect(
      await cli('restore --dry-run', [
        '--config',
        cfg,
        'restore',
        topic,
        '--dry-run',
        '--no-progress',
      ]),
    ).toBe(0);

    // Failing runs: a refused password and a wrong S3 secret, where errors are printed.
    const badPw = writeConfig('badpw', { password: WRONG_PASSWORD });
    expect(await cli('doctor badpw', ['--config', badPw, '--log-level', 'trace', 'doctor'])).toBe(
      1,
    );
    const badS3 = writeConfig('bads3', { s3Secret: WRONG_S3_SECRET });
    expect(await cli('doctor bads3', ['--config', badS3, '--log-level', 'trace', 'doctor'])).toBe(
      1,
    );
    expect(await cli('tier bads3', ['--config', badS3, 'tier', '--older-than', '0'])).toBe(1);
    expect(seen.find(([w]) => w === 'doctor bads3 stdout')?.[1].toString()).toContain(
      'STORAGE_AUTH',
    );

    // Every file the product wrote: catalog, hot segments, disk history and reports, restore state.
    const files = filesUnder(data);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) saw(f, readFileSync(f));

    const secrets = {
      S3_SECRET,
      SASL_PASSWORD: saslPassword,
      READ_TOKEN,
      ADMIN_TOKEN,
      WRONG_S3_SECRET,
      WRONG_PASSWORD,
      WRONG_TOKEN,
    };
    const hits: string[] = [];
    for (const [name, value] of Object.entries(secrets)) {
      expect(value.length).toBeGreaterThanOrEqual(20);
      for (const form of [value, Buffer.from(value).toString('base64')]) {
        for (const [where, bytes] of seen)
          if (bytes.includes(form)) hits.push(`${name} in ${where}`);
      }
    }
    expect(hits).toEqual([]);
    const total = seen.reduce((n, [, b]) => n + b.length, 0);
    console.log(`[secrets] searched ${seen.length} outputs and files, ${total} bytes: no secret`);
  });
});
