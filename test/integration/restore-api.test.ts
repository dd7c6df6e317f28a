// Restore jobs over the HTTP API against a real broker and a real S3 server: the service
// archives a topic (tiered to S3) and serves the API with admin and read tokens; a restore is
// posted (a read token gets 403), polled until done, and the target read back by the official
// Java client, byte for byte; bad bodies are 400 naming the field, an unknown job 404. A stop
// during a rate-limited job aborts it; the next service resumes it from the same request, and
// the target holds every record exactly once. Every response is checked against the OpenAPI
// document.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createArchiverService,
  createKafkajsClient,
  createLogger,
  loadConfig,
  type Admin,
  type ArchiverService,
  type ProduceRecord,
} from '../../src/index.js';
import { startServer, type ServerHandle } from '../../src/server/index.js';
import { waitFor } from '../helpers/archive.js';
import { readWithJava } from '../helpers/java-reader.js';
import { checkedFetch } from '../helpers/openapi.js';

const kafkaInfo = inject('kafka');
const s3 = inject('s3');
const log = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });
const root = mkdtempSync(join(tmpdir(), 'ka-restore-api-'));
const brokers = kafkaInfo.brokers.join(',');
const topic = `rapi-${Math.random().toString(36).slice(2, 8)}`;
const PARTITIONS = 3;
const PER_PARTITION = 40;
const T0 = 1_790_000_000_000n; // long ago: tiered to S3
const ADMIN = randomBytes(24).toString('hex');
const READ = randomBytes(24).toString('hex');

const env = {
  KAFKA_ARCHIVE_KAFKA__BROKERS: brokers,
  KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(root, 'hot'),
  KAFKA_ARCHIVE_CATALOG__DIR: join(root, 'catalog'),
  KAFKA_ARCHIVE_RESTORE__STATE_DIR: join(root, 'restore'),
  KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
  KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
  KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '500',
  KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS: '20',
  KAFKA_ARCHIVE_STORAGE__TYPE: 's3',
  KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: s3.endpoint,
  KAFKA_ARCHIVE_STORAGE__S3__BUCKET: s3.bucket,
  KAFKA_ARCHIVE_STORAGE__S3__PREFIX: `restore-api-${topic}/`,
  KAFKA_ARCHIVE_STORAGE__S3__ACCESS_KEY_ID: s3.accessKeyId,
  KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: s3.secretAccessKey,
  KAFKA_ARCHIVE_TIERING__MIN_AGE_MS: '1d',
  KAFKA_ARCHIVE_TIERING__INTERVAL_MS: '300',
  KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
  KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '0',
  KAFKA_ARCHIVE_SERVER__AUTH__ADMIN_TOKENS: ADMIN,
  KAFKA_ARCHIVE_SERVER__AUTH__READ_TOKENS: READ,
};
const config = loadConfig({ env });

let admin: Admin;
let service: ArchiverService | null = null;
let server: ServerHandle | null = null;
const produced = new Map<number, ProduceRecord[]>();

/** The service and its server, as `kafka-archive run` starts them (port 0). */
async function startService(): Promise<void> {
  service = await createArchiverService(config, log);
  server = await startServer({ ...service, config }, { ...config.server, port: 0 }, log);
  await service.start();
}

/** As `run` stops: the server, then the service (which aborts running restore jobs). */
async function stopService(): Promise<void> {
  await server?.close();
  await service?.close();
  server = null;
  service = null;
}

afterAll(async () => {
  await stopService();
  await admin?.disconnect();
  rmSync(root, { recursive: true, force: true });
});

