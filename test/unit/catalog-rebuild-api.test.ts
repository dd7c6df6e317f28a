// The catalog rebuild and reserve routes of the running service (POST /api/catalog/rebuild and
// its job, POST /api/reserve/release|rearm), checked against the OpenAPI document; and the merge
// of a rebuilt catalog into a live one that its writers change meanwhile.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Catalog,
  CatalogRebuilds,
  createLogger,
  entryKey,
  loadConfig,
  mergeRebuilt,
  type CatalogEntry,
  type SegmentSource,
} from '../../src/index.js';
import { startServer, type ServerHandle } from '../../src/server/index.js';
import type { ReserveControl, VolumeRearm, VolumeRelease } from '../../src/disk/index.js';
import { checkedFetch } from '../helpers/openapi.js';
import { waitFor } from '../helpers/archive.js';

const log = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'ka-rebuild-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function entry(first: bigint, last: bigint, over: Partial<CatalogEntry> = {}): CatalogEntry {
  return {
    topic: 'orders',
    partition: 0,
    firstOffset: first,
    lastOffset: last,
    rangeStart: first,
    rangeEnd: last,
    minTimestamp: 1000n + first,
    maxTimestamp: 1000n + last,
    recordCount: Number(last - first + 1n),
    bytes: 500,
    sha256: 'x',
    hot: true,
    cold: false,
    ...over,
  };
}

describe('mergeRebuilt', () => {
  it('takes the rebuild for every entry but those written meanwhile', async () => {
    const live = Catalog.memory();
    const rebuilt = Catalog.memory();
    await live.put(entry(0n, 9n)); // stale: neither hot nor in the bucket
    await live.put(entry(10n, 19n)); // wrong tiers
    await live.put(entry(20n, 29n)); // the same
    await live.put(entry(30n, 39n, { hot: false, cold: true }));
    await rebuilt.put(entry(10n, 19n, { hot: false, cold: true }));
    await rebuilt.put(entry(20n, 29n));
    await rebuilt.put(entry(40n, 49n)); // missing from the live catalog
    await rebuilt.put(entry(5n, 5n, { partition: 1 }));
    const written = new Set<string>();
    const unwatch = live.watch((k) => written.add(k));
    // Sealed and tiered after the scan began: the scan missed them, the live writers did not.
    await live.put(entry(50n, 59n));
    await live.put(entry(30n, 39n, { hot: false, cold: true, bytes: 501 }));
    const r = await mergeRebuilt(live, rebuilt, written);
    unwatch();
    expect(r).toEqual({ added: 2, updated: 1, dropped: 1, keptNewer: 2 });
    const keys = [...live.entries()].map(
      (e) => `${e.partition}:${e.firstOffset}:${e.hot}:${e.cold}`,
    );
    expect(keys).toEqual([
      '0:10:false:true',
      '0:20:true:false',
      '0:30:false:true',
      '0:40:true:false',
      '0:50:true:false',
      '1:5:true:false',
    ]);
    expect(live.get('orders', 0, 30n, 39n)?.bytes).toBe(501);
    expect(written.has(entryKey(entry(50n, 59n)))).toBe(true);
  });
});

