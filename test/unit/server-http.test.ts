// The HTTP server with stand-in service parts (no Kafka): routes, status codes, metrics read on
// scrape, disk gauges that survive unmeasurable volumes, listen errors and closing.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  Catalog,
  createLogger,
  loadConfig,
  redactConfig,
  type ArchiverStats,
  type CatalogEntry,
  type SegmentSource,
} from '../../src/index.js';
import type { VolumeSample } from '../../src/disk/index.js';
import {
  startServer,
  VolumeSampler,
  type ServerDeps,
  type ServerHandle,
} from '../../src/server/index.js';
import { checkedFetch } from '../helpers/openapi.js';

const log = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'ka-server-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hotDir = join(dir, 'hot');
mkdirSync(hotDir, { recursive: true });
writeFileSync(join(hotDir, 'some-file'), Buffer.alloc(10_000, 1));
const config = loadConfig({
  env: {
    KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: hotDir,
    KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '0',
  },
});

const source = {} as SegmentSource; // the routes below never open a segment

function stats(over: Partial<ArchiverStats> = {}): ArchiverStats {
  return {
    recordsArchived: 1234,
    segmentsSealed: 5,
    bytesWritten: 99_999,
    sealFailures: 2,
    commitFailures: 1,
    lostRecords: 0,
    divergedPartitions: 0,
    pausedPartitions: 0,
    bufferedBytes: 4096,
    assignedPartitions: 3,
    topics: ['t'],
    ...over,
  };
}

function entry(partition: number, first: bigint, last: bigint, cold = false): CatalogEntry {
  return {
    topic: 'orders',
    partition,
    firstOffset: first,
    lastOffset: last,
    rangeStart: first,
    rangeEnd: last,
    minTimestamp: 1000n + first,
    maxTimestamp: 1000n + last,
    recordCount: Number(last - first + 1n),
    bytes: 500,
    sha256: 'x',
    hot: !cold,
    cold,
  };
}

const servers: ServerHandle[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(
  over: Partial<ServerDeps> = {},
  serverConfig: ServerDeps['config']['server'] = { ...config.server, port: 0 },
): Promise<ServerHandle> {
  const s = await startServer(
    {
      archiver: { getStats: () => stats() },
      catalog: null,
      source,
      tierer: null,
      config,
      ...over,
    },
    serverConfig,
    log,
  );
  servers.push(s);
  return s;
}

/** Every response of these tests is checked against the OpenAPI document. */
async function get(s: ServerHandle, path: string, init?: RequestInit) {
  return checkedFetch(`${s.url}${path}`, init);
}

const value = (text: string, name: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(`${name} `))
      ?.slice(name.length + 1),
  );