function call(path: string, token: string, init: RequestInit = {}) {
  return checkedFetch(`${server!.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
  });
}
const post = (token: string, body: unknown) =>
  call('/api/restores', token, { method: 'POST', body: JSON.stringify(body) });

interface Job {
  id: string;
  state: string;
  live: boolean;
  resumable: boolean;
  error: { code: string; message: string } | null;
  progress: { records: number; totalRecords: number; partitionsDone: number };
  partitions: Array<{ partition: number; records: number; totalRecords: number; done: boolean }>;
  verify: { ok: boolean } | null;
  links: { self: string };
}

async function poll(id: string, until: (j: Job) => boolean, what: string): Promise<Job> {
  let last: Job | null = null;
  await waitFor(
    what,
    async () => {
      const r = await call(`/api/restores/${id}`, ADMIN);
      expect(r.status).toBe(200);
      last = JSON.parse(r.text) as Job;
      return until(last);
    },
    120_000,
    200,
  );
  return last as unknown as Job;
}

const hex = (b: Buffer | null | undefined) => (b == null ? null : b.toString('hex'));
const shape = (r: {
  partition?: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Array<{ key: string; value: Buffer | null }>;
  timestamp?: bigint;
}) => ({
  partition: r.partition,
  key: hex(r.key),
  value: hex(r.value),
  headers: (r.headers ?? []).map((h) => [h.key, hex(h.value)]),
  timestamp: r.timestamp,
});

describe(`restore API on Kafka ${kafkaInfo.version}`, () => {
  beforeAll(async () => {
    const client = createKafkajsClient({ ...config.kafka, brokers: kafkaInfo.brokers }, log);
    admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: PARTITIONS }]);
    const producer = await client.producer();
    for (let p = 0; p < PARTITIONS; p++) {
      const records: ProduceRecord[] = Array.from({ length: PER_PARTITION }, (_, i) => ({
        partition: p,
        key: i % 7 === 0 ? null : Buffer.from([p, i, 0xff, 0x00]),
        value: i % 11 === 3 ? null : Buffer.from(`v${p}/${i} ${'ü'.repeat(i)}`),
        headers:
          i % 3 === 0
            ? []
            : [
                { key: 'h', value: Buffer.from([i]) },
                { key: 'h', value: null },
              ],
        timestamp: T0 + BigInt(i) * 1000n,
      }));
      await producer.send(topic, records);
      produced.set(p, records);
    }
    await producer.disconnect();
    await startService();
    await waitFor(
      'every record archived, the segments tiered to S3',
      () => {
        const entries = [...(service!.catalog?.entries() ?? [])];
        return (
          entries.reduce((n, e) => n + e.recordCount, 0) === PARTITIONS * PER_PARTITION &&
          entries.every((e) => e.cold)
        );
      },
      90_000,
    );
  });

  it('read token 403, admin 202, polled until done, target byte-exact; 400 naming the field; 404', async () => {
    const target = `${topic}.api`;
    const body = {
      topic,
      from: new Date(Number(T0 + 5_000n)).toISOString(),
      targetTopic: target,
      verify: true,
    };
    const forbidden = await post(READ, body);
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(forbidden.text)).toMatchObject({ code: 'AUTH_FORBIDDEN' });

    const bad = await post(ADMIN, { ...body, partitions: [0, 'one'] });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({
      code: 'USAGE',
      error: expect.stringMatching(/^partitions\[1\]: /),
    });
    const typo = await post(ADMIN, { ...body, endOfset: 10 });
    expect(typo.status).toBe(400);
    expect(JSON.parse(typo.text).error).toMatch(/unknown field "endOfset"/);
    const unknownTopic = await post(ADMIN, { ...body, topic: 'no-such-topic', dryRun: true });
    expect(unknownTopic.status).toBe(404);

    const dry = await post(ADMIN, { ...body, dryRun: true });
    expect(dry.status).toBe(200);
    const want = PARTITIONS * (PER_PARTITION - 5);
    expect(JSON.parse(dry.text)).toMatchObject({ dryRun: true, totals: { records: want } });

    const started = await post(ADMIN, body);
    expect(started.status).toBe(202);
    const { id, links } = JSON.parse(started.text) as Job;
    expect(links.self).toBe(`/api/restores/${id}`);
    const done = await poll(id, (j) => j.state === 'done' || j.state === 'failed', 'job ended');
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ state: 'done', live: false, verify: { ok: true } });
    expect(done.progress).toMatchObject({ records: want, totalRecords: want });
    expect(done.partitions.map((p) => [p.partition, p.records, p.done])).toEqual(
      Array.from({ length: PARTITIONS }, (_, p) => [p, PER_PARTITION - 5, true]),
    );

    const got = await readWithJava(brokers, target, kafkaInfo.version);
    const expected = [...produced.values()].flatMap((l) => l.slice(5));
    expect(got.map(shape)).toEqual(expected.map(shape));

    const list = JSON.parse((await call('/api/restores', ADMIN)).text) as Job[];
    expect(list.map((j) => j.id)).toContain(id);
    expect((await call('/api/restores', READ)).status).toBe(403);
    const unknown = await call('/api/restores/no-such-job', ADMIN);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ code: 'RESTORE_JOB_UNKNOWN' });
  });

  it('a stop aborts a running job (resumable); the same request on the next service resumes it: exactly once', async () => {
    const target = `${topic}.resume`;
    const body = { topic, targetTopic: target, rateRecords: 30, batchRecords: 5, concurrency: 1 };
    const started = await post(ADMIN, body);
    expect(started.status).toBe(202);
    const { id } = JSON.parse(started.text) as Job;
    const running = await poll(id, (j) => j.progress.records >= 20, 'some records restored');
    expect(running).toMatchObject({ state: 'running', live: true });
    const again = await post(ADMIN, body);
    expect(again.status).toBe(409);
    expect(JSON.parse(again.text)).toMatchObject({ code: 'RESTORE_JOB_LOCKED' });

    await stopService();
    await startService();
    const stopped = JSON.parse((await call(`/api/restores/${id}`, ADMIN)).text) as Job;
    expect(stopped).toMatchObject({
      state: 'failed',
      live: false,
      resumable: true,
      error: { code: 'RESTORE_INTERRUPTED' },
    });
    expect(stopped.progress.records).toBeLessThan(PARTITIONS * PER_PARTITION);

    const resumed = await post(ADMIN, { ...body, rateRecords: 0 });
    expect(resumed.status).toBe(202);
    expect(JSON.parse(resumed.text)).toMatchObject({ id });
    const done = await poll(id, (j) => j.state === 'done' || j.state === 'failed', 'job ended');
    expect(done).toMatchObject({ state: 'done', error: null });
    expect(done.progress.records).toBe(PARTITIONS * PER_PARTITION);

    const got = await readWithJava(brokers, target, kafkaInfo.version);
    expect(got.map(shape)).toEqual([...produced.values()].flat().map(shape));
  });
});