describe('admin routes: catalog rebuild and reserves', () => {
  const READ = 'r'.repeat(20) + '-read';
  const ADMIN = 'a'.repeat(20) + '-admin';
  const as = (token: string, method = 'GET') => ({
    method,
    headers: { authorization: `Bearer ${token}` },
  });
  let server: ServerHandle | null = null;
  afterAll(async () => server?.close());

  it('rebuild: 202 + Location, 409 while running, progress, result; reserves through the control; read token 403', async () => {
    const hotDir = join(dir, 'hot');
    mkdirSync(hotDir, { recursive: true });
    const config = loadConfig({
      env: {
        KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: hotDir,
        KAFKA_ARCHIVE_CATALOG__DIR: join(dir, 'catalog'),
        KAFKA_ARCHIVE_STORAGE__LOCAL__DIR: join(dir, 'cold'),
        KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '0',
      },
    });
    const live = Catalog.memory();
    await live.put(entry(0n, 9n)); // no segment anywhere: the rebuild drops it
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const rebuilds = new CatalogRebuilds({
      config,
      log,
      catalog: live,
      // The hot-tier scan waits for the tierer's round: held here until the 409 is seen.
      tierer: { hold: async (fn) => (await gate, fn()) },
    });
    const calls: string[] = [];
    const release: VolumeRelease = {
      volume: 'hot',
      count: 2,
      path: join(hotDir, '.kafka-archive-reserve-2'),
      n: 2,
      freedBytes: 1024,
      availableBeforeBytes: 10,
      availableAfterBytes: 1034,
      remainingArmed: 1,
    };
    const rearm: VolumeRearm = {
      volume: 'hot',
      minAvailableBytes: 5,
      dir: hotDir,
      armed: [{ n: 2, path: release.path, method: 'fallocate' }],
      refused: [],
      status: {
        dir: hotDir,
        count: 2,
        sizeBytes: 1024,
        armed: 2,
        armedBytes: 2048,
        files: [],
        extra: [],
        partial: [],
      },
    };
    const reserves: ReserveControl = {
      release: async (v) => (calls.push(`release ${v}`), release),
      rearm: async (v) => (calls.push(`rearm ${v}`), [rearm]),
    };
    server = await startServer(
      {
        archiver: {
          getStats: () => ({
            recordsArchived: 0,
            segmentsSealed: 0,
            bytesWritten: 0,
            sealFailures: 0,
            commitFailures: 0,
            lostRecords: 0,
            divergedPartitions: 0,
            pausedPartitions: 0,
            bufferedBytes: 0,
            assignedPartitions: 0,
            topics: [],
          }),
        },
        catalog: live,
        source: {} as SegmentSource,
        tierer: null,
        config,
        rebuilds,
        reserves,
      },
      {
        ...config.server,
        port: 0,
        auth: { readTokens: [READ], adminTokens: [ADMIN], openMetrics: false },
      },
      log,
    );
    const url = server.url;
    for (const path of [
      '/api/catalog/rebuild',
      '/api/reserve/release?volume=hot',
      '/api/reserve/rearm',
    ]) {
      const r = await checkedFetch(`${url}${path}`, as(READ, 'POST'));
      expect([path, r.status, JSON.parse(r.text).code]).toEqual([path, 403, 'AUTH_FORBIDDEN']);
    }
    const bad = await checkedFetch(`${url}/api/catalog/rebuild?concurrency=0`, as(ADMIN, 'POST'));
    expect([bad.status, JSON.parse(bad.text).code]).toEqual([400, 'USAGE']);

    const started = await checkedFetch(
      `${url}/api/catalog/rebuild?concurrency=4`,
      as(ADMIN, 'POST'),
    );
    expect(started.status).toBe(202);
    const job = JSON.parse(started.text) as { id: string; state: string; links: { self: string } };
    expect(started.headers.get('location')).toBe(job.links.self);
    expect(job.state).toBe('running');
    const again = await checkedFetch(`${url}/api/catalog/rebuild`, as(ADMIN, 'POST'));
    expect([again.status, JSON.parse(again.text).code]).toEqual([409, 'CATALOG_REBUILD_RUNNING']);
    const forbidden = await checkedFetch(`${url}${job.links.self}`, as(READ));
    expect(forbidden.status).toBe(403);
    open();
    let view: { state: string; progress: { phase: string }; result: unknown } | null = null;
    await waitFor('the rebuild job done', async () => {
      const r = await checkedFetch(`${url}${job.links.self}`, as(ADMIN));
      expect(r.status).toBe(200);
      view = JSON.parse(r.text) as typeof view;
      return view?.state !== 'running';
    });
    expect(view).toMatchObject({
      state: 'done',
      progress: { phase: 'merge' },
      result: {
        segments: 0,
        read: 0,
        via: 'service',
        merge: { added: 0, updated: 0, dropped: 1, keptNewer: 0 },
      },
    });
    expect(live.size).toBe(0);
    const unknown = await checkedFetch(`${url}/api/catalog/rebuild/nope`, as(ADMIN));
    expect([unknown.status, JSON.parse(unknown.text).code]).toEqual([404, 'NOT_FOUND']);

    const rel = await checkedFetch(`${url}/api/reserve/release?volume=hot`, as(ADMIN, 'POST'));
    expect([rel.status, JSON.parse(rel.text)]).toEqual([200, release]);
    const arm = await checkedFetch(`${url}/api/reserve/rearm`, as(ADMIN, 'POST'));
    expect(arm.status).toBe(200);
    const extra = await checkedFetch(`${url}/api/reserve/rearm?vol=hot`, as(ADMIN, 'POST'));
    expect([extra.status, JSON.parse(extra.text).code]).toEqual([400, 'USAGE']);
    expect(calls).toEqual(['release hot', 'rearm undefined']);
    await rebuilds.close();
  });
});
