// Kafka over TLS with SASL against a real broker that requires it: the test bed's SASL_SSL
// listener (scripts/kafka.sh start-secure: a test CA and broker certificate made with openssl,
// SCRAM users created at format time with --add-scram, a PLAIN user in the JAAS config). The
// archiver (the built CLI) archives over SASL_SSL with each mechanism; a wrong password and an
// untrusted certificate each give one clear error, no crash loop, and a clean stop; no log line
// holds a password. The cases run with both Kafka clients (kafka.client: kafkajs, platformatic).
// A restore into the SASL_SSL listener (restore.target with TLS and SCRAM) works with the CA
// file; without it the restore fails at once with KAFKA_TLS_FAILED and exit code 1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createKafkajsClient,
  createLogger,
  loadConfig,
  type KafkaClient,
} from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';
import { cliBuilt } from '../helpers/cli.js';
import {
  logTail,
  metricOf,
  serverUrl,
  spawnArchiver,
  stopProcess,
  type ArchiverProcess,
} from '../helpers/process.js';

const kafkaInfo = inject('kafka');
const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), `ka-secure-${kafkaInfo.version}-`));
const brokerDir = join(dir, 'broker');
let plaintext = '';
let secure = '';
let users: Record<string, string> = {};
let client: KafkaClient;
const allLogs: string[] = [];