describe('HTTP server', () => {
  it('health, readiness as the archiver changes, unknown routes and methods', async () => {
    let current = stats({ topics: [] });
    const s = await start({ archiver: { getStats: () => current } });
    expect(await get(s, '/healthz')).toMatchObject({ status: 200, text: '{"status":"ok"}\n' });
    const before = await get(s, '/readyz');
    expect(before.status).toBe(503);
    expect(JSON.parse(before.text)).toMatchObject({ status: 'not ready', topics: 0 });
    current = stats();
    expect(JSON.parse((await get(s, '/readyz')).text)).toEqual({
      status: 'ready',
      topics: 1,
      assignedPartitions: 3,
      pausedPartitions: 0,
    });
    const missing = await get(s, '/health');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toMatchObject({ code: 'NOT_FOUND' });
    const post = await get(s, '/api/offsets?topic=x', { method: 'DELETE' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('metrics are read on scrape: archiver, tiering, catalog, disk, Node defaults', async () => {
    let current = stats();
    const totals = {
      uploaded: 4,
      adopted: 1,
      evicted: 3,
      bytes: 2000,
      failedRounds: 2,
      duplicates: 0,
      trimmed: 0,
      overlaps: 0,
    };
    const tierer = { totals, failures: 1, runOnce: () => Promise.reject(new Error('unused')) };
    const catalog = Catalog.memory();
    await catalog.put(entry(0, 0n, 9n));
    await catalog.put(entry(1, 0n, 4n, true));
    const groups = {
      stats: { rounds: 3, written: 2, failures: 1, lastWrittenAtMs: 1_700_000_000_500 },
    };
    const s = await start({ archiver: { getStats: () => current }, tierer, catalog, groups });
    let m = (await get(s, '/metrics')).text;
    expect(value(m, 'kafka_archive_group_snapshots_written_total')).toBe(2);
    expect(value(m, 'kafka_archive_group_snapshot_failures_total')).toBe(1);
    expect(value(m, 'kafka_archive_group_snapshot_last_written_timestamp_seconds')).toBe(
      1_700_000_000.5,
    );
    expect(value(m, 'kafka_archive_records_archived_total')).toBe(1234);
    expect(value(m, 'kafka_archive_segments_sealed_total')).toBe(5);
    expect(value(m, 'kafka_archive_segment_bytes_written_total')).toBe(99_999);
    expect(value(m, 'kafka_archive_seal_failures_total')).toBe(2);
    expect(value(m, 'kafka_archive_commit_failures_total')).toBe(1);
    expect(value(m, 'kafka_archive_buffered_bytes')).toBe(4096);
    expect(value(m, 'kafka_archive_assigned_partitions')).toBe(3);
    expect(value(m, 'kafka_archive_ready')).toBe(1);
    expect(value(m, 'kafka_archive_tiering_segments_uploaded_total')).toBe(4);
    expect(value(m, 'kafka_archive_tiering_segments_adopted_total')).toBe(1);
    expect(value(m, 'kafka_archive_tiering_segments_evicted_total')).toBe(3);
    expect(value(m, 'kafka_archive_tiering_bytes_total')).toBe(2000);
    expect(value(m, 'kafka_archive_tiering_failed_rounds_total')).toBe(2);
    expect(value(m, 'kafka_archive_tiering_consecutive_failures')).toBe(1);
    expect(value(m, 'kafka_archive_catalog_segments')).toBe(2);
    expect(value(m, 'kafka_archive_catalog_records')).toBe(15);
    expect(value(m, 'kafka_archive_catalog_bytes')).toBe(1000);
    expect(value(m, 'kafka_archive_catalog_tier_bytes{tier="hot"}')).toBe(500);
    expect(value(m, 'kafka_archive_catalog_tier_bytes{tier="cold"}')).toBe(500);
    const hot = '{volume="hot",kind="hot"}';
    expect(value(m, `kafka_archive_volume_apparent_bytes${hot}`)).toBe(10_000);
    expect(value(m, `kafka_archive_volume_allocated_bytes${hot}`)).toBeGreaterThan(0);
    expect(value(m, `kafka_archive_volume_size_bytes${hot}`)).toBeGreaterThan(0);
    expect(value(m, `kafka_archive_volume_watermark_state${hot}`)).toBeGreaterThanOrEqual(0);
    expect(value(m, `kafka_archive_volume_reserves_total${hot}`)).toBe(0);
    expect(m).toContain('kafka_archive_process_resident_memory_bytes');

    // Counters follow the service's running totals between scrapes.
    current = stats({
      recordsArchived: 2000,
      pausedPartitions: 2,
      topics: [],
      lostRecords: 50,
      lostRecordsByPartition: [{ topic: 't', partition: 3, records: 50 }],
    });
    totals.uploaded = 6;
    tierer.failures = 0;
    await catalog.put(entry(1, 5n, 9n));
    await new Promise((r) => setTimeout(r, 600)); // past the per-scrape memo
    m = (await get(s, '/metrics')).text;
    expect(value(m, 'kafka_archive_records_archived_total')).toBe(2000);
    expect(value(m, 'kafka_archive_paused_partitions')).toBe(2);
    expect(value(m, 'kafka_archive_lost_records_total{topic="t",partition="3"}')).toBe(50);
    expect(value(m, 'kafka_archive_ready')).toBe(0);
    expect(value(m, 'kafka_archive_tiering_segments_uploaded_total')).toBe(6);
    expect(value(m, 'kafka_archive_tiering_consecutive_failures')).toBe(0);
    expect(value(m, 'kafka_archive_catalog_segments')).toBe(3);
    expect(m).toMatch(/kafka_archive_http_requests_total\{route="\/metrics",status="200"\} 1/);
  });

  it('without a catalog or tierer: those metrics say so, the API answers 503', async () => {
    const s = await start();
    const m = (await get(s, '/metrics')).text;
    expect(value(m, 'kafka_archive_catalog_writer')).toBe(0);
    expect(value(m, 'kafka_archive_tiering_enabled')).toBe(0);
    expect(m).not.toContain('kafka_archive_catalog_segments');
    expect(m).not.toContain('kafka_archive_tiering_segments_uploaded_total');
    expect(m).not.toContain('kafka_archive_group_snapshots_written_total');
    const r = await get(s, '/api/offsets?topic=orders');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text)).toMatchObject({ code: 'CATALOG_LOCKED' });
  });

  it('/api/offsets reads the live catalog; errors are JSON with a code', async () => {
    const catalog = Catalog.memory();
    await catalog.put(entry(0, 0n, 9n));
    await catalog.put(entry(0, 20n, 29n, true));
    const s = await start({ catalog });
    const r = await get(s, '/api/offsets?topic=ord.*');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(JSON.parse(r.text)).toEqual([
      expect.objectContaining({
        topic: 'orders',
        partition: 0,
        segments: 2,
        records: 20,
        firstOffset: '0',
        lastOffset: '29',
        gaps: [{ from: '10', to: '19' }],
        tiers: ['cold', 'hot'],
      }),
    ]);
    await catalog.put(entry(1, 0n, 0n)); // the live catalog, not a copy
    expect(JSON.parse((await get(s, '/api/offsets?topic=orders')).text)).toHaveLength(2);
    const unknown = await get(s, '/api/offsets?topic=nope');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toEqual({
      error: 'no archived topic matches "nope"; archived topics: orders',
      code: 'ARCHIVE_TOPIC_UNKNOWN',
    });
    const bad = await get(s, '/api/read?topic=orders&partition=x&offset=0');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ code: 'USAGE' });
    const beyond = await get(s, '/api/read?topic=orders&partition=0&offset=100');
    expect(beyond.status).toBe(404);
    expect(JSON.parse(beyond.text).error).toContain('archived offsets are 0..29');
  });

  it("disk gauges: the monitor's watermark state, and no failure when a volume is unreadable", async () => {
    const flood = { name: 'hot', state: 'flood' } as VolumeSample;
    const s = await start({ monitor: { last: [flood] } });
    const m = (await get(s, '/metrics')).text;
    expect(value(m, 'kafka_archive_volume_watermark_state{volume="hot",kind="hot"}')).toBe(3);
    expect(value(m, 'kafka_archive_volume_apparent_bytes{volume="hot",kind="hot"}')).toBe(10_000);

    const broken = loadConfig({
      env: {
        KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: hotDir,
        KAFKA_ARCHIVE_DISK__KAFKA__SERVER_PROPERTIES: join(dir, 'missing.properties'),
      },
    });
    const b = await start({ config: broken });
    const r = await get(b, '/metrics');
    expect(r.status).toBe(200);
    expect(value(r.text, 'kafka_archive_volume_sample_failures_total')).toBe(1);
    expect(r.text).not.toContain('kafka_archive_volume_size_bytes{');
    expect(value(r.text, 'kafka_archive_records_archived_total')).toBe(1234);
  });

  it('volume samples are shared by concurrent scrapes and reused briefly', async () => {
    let now = 0;
    const sampler = new VolumeSampler({ config, log, now: () => now, maxAgeMs: 1000 });
    const [a, b] = [sampler.samples(), sampler.samples()];
    expect(a).toBe(b);
    const first = await a;
    expect(first.map((v) => v.name)).toEqual(['hot']);
    now = 500;
    expect(await sampler.samples()).toBe(first);
    now = 1500;
    expect(await sampler.samples()).not.toBe(first);
  });

  it('a port in use is a clear configuration error; close stops serving', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(
        startServer(
          { archiver: { getStats: () => stats() }, catalog: null, source, tierer: null, config },
          { ...config.server, port },
          log,
        ),
      ).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(
          new RegExp(
            `^server: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\(EADDRINUSE\\); set server\\.port`,
          ),
        ),
      });
    } finally {
      blocker.close();
    }
    const s = await start();
    // A keep-alive connection does not hold close() up.
    expect((await get(s, '/healthz')).status).toBe(200);
    await s.close();
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
    await s.close(); // idempotent
  });

  it('bearer tokens: open health, 401 without or with a bad token, 403 for read on admin, roles', async () => {
    const READ = 'r'.repeat(20) + '-read-token';
    const ADMIN = 'a'.repeat(20) + '-admin-token';
    const rounds: unknown[] = [];
    const tierer = {
      totals: {
        uploaded: 0,
        adopted: 0,
        evicted: 0,
        bytes: 0,
        failedRounds: 0,
        duplicates: 0,
        trimmed: 0,
        overlaps: 0,
      },
      failures: 0,
      runOnce: async (f: unknown) => {
        rounds.push(f);
        return {
          uploaded: 1,
          adopted: 0,
          evicted: 1,
          bytes: 10,
          evictedBytes: 10,
          conflicts: [],
          duplicates: 0,
          trimmed: 0,
          deferred: 0,
          seconds: 0.1,
        };
      },
    };
    const lines: string[] = [];
    const s = await startServer(
      { archiver: { getStats: () => stats() }, catalog: Catalog.memory(), source, tierer, config },
      {
        ...config.server,
        port: 0,
        auth: { readTokens: [READ], adminTokens: [ADMIN], openMetrics: false },
      },
      createLogger({
        level: 'debug',
        destination: new Writable({
          write(c: Buffer, _e, done) {
            lines.push(c.toString());
            done();
          },
        }),
      }),
    );
    servers.push(s);
    const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    expect((await get(s, '/healthz')).status).toBe(200);
    expect((await get(s, '/readyz')).status).toBe(200);
    expect((await get(s, '/openapi.json')).status).toBe(200);
    for (const path of ['/metrics', '/api/offsets?topic=x', '/api/disk/report']) {
      const none = await get(s, path);
      expect([path, none.status, JSON.parse(none.text).code]).toEqual([path, 401, 'AUTH_REQUIRED']);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="kafka-archive"');
      const bad = await get(s, path, as(`${READ}x`));
      expect([bad.status, JSON.parse(bad.text).code]).toEqual([401, 'AUTH_INVALID_TOKEN']);
      expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
    const basic = await get(s, '/metrics', { headers: { authorization: 'Basic dXNlcjpwdw==' } });
    expect([basic.status, JSON.parse(basic.text).code]).toEqual([401, 'AUTH_INVALID_TOKEN']);
    // A read token reads; an admin token does everything.
    expect((await get(s, '/metrics', as(READ))).status).toBe(200);
    expect((await get(s, '/api/offsets?topic=x', as(READ))).status).toBe(404);
    expect((await get(s, '/metrics', as(ADMIN))).status).toBe(200);
    // POST /api/tier: admin only.
    const forbidden = await get(s, '/api/tier', { method: 'POST', ...as(READ) });
    expect([forbidden.status, JSON.parse(forbidden.text).code]).toEqual([403, 'AUTH_FORBIDDEN']);
    expect(rounds).toEqual([]);
    const tiered = await get(s, '/api/tier?topic=orders&olderThan=0', {
      method: 'POST',
      ...as(ADMIN),
    });
    expect(tiered.status).toBe(200);
    expect(rounds).toEqual([{ topic: 'orders', olderThanMs: 0 }]);
    const badAge = await get(s, '/api/tier?olderThan=soon', { method: 'POST', ...as(ADMIN) });
    expect([badAge.status, JSON.parse(badAge.text).code]).toEqual([400, 'USAGE']);
    const getTier = await get(s, '/api/tier', as(ADMIN));
    expect([getTier.status, getTier.headers.get('allow')]).toEqual([405, 'POST']);
    // Tokens never reach the log or the metrics.
    const metrics = (await get(s, '/metrics', as(READ))).text;
    for (const text of [lines.join(''), metrics]) {
      expect(text).not.toContain(READ);
      expect(text).not.toContain(ADMIN);
    }
  });

  it('server.auth.openMetrics: /metrics needs a read token unless it is true; nothing else opens', async () => {
    const READ = 'm'.repeat(20) + '-read-token';
    const ADMIN = 'n'.repeat(20) + '-admin-token';
    const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    for (const open of ['false', 'true', undefined]) {
      const cfg = loadConfig({
        env: {
          KAFKA_ARCHIVE_SERVER__PORT: '0',
          KAFKA_ARCHIVE_SERVER__AUTH__READ_TOKENS: READ,
          KAFKA_ARCHIVE_SERVER__AUTH__ADMIN_TOKENS: ADMIN,
          ...(open !== undefined ? { KAFKA_ARCHIVE_SERVER__AUTH__OPEN_METRICS: open } : {}),
        },
      });
      expect(cfg.server.auth.openMetrics).toBe(open === 'true');
      const s = await startServer(
        {
          archiver: { getStats: () => stats() },
          catalog: Catalog.memory(),
          source,
          tierer: null,
          config: cfg,
        },
        cfg.server,
        createLogger({ level: 'silent' }),
      );
      servers.push(s);
      const none = await get(s, '/metrics');
      if (open === 'true') {
        expect(none.status, `openMetrics ${open}`).toBe(200);
        expect(none.text).toContain('kafka_archive_');
      } else {
        expect([none.status, JSON.parse(none.text).code], `openMetrics ${String(open)}`).toEqual([
          401,
          'AUTH_REQUIRED',
        ]);
      }
      expect((await get(s, '/metrics', as(READ))).status).toBe(200);
      // The other read routes and the admin action keep their tokens.
      const api = await get(s, '/api/disk/report');
      expect([api.status, JSON.parse(api.text).code]).toEqual([401, 'AUTH_REQUIRED']);
      const tier = await get(s, '/api/tier', { method: 'POST' });
      expect([tier.status, JSON.parse(tier.text).code]).toEqual([401, 'AUTH_REQUIRED']);
      const forbidden = await get(s, '/api/tier', { method: 'POST', ...as(READ) });
      expect(forbidden.status).toBe(403);
      await s.close();
    }
  });

  it('without tokens a non-loopback host is refused unless server.allowUnauthenticated', () => {
    const env = (over: Record<string, string>) => ({
      KAFKA_ARCHIVE_SERVER__HOST: '0.0.0.0',
      ...over,
    });
    expect(() => loadConfig({ env: env({}) })).toThrow(
      /config error: server\.host: got "0\.0\.0\.0": the API would serve archived records to the network without authentication: set server\.auth\.readTokens \/ server\.auth\.adminTokens, or server\.allowUnauthenticated: true/,
    );
    expect(
      loadConfig({ env: env({ KAFKA_ARCHIVE_SERVER__ALLOW_UNAUTHENTICATED: 'true' }) }).server.host,
    ).toBe('0.0.0.0');
    const withTokens = loadConfig({
      env: env({ KAFKA_ARCHIVE_SERVER__AUTH__READ_TOKENS: 'x'.repeat(32) + ',' + 'y'.repeat(32) }),
    });
    expect(withTokens.server.auth.readTokens).toHaveLength(2);
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
      expect(loadConfig({ env: { KAFKA_ARCHIVE_SERVER__HOST: host } }).server.host).toBe(host);
    }
    expect(() =>
      loadConfig({ env: { KAFKA_ARCHIVE_SERVER__AUTH__ADMIN_TOKENS: 'short' } }),
    ).toThrow(
      /server\.auth\.adminTokens\.0: got "short": expected tokens of at least 16 characters/,
    );
    // config show never prints them
    expect(JSON.stringify(redactConfig(withTokens))).not.toContain('x'.repeat(32));
  });

  it('HTTPS from server.tls, certificate reloaded on demand (SIGHUP in run)', async () => {
    const tlsDir = join(dir, 'tls');
    mkdirSync(tlsDir, { recursive: true });
    const cert = join(tlsDir, 'cert.pem');
    const key = join(tlsDir, 'key.pem');
    const gen = (cn: string) =>
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '1',
          '-subj',
          `/CN=${cn}`,
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
    gen('first');
    const s = await start({}, { ...config.server, port: 0, tls: { certFile: cert, keyFile: key } });
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const subject = () =>
      new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          `${s.url}/healthz`,
          { ca: readFileSync(cert), agent: false },
          (res) => {
            const peer = (res.socket as TLSSocket).getPeerCertificate();
            res.resume();
            resolve(String(peer.subject.CN));
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await subject()).toBe('first');
    gen('second');
    await s.reloadTls();
    expect(await subject()).toBe('second');
    writeFileSync(key, 'not a key');
    await expect(s.reloadTls()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(fetch(`${s.url.replace('https', 'http')}/healthz`)).rejects.toThrow();
  });
});
