// The restore routes of the HTTP server over the service's RestoreJobs with a stand-in restore
// engine (no Kafka): admin only, body validation naming the field, 202 then polling, 409 for a
// job that runs, 404 for an unknown one, the router's :id parameter, and a stop that aborts the
// running job (resumable). Every response is checked against the OpenAPI document.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  ArchiveError,
  createLogger,
  ErrorCodes,
  loadConfig,
  RestoreJobs,
  type SegmentSource,
} from '../../src/index.js';
import type { RestoreService } from '../../src/service/restore.js';
import { MemoryObjectStore } from '../../src/storage/index.js';
import { startServer, type ServerHandle } from '../../src/server/index.js';
import { matchRoute } from '../../src/server/routes.js';
import { parseRestoreBody } from '../../src/server/restore-body.js';
import { checkedFetch } from '../helpers/openapi.js';
import { waitFor } from '../helpers/archive.js';

const log = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'ka-server-restore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN = 'admin-token-0123456789';
const READ = 'read-token-0123456789';
const config = loadConfig({
  env: {
    KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(dir, 'hot'),
    KAFKA_ARCHIVE_RESTORE__STATE_DIR: join(dir, 'restore'),
    KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '0',
    KAFKA_ARCHIVE_SERVER__AUTH__ADMIN_TOKENS: ADMIN,
    KAFKA_ARCHIVE_SERVER__AUTH__READ_TOKENS: READ,
  },
});

/** A restore engine that starts, reports progress and then waits until it is aborted. */
function fakeService(runs: { started: number; aborted: number }): RestoreService {
  const totals = {
    partitions: 1,
    records: 10,
    recordBytes: 1000,
    segments: 1,
    segmentBytes: 2000,
    rowGroups: 1,
    rowGroupBytes: 2000,
  };
  const progress = {
    jobId: 'x',
    records: 4,
    recordBytes: 400,
    totalRecords: 10,
    totalRecordBytes: 1000,
    transactions: 1,
    partitionsDone: 0,
    partitions: 1,
    bytesRead: 100,
  };
  return {
    stateDir: join(dir, 'restore'),
    targetBrokers: ['127.0.0.1:9092'],
    catalog: null as never,
    defaults: () => ({
      append: false,
      allowGaps: false,
      dryRun: false,
      replicationFactor: null,
      bytesPerSecond: 0,
      recordsPerSecond: 0,
      concurrency: 4,
      batchBytes: 1 << 20,
      batchRecords: 1000,
      compression: 'none',
      transactionTimeoutMs: 60_000,
    }),
    async run(_req, opts, events, signal) {
      if (opts.dryRun)
        return {
          kind: 'dry-run',
          jobId: 'x',
          plan: { partitions: [], gaps: [] },
          totals,
          bytesRead: 0,
          existing: null,
        };
      runs.started++;
      events?.onStart?.({ jobId: 'x', resumed: false, totals, done: { ...progress, records: 0 } });
      events?.onProgress?.(progress);
      await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()));
      runs.aborted++;
      throw new ArchiveError(ErrorCodes.RESTORE_INTERRUPTED, 'restore interrupted');
    },
    verify: () => Promise.reject(new Error('not here')),
    translateOffsets: () => Promise.reject(new Error('not here')),
    job: () => Promise.reject(new Error('not here')),
    jobs: async () => [],
    close: async () => undefined,
  };
}