beforeAll(() => {
  const out = execFileSync(
    'bash',
    [join(ROOT, 'scripts/kafka.sh'), 'start-secure', kafkaInfo.version, brokerDir],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 180_000,
    },
  );
  [plaintext, secure] = (out.trim().split('\n').pop() as string).split(' ') as [string, string];
  users = Object.fromEntries(
    readFileSync(join(brokerDir, 'users.env'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  // Topics are made over the broker's plaintext listener (the test's own admin).
  client = createKafkajsClient(
    { ...loadConfig({ env: {} }).kafka, brokers: [plaintext] },
    createLogger({ level: 'silent' }),
  );
}, 200_000);

afterAll(() => {
  execFileSync('bash', [join(ROOT, 'scripts/kafka.sh'), 'stop', brokerDir]);
  // Secrets never reach a log line of any run in this file.
  const text = allLogs.join('\n');
  expect(text.length).toBeGreaterThan(0);
  for (const k of ['PLAIN_PASSWORD', 'SCRAM_SHA_256_PASSWORD', 'SCRAM_SHA_512_PASSWORD'])
    expect(text).not.toContain(users[k]);
  rmSync(dir, { recursive: true, force: true });
});

function archiverEnv(name: string, over: Record<string, string>): Record<string, string> {
  return {
    KAFKA_ARCHIVE_DATA_DIR: join(dir, name),
    KAFKA_ARCHIVE_KAFKA__BROKERS: secure,
    KAFKA_ARCHIVE_KAFKA__SSL: 'true',
    KAFKA_ARCHIVE_KAFKA__TLS__CA_FILE: users.CA_FILE as string,
    KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${name}`,
    KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '500',
    KAFKA_ARCHIVE_TIERING__ENABLED: 'false',
    KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
    KAFKA_ARCHIVE_SERVER__PORT: '0',
    ...over,
  };
}

async function readyz(p: ArchiverProcess): Promise<{ status: number; reason: string } | null> {
  const url = serverUrl(p);
  if (url === null) return null;
  const r = await fetch(`${url}/readyz`).catch(() => null);
  if (r === null) return null;
  const body = (await r.json()) as { reason?: string };
  return { reason: body.reason ?? '', status: r.status };
}

async function finish(p: ArchiverProcess): Promise<void> {
  const code = await stopProcess(p);
  allLogs.push(...p.logs.map((l) => JSON.stringify(l)));
  expect(code, logTail(p)).toBe(0);
}

const MECHANISMS = [
  ['plain', 'PLAIN'],
  ['scram-sha-256', 'SCRAM_SHA_256'],
  ['scram-sha-512', 'SCRAM_SHA_512'],
] as const;

const CLIENTS = ['kafkajs', 'platformatic'] as const;
/** A topic archived over SASL_SSL (SCRAM-SHA-512, kafkajs) and the data dir holding it. */
let archived: { topic: string; name: string } | null = null;

describe.each(CLIENTS)(
  `Kafka ${kafkaInfo.version} over SASL_SSL with the %s client`,
  (kafkaClient) => {
    for (const [mechanism, key] of MECHANISMS) {
      it(`archives over SASL_SSL with ${mechanism}`, async () => {
        const name = `${kafkaClient}-${mechanism}`;
        const topic = `sec-${name}-${Math.random().toString(36).slice(2, 7)}`;
        const admin = await client.admin();
        await admin.createTopics([{ name: topic, partitions: 2 }]);
        const producer = await client.producer();
        await producer.send(
          topic,
          Array.from({ length: 100 }, (_, i) => ({
            partition: i % 2,
            key: null,
            value: Buffer.from(`r${i}`),
          })),
        );
        await producer.disconnect();
        await admin.disconnect();
        const p = spawnArchiver(
          ['run'],
          archiverEnv(name, {
            KAFKA_ARCHIVE_KAFKA__CLIENT: kafkaClient,
            KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
            KAFKA_ARCHIVE_KAFKA__SASL__MECHANISM: mechanism,
            KAFKA_ARCHIVE_KAFKA__SASL__USERNAME: users[`${key}_USER`] as string,
            KAFKA_ARCHIVE_KAFKA__SASL__PASSWORD: users[`${key}_PASSWORD`] as string,
          }),
        );
        try {
          await waitFor('100 records archived over SASL_SSL', async () => {
            if (!p.isRunning()) throw new Error(`exited:\n${logTail(p)}`);
            return ((await metricOf(p, 'records_archived_total')) ?? 0) >= 100;
          });
          expect((await readyz(p))?.status).toBe(200);
        } finally {
          await finish(p);
        }
        if (kafkaClient === 'kafkajs' && mechanism === 'scram-sha-512') archived = { topic, name };
        // No error lines, and nothing about credentials or certificates (a fresh broker may still
        // say its group coordinator is loading).
        expect(p.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
        expect(
          p.logs.filter(
            (l) => l.code === 'KAFKA_AUTHENTICATION_FAILED' || l.code === 'KAFKA_TLS_FAILED',
          ),
        ).toEqual([]);
      });
    }

    async function refused(name: string, over: Record<string, string>) {
      const p = spawnArchiver(
        ['run'],
        archiverEnv(`${kafkaClient}-${name}`, {
          KAFKA_ARCHIVE_KAFKA__CLIENT: kafkaClient,
          KAFKA_ARCHIVE_ARCHIVER__TOPICS: 'any',
          KAFKA_ARCHIVE_KAFKA__SASL__MECHANISM: 'scram-sha-512',
          KAFKA_ARCHIVE_KAFKA__SASL__USERNAME: users.SCRAM_SHA_512_USER as string,
          KAFKA_ARCHIVE_KAFKA__SASL__PASSWORD: users.SCRAM_SHA_512_PASSWORD as string,
          ...over,
        }),
      );
      let reason = '';
      try {
        // Three failed attempts (back-off ~1 s, 2 s): the process stays up and not ready.
        await waitFor(
          'three failed attempts',
          async () => {
            if (!p.isRunning()) throw new Error(`exited:\n${logTail(p)}`);
            const r = await readyz(p);
            if (r === null) return false;
            expect(r.status).toBe(503);
            reason = r.reason;
            const m = /\((\d+) failed attempts/.exec(reason);
            return m !== null && Number(m[1]) >= 3;
          },
          60_000,
          100,
        );
      } finally {
        await finish(p);
      }
      const archiverWarnings = p.logs.filter(
        (l) => l.component === 'archiver' && (l.level as number) >= 40,
      );
      expect(archiverWarnings, logTail(p)).toHaveLength(1); // one clear error, not one per attempt
      expect(p.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
      expect(p.logs.filter((l) => 'stack' in l)).toEqual([]);
      return { reason, warning: archiverWarnings[0] as Record<string, unknown> };
    }

    it('a wrong password: KAFKA_AUTHENTICATION_FAILED once, stays up not ready, stops cleanly', async () => {
      const { reason, warning } = await refused('badpw', {
        KAFKA_ARCHIVE_KAFKA__SASL__PASSWORD: 'not-the-password',
      });
      expect(warning.code).toBe('KAFKA_AUTHENTICATION_FAILED');
      expect(reason).toMatch(
        /^cannot use Kafka: \[KAFKA_AUTHENTICATION_FAILED\] Kafka at 127\.0\.0\.1:\d+ refused the SASL credentials: .*SCRAM.*check kafka\.sasl\.mechanism, username and password/,
      );
    });

    it('an untrusted broker certificate: KAFKA_TLS_FAILED once, stays up not ready, stops cleanly', async () => {
      const { reason, warning } = await refused('untrusted', {
        KAFKA_ARCHIVE_KAFKA__TLS__CA_FILE: users.OTHER_CA_FILE as string,
      });
      expect(warning.code).toBe('KAFKA_TLS_FAILED');
      expect(reason).toMatch(
        /^cannot use Kafka: \[KAFKA_TLS_FAILED\] TLS to Kafka at 127\.0\.0\.1:\d+ failed: .*certificate.*set kafka\.tls\.caFile/,
      );
    });
  },
);

describe(`restore into Kafka ${kafkaInfo.version} over SASL_SSL (restore.target.tls)`, () => {
  function targetEnv(name: string, over: Record<string, string>): Record<string, string> {
    return {
      // The archive made above; the source cluster is the plaintext listener.
      KAFKA_ARCHIVE_DATA_DIR: join(dir, name),
      KAFKA_ARCHIVE_KAFKA__BROKERS: plaintext,
      KAFKA_ARCHIVE_RESTORE__TARGET__BROKERS: secure,
      KAFKA_ARCHIVE_RESTORE__TARGET__SSL: 'true',
      KAFKA_ARCHIVE_RESTORE__TARGET__SASL__MECHANISM: 'scram-sha-256',
      KAFKA_ARCHIVE_RESTORE__TARGET__SASL__USERNAME: users.SCRAM_SHA_256_USER as string,
      KAFKA_ARCHIVE_RESTORE__TARGET__SASL__PASSWORD: users.SCRAM_SHA_256_PASSWORD as string,
      ...over,
    };
  }

  it('with restore.target.tls.caFile: restores and verifies over SASL_SSL', async () => {
    expect(archived, 'the kafkajs scram-sha-512 archive above').not.toBeNull();
    const { topic, name } = archived as { topic: string; name: string };
    const r = await cliBuilt(
      ['--json', 'restore', topic, '--verify', '--no-progress'],
      targetEnv(name, { KAFKA_ARCHIVE_RESTORE__TARGET__TLS__CA_FILE: users.CA_FILE as string }),
    );
    allLogs.push(r.stdout, r.stderr);
    expect(r.stderr).not.toContain('kafka-archive:');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { verify: { ok: boolean; targetRecords: number } };
    expect(out.verify).toMatchObject({ ok: true, targetRecords: 100 });
    // The topic is on the cluster (seen over its plaintext listener): 100 records and one
    // transaction marker per partition and transaction.
    const admin = await client.admin();
    expect((await admin.partitionCounts([`${topic}.restored`])).get(`${topic}.restored`)).toBe(2);
    const offsets = await admin.offsets(`${topic}.restored`);
    await admin.disconnect();
    expect([...offsets.values()].reduce((n, o) => n + Number(o.high - o.low), 0)).toBeGreaterThan(
      100,
    );
  });

  it('without the CA: KAFKA_TLS_FAILED naming restore.target, exit 1, at once, no stack trace', async () => {
    expect(archived).not.toBeNull();
    const { topic, name } = archived as { topic: string; name: string };
    const t0 = Date.now();
    const r = await cliBuilt(
      ['restore', topic, '--target-topic', `${topic}.again`, '--no-progress'],
      targetEnv(name, {}),
    );
    allLogs.push(r.stdout, r.stderr);
    expect(r.code).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('kafka-archive:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^kafka-archive: \[KAFKA_TLS_FAILED\] TLS to Kafka at 127\.0\.0\.1:\d+ failed: .*certificate.*set restore\.target\.tls\.caFile/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});
