// Tiering against a real S3 server (versitygw): archive -> tier -> read every record from the
// cold tier byte for byte; the S3 server stopped mid-way and kept down; kill -9 during tiering;
// wrong credentials. This file starts its own versitygw (scripts/s3.sh) so it can stop it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  adoptObjects,
  archivedOffsets,
  Catalog,
  createKafkajsClient,
  createLogger,
  createObjectStore,
  loadConfig,
  segmentKey,
  readRecords,
  tieredSource,
  type AdoptProgress,
  type KafkaClient,
  type ProduceRecord,
} from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';
import { cliFromSourceAsync } from '../helpers/cli.js';
import {
  metricOf,
  spawnArchiver,
  stopProcess,
  waitForMetric,
  type ArchiverProcess,
} from '../helpers/process.js';

const ROOT = join(import.meta.dirname, '../..');
const kafkaInfo = inject('kafka');
const log = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'ka-tiering-'));
const s3Dir = join(dir, 's3');
const live: ArchiverProcess[] = [];
let endpoint = '';
let client: KafkaClient;

const s3 = (cmd: 'start' | 'stop') =>
  execFileSync('bash', [join(ROOT, 'scripts/s3.sh'), cmd, s3Dir], { encoding: 'utf8' }).trim();

beforeAll(() => {
  endpoint = s3('start').split('\n').pop() as string;
  client = createKafkajsClient(
    { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
    log,
  );
});
// A test that failed while the S3 server was stopped must not fail the next ones with it.
afterEach(() => {
  s3('start');
});

afterAll(async () => {
  await Promise.all(live.map((p) => stopProcess(p, 'SIGKILL')));
  s3('stop');
  rmSync(dir, { recursive: true, force: true });
});

function envFor(name: string, topic: string, over: Record<string, string> = {}) {
  return {
    KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
    KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(dir, name, 'hot'),
    KAFKA_ARCHIVE_CATALOG__DIR: join(dir, name, 'catalog'),
    KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
    KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
    KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '300',
    KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS: '50',
    KAFKA_ARCHIVE_ARCHIVER__SESSION_TIMEOUT_MS: '6s',
    KAFKA_ARCHIVE_STORAGE__TYPE: 's3',
    KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: endpoint,
    KAFKA_ARCHIVE_STORAGE__S3__BUCKET: 'kafka-archive-test',
    KAFKA_ARCHIVE_STORAGE__S3__PREFIX: `${name}-${topic}/`,
    KAFKA_ARCHIVE_STORAGE__S3__ACCESS_KEY_ID: 'test-access-key',
    KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: 'test-secret-key',
    KAFKA_ARCHIVE_TIERING__MIN_AGE_MS: '1',
    KAFKA_ARCHIVE_TIERING__INTERVAL_MS: '500',
    KAFKA_ARCHIVE_TIERING__RETRY_INITIAL_MS: '300',
    KAFKA_ARCHIVE_TIERING__RETRY_MAX_MS: '2s',
    KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
    KAFKA_ARCHIVE_SERVER__PORT: '0', // any free port: several archivers run at once
    KAFKA_ARCHIVE_LOG__LEVEL: 'info',
    ...over,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function start(env: Record<string, string>): ArchiverProcess {
  const p = spawnArchiver(['run'], env);
  live.push(p);
  return p;
}

async function produce(topic: string, n: number, from = 0): Promise<Map<string, ProduceRecord>> {
  const producer = await client.producer();
  const sent = new Map<string, ProduceRecord>();
  for (let i = from; i < from + n; i += 25) {
    const batch: ProduceRecord[] = Array.from({ length: Math.min(25, from + n - i) }, (_, k) => {
      const id = `r${i + k}`;
      return {
        partition: (i + k) % 3,
        key: Buffer.from(id),
        value: Buffer.concat([Buffer.from(`${id}|`), Buffer.alloc(300 + ((i + k) % 50), i + k)]),
        headers: [
          { key: 'h', value: Buffer.from(id) },
          { key: 'h', value: null },
        ],
      };
    });
    await producer.send(topic, batch);
    for (const r of batch) sent.set(r.key!.toString(), r);
  }
  await producer.disconnect();
  return sent;
}

/** Catalog of a stopped service: every segment must be cold, and every record readable from S3. */
async function expectAllColdAndExact(
  env: Record<string, string>,
  topic: string,
  sent: Map<string, ProduceRecord>,
  expectIndexed: boolean,
): Promise<AdoptProgress> {
  const config = loadConfig({ env });
  const catalog = await Catalog.open(config.catalog.dir, { writable: false });
  const store = createObjectStore(config.storage, log);
  try {
    const entries = [...catalog.entries()];
    expect(entries.every((e) => e.cold && !e.hot)).toBe(true);
    // A catalog entry never points at a missing object, and every object is catalogued.
    const objects = new Set<string>();
    for await (const o of store.list('topic=')) if (o.key.endsWith('.parquet')) objects.add(o.key);
    expect(new Set(entries.map((e) => segmentKey(e)))).toEqual(objects);

    const source = tieredSource(join(dir, 'nowhere'), store); // no hot dir: cold reads only
    const offsets = await archivedOffsets(catalog, source, topic);
    expect(offsets.reduce((n, o) => n + o.records, 0)).toBe(sent.size);
    expect(offsets.every((o) => o.tiers.join() === 'cold' && o.gaps.length === 0)).toBe(true);
    const seen = new Set<string>();
    for (const o of offsets) {
      for await (const r of readRecords(catalog, source, {
        topic,
        partition: o.partition,
        fromOffset: o.firstOffset,
      })) {
        const id = r.key!.toString();
        expect(seen.has(id)).toBe(false);
        seen.add(id);
        const want = sent.get(id)!;
        expect(r.value!.equals(want.value!)).toBe(true);
        expect(r.headers).toEqual(want.headers);
      }
    }
    expect(seen.size).toBe(sent.size);

    // A rebuild from the bucket alone gives the same catalog, from the partitions' segment
    // indexes (kept by the tierer, written at the graceful stop) where they cover an object.
    const rebuilt = Catalog.memory();
    let progress: AdoptProgress = { listed: 0, read: 0, indexed: 0, adopted: 0 };
    await adoptObjects(rebuilt, store, join(dir, 'nowhere'), log, {
      progress: (p) => (progress = { ...p }),
    });
    const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : 1);
    const keyed = (es: Iterable<(typeof entries)[number]>) =>
      [...es].map((e) => ({ key: segmentKey(e), e })).sort(byKey);
    expect(keyed(rebuilt.entries())).toEqual(keyed(entries));
    if (expectIndexed) expect(progress).toMatchObject({ read: 0, indexed: entries.length });
    return progress;
  } finally {
    await store.close();
  }
}

const allCold = async (env: Record<string, string>, records: number) => {
  const config = loadConfig({ env });
  if (!(await Catalog.exists(config.catalog.dir))) return false;
  const c = await Catalog.open(config.catalog.dir, { writable: false });
  const entries = [...c.entries()];
  return (
    entries.reduce((n, e) => n + e.recordCount, 0) === records &&
    entries.every((e) => e.cold && !e.hot)
  );
};

describe(`tiering to versitygw on Kafka ${kafkaInfo.version}`, () => {
  it('S3 down for a while: archiving continues on the hot tier, one error, then everything is tiered, verified, exact', async () => {
    const topic = `tier-${Math.random().toString(36).slice(2, 8)}`;
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: 3 }]);
    const env = envFor('outage', topic);
    const sent = await produce(topic, 600);
    const p = start(env);
    await waitFor(
      'some segments tiered',
      () => p.logs.some((l) => l.msg === 'segment tiered and verified'),
      60_000,
    );

    s3('stop');
    const t0 = Date.now();
    for (const [k, v] of await produce(topic, 600, 600)) sent.set(k, v);
    await waitFor(
      'the outage reported',
      () => p.logs.some((l) => l.component === 'tiering' && l.level === 50),
      30_000,
    );
    // Keep it down while the tierer retries (three failed rounds) and the hot tier keeps
    // archiving (segments sealed after the outage began).
    const sealedAtOutage = (await metricOf(p, 'segments_sealed_total')) ?? 0;
    await waitForMetric(p, 'tiering_failed_rounds_total', (n) => n >= 3, 60_000);
    // Records produced now are sealed while the store is still down (the ones above may all
    // have been sealed before the first failed round reported the outage).
    for (const [k, v] of await produce(topic, 300, 1200)) sent.set(k, v);
    const sealedWhileDown =
      (await waitForMetric(p, 'segments_sealed_total', (n) => n > sealedAtOutage, 60_000)) -
      sealedAtOutage;
    const tieringErrors = p.logs.filter((l) => l.component === 'tiering' && l.level === 50);
    expect(tieringErrors).toHaveLength(1); // one clear error, retries are quiet
    expect(tieringErrors[0]!.code).toBe('STORAGE_UNAVAILABLE');
    expect(p.isRunning()).toBe(true);
    const downMs = Date.now() - t0;

    s3('start');
    const t1 = Date.now();
    await waitFor('everything tiered after the outage', () => allCold(env, sent.size), 90_000);
    const recoveredMs = Date.now() - t1;
    // Logged when the round that tiered the last segments ends, which can be after the catalog
    // already shows them cold.
    await waitFor(
      'the recovery logged',
      () => p.logs.some((l) => l.msg === 'object store reachable again; tiering resumed'),
      30_000,
    );
    expect(await stopProcess(p)).toBe(0);
    live.splice(live.indexOf(p), 1);
    // Every object from the indexes: the outage stopped no index for good.
    await expectAllColdAndExact(env, topic, sent, true);
    console.log(
      `[tiering outage] S3 down ${(downMs / 1000).toFixed(1)} s (${sealedWhileDown} segments sealed meanwhile), all ${sent.size} records cold and verified ${(recoveredMs / 1000).toFixed(1)} s after it returned`,
    );
    await admin.disconnect();
  }, 240_000);

  it('kill -9 during tiering: after restart the catalog is consistent and nothing is lost', async () => {
    const topic = `tierkill-${Math.random().toString(36).slice(2, 8)}`;
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: 3 }]);
    const env = envFor('kill', topic, { KAFKA_ARCHIVE_TIERING__MAX_BYTES_PER_SECOND: '64KiB' });
    const sent = new Map<string, ProduceRecord>();
    let kills = 0;
    for (let i = 0; i < 4; i++) {
      // New records each time, so every incarnation has segments to tier when it is killed.
      for (const [k, v] of await produce(topic, 400, i * 400)) sent.set(k, v);
      const p = start(env);
      await waitFor(
        'tiering under way',
        () => p.logs.some((l) => l.msg === 'segment tiered and verified'),
        60_000,
      );
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 1500));
      p.child.kill('SIGKILL');
      await p.exited;
      live.splice(live.indexOf(p), 1);
      kills++;
    }
    const p = start({ ...env, KAFKA_ARCHIVE_TIERING__MAX_BYTES_PER_SECOND: '0' });
    await waitFor('restarted', () => p.logs.some((l) => l.msg === 'running'), 60_000);
    await waitFor('everything tiered after the kills', () => allCold(env, sent.size), 120_000);
    expect(await stopProcess(p)).toBe(0);
    live.splice(live.indexOf(p), 1);
    // A killed member's last uploads may be missing from its partition's index until that
    // partition's next upload: the rebuild reads those footers (and gives the same catalog).
    const rebuilt = await expectAllColdAndExact(env, topic, sent, false);
    expect(existsSync(join(dir, 'kill', 'catalog', 'writer.lock'))).toBe(false);
    console.log(
      `[tiering kill -9] ${kills} kills during uploads; all ${sent.size} records cold, verified and exact; rebuild: ${rebuilt.indexed} from segment indexes, ${rebuilt.read} footers`,
    );
    await admin.disconnect();
  }, 300_000);

  it('wrong credentials: one clear error, archiving goes on, no crash loop', async () => {
    const topic = `tierauth-${Math.random().toString(36).slice(2, 8)}`;
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: 1 }]);
    const env = envFor('auth', topic, {
      KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: 'wrong-secret',
    });
    await produce(topic, 100);
    const p = start(env);
    await waitFor('a segment sealed', () => p.logs.some((l) => l.msg === 'segment sealed'), 60_000);
    await waitFor('the auth error', () => p.logs.some((l) => l.code === 'STORAGE_AUTH'), 30_000);
    // Retries go on (three failed rounds) without another error line.
    await waitForMetric(p, 'tiering_failed_rounds_total', (n) => n >= 3, 60_000);
    const errors = p.logs.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(String(errors[0]!.err)).not.toContain('wrong-secret');
    expect(JSON.stringify(p.logs)).not.toContain('wrong-secret');
    expect(p.isRunning()).toBe(true);
    expect(await stopProcess(p)).toBe(0);
    live.splice(live.indexOf(p), 1);
    await admin.disconnect();
  }, 120_000);
  it('kafka-archive tier while the service runs: one round through its API, not CATALOG_LOCKED', async () => {
    const topic = `tierapi-${Math.random().toString(36).slice(2, 8)}`;
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: 1 }]);
    const token = 'a'.repeat(20) + Math.random().toString(36).slice(2);
    const env = envFor('api', topic, {
      KAFKA_ARCHIVE_TIERING__MIN_AGE_MS: '7d', // the service does not tier these on its own
      KAFKA_ARCHIVE_SERVER__PORT: String(await freePort()),
      KAFKA_ARCHIVE_SERVER__AUTH__ADMIN_TOKENS: token,
      KAFKA_ARCHIVE_SERVER__AUTH__OPEN_METRICS: 'true',
    });
    await produce(topic, 100);
    const p = start(env);
    const sealed = await waitForMetric(p, 'catalog_segments', (n) => n >= 1, 60_000);
    const r = await cliFromSourceAsync(['--json', 'tier', '--older-than', '0'], env);
    expect(r.stderr).not.toContain('CATALOG_LOCKED');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { uploaded: number; store: string };
    expect(out.uploaded).toBeGreaterThanOrEqual(sealed);
    expect(out.store).toContain('the running service at http://127.0.0.1:');
    expect(p.logs.some((l) => l.msg === 'segment tiered and verified')).toBe(true);
    expect(await stopProcess(p)).toBe(0);
    live.splice(live.indexOf(p), 1);
    await admin.disconnect();
  }, 120_000);
});