const servers: ServerHandle[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(restores: RestoreJobs): Promise<ServerHandle> {
  const s = await startServer(
    {
      archiver: {
        getStats: () => ({
          recordsArchived: 0,
          segmentsSealed: 0,
          bytesWritten: 0,
          lostRecords: 0,
          divergedPartitions: 0,
          sealFailures: 0,
          commitFailures: 0,
          pausedPartitions: 0,
          bufferedBytes: 0,
          assignedPartitions: 0,
          topics: [],
        }),
      },
      catalog: null,
      source: {} as SegmentSource,
      tierer: null,
      config,
      restores,
    },
    { ...config.server, port: 0 },
    log,
  );
  servers.push(s);
  return s;
}

const call = (s: ServerHandle, path: string, token: string, init: RequestInit = {}) =>
  checkedFetch(`${s.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
  });
const post = (s: ServerHandle, token: string, body: unknown) =>
  call(s, '/api/restores', token, { method: 'POST', body: JSON.stringify(body) });

describe('restore API', () => {
  it('body forms: JSON types become the CLI text forms; mistakes name the field', () => {
    expect(
      parseRestoreBody({
        topic: 'orders',
        partitions: [0, 2],
        from: 1000,
        startOffset: { '0': 5, '2': '9007199254740993' },
        topicMap: { orders: 'orders.replay' },
        rate: 1024,
        append: true,
      }),
    ).toEqual({
      topic: 'orders',
      partitions: '0,2',
      from: '1000',
      startOffset: '0:5,2:9007199254740993',
      topicMap: 'orders=orders.replay',
      rate: '1024',
      append: true,
    });
    const bad = (body: unknown) => {
      try {
        parseRestoreBody(body);
      } catch (err) {
        expect((err as ArchiveError).code).toBe('USAGE');
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ topic: 'a', parititons: [0] })).toMatch(
      /unknown field "parititons"; fields: topic, partitions/,
    );
    expect(bad({ topic: 'a', append: 'yes' })).toMatch(
      /^append: got a string: expected true or false/,
    );
    expect(bad({ topic: 'a', partitions: [0, -1] })).toMatch(/^partitions\[1\]: got -1/);
    expect(bad({ topic: 'a', startOffset: 2 ** 60 })).toMatch(
      /^startOffset: .*a string for offsets beyond 2\^53/,
    );
    expect(bad({ topic: 'a', targetBrokers: 'h:1' })).toMatch(/restore\.target/);
    expect(bad({ partitions: [0] })).toMatch(/^topic: missing/);
    expect(bad([])).toMatch(/expected a JSON object/);
  });

  it('the router: exact paths first, :id matches one segment', () => {
    const routes = { '/api/restores': 'list', '/api/restores/:id': 'one' };
    expect(matchRoute(routes, '/api/restores')).toEqual({
      path: '/api/restores',
      routes: 'list',
      params: {},
    });
    expect(matchRoute(routes, '/api/restores/a%2Eb')).toEqual({
      path: '/api/restores/:id',
      routes: 'one',
      params: { id: 'a.b' },
    });
    expect(matchRoute(routes, '/api/restores/')).toBeNull();
    expect(matchRoute(routes, '/api/restores/a/b')).toBeNull();
    expect(matchRoute(routes, '/api/restores/%E0')).toBeNull();
  });

  it('admin only; 400 naming the field; 202, poll, 409 while it runs; 404; stop aborts it (resumable)', async () => {
    const runs = { started: 0, aborted: 0 };
    const restores = new RestoreJobs({
      config,
      log,
      catalog: null,
      store: new MemoryObjectStore(),
      open: async () => fakeService(runs),
    });
    const s = await serve(restores);
    const body = { topic: 'orders', from: '2026-11-01T03:00:00Z', partitions: [0] };

    expect((await checkedFetch(`${s.url}/api/restores`)).status).toBe(401);
    const forbidden = await post(s, READ, body);
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(forbidden.text)).toMatchObject({ code: 'AUTH_FORBIDDEN' });
    expect((await call(s, '/api/restores', READ)).status).toBe(403);

    for (const [b, field] of [
      [{ ...body, concurrency: 0 }, /^concurrency: got "0"/],
      [{ ...body, to: '2020-01-01T00:00:00Z' }, /^to must be later than from/],
      [{ ...body, repartition: 'hash' }, /^repartition: got "hash"/],
      [{ ...body, partitions: '0-x' }, /^partitions: got "0-x"/],
      [{ ...body, rate: 'fast' }, /^rate: got "fast"/],
      [{ ...body, job: '../etc' }, /^job: got "..\/etc"/],
      [
        { ...body, targetTopic: 'x', topicMap: { orders: 'y' } },
        /give targetTopic or topicMap, not both/,
      ],
    ] as const) {
      const r = await post(s, ADMIN, b);
      expect(r.status, JSON.stringify(b)).toBe(400);
      expect(JSON.parse(r.text)).toMatchObject({
        code: 'USAGE',
        error: expect.stringMatching(field),
      });
    }
    const notJson = await call(s, '/api/restores', ADMIN, { method: 'POST', body: '{"topic":' });
    expect(JSON.parse(notJson.text)).toMatchObject({
      code: 'USAGE',
      error: expect.stringMatching(/not JSON/),
    });

    // A job another live process runs (its lock file): 409 before anything starts.
    mkdirSync(join(dir, 'restore', 'held'), { recursive: true });
    writeFileSync(join(dir, 'restore', 'held', 'lock'), `${process.pid}@${hostname()}`);
    const held = await post(s, ADMIN, { ...body, job: 'held' });
    expect(held.status).toBe(409);
    expect(JSON.parse(held.text)).toMatchObject({
      code: 'RESTORE_JOB_LOCKED',
      error: expect.stringMatching(/another process/),
    });
    expect(runs.started).toBe(0);

    const dry = await post(s, ADMIN, { ...body, dryRun: true });
    expect(dry.status).toBe(200);
    expect(JSON.parse(dry.text)).toMatchObject({ dryRun: true, totals: { records: 10 } });

    const started = await post(s, ADMIN, body);
    expect(started.status).toBe(202);
    const job = JSON.parse(started.text) as { id: string; links: { self: string } };
    expect(job.id).toMatch(/^orders-[0-9a-f]{10}$/);
    expect(started.headers.get('location')).toBe(`/api/restores/${job.id}`);
    await waitFor('the job running', async () => {
      const r = JSON.parse((await call(s, job.links.self, ADMIN)).text) as { state: string };
      return r.state === 'running';
    });
    const again = await post(s, ADMIN, body);
    expect(again.status).toBe(409);
    expect(JSON.parse(again.text)).toMatchObject({ code: 'RESTORE_JOB_LOCKED' });
    const list = JSON.parse((await call(s, '/api/restores', ADMIN)).text) as Array<{ id: string }>;
    expect(list.map((j) => j.id)).toEqual([job.id]);

    const unknown = await call(s, '/api/restores/no-such-job', ADMIN);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ code: 'RESTORE_JOB_UNKNOWN' });
    expect((await call(s, '/api/restores/..', ADMIN)).status).toBe(404);
    expect((await call(s, `/api/restores/${job.id}?x=1`, ADMIN)).status).toBe(400);
    const del = await call(s, `/api/restores/${job.id}`, ADMIN, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD');

    await restores.close();
    expect(runs).toEqual({ started: 1, aborted: 1 });
    const after = JSON.parse((await call(s, job.links.self, ADMIN)).text) as Record<
      string,
      unknown
    >;
    expect(after).toMatchObject({
      state: 'failed',
      live: false,
      resumable: true,
      error: { code: 'RESTORE_INTERRUPTED' },
    });
    const refused = await post(s, ADMIN, body);
    expect(refused.status).toBe(503);
  });
});
