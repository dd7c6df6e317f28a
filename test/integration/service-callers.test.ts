// One writer, many callers: while the service runs, `catalog rebuild` and `reserve release|rearm`
// (the built CLI) act through its HTTP API instead of failing or acting behind its back. Real
// broker, real S3 (versitygw of the test bed). The rebuild corrects the live catalog while
// records keep coming; the service keeps archiving; a reserve released by hand stays released
// through the disk monitor's samples until `reserve rearm`. Without the service, both act on
// the files as before.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
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
  spawnArchiver,
  stopProcess,
  waitForMetric,
  type ArchiverProcess,
} from '../helpers/process.js';

const kafkaInfo = inject('kafka');
const s3 = inject('s3');
const log = createLogger({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'ka-callers-'));
const topic = `callers-${Math.random().toString(36).slice(2, 8)}`;
const READ = 'r'.repeat(24) + Math.random().toString(36).slice(2);
const ADMIN = 'a'.repeat(24) + Math.random().toString(36).slice(2);
const hotDir = join(root, 'hot');
const reserve = (n: number) => join(hotDir, `.kafka-archive-reserve-${n}`);
const MiB = 2 ** 20;
let client: KafkaClient;
let env: Record<string, string>;
const live: ArchiverProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  client = createKafkajsClient(
    { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
    log,
  );
  const admin = await client.admin();
  await admin.createTopics([{ name: topic, partitions: 2 }]);
  await admin.disconnect();
  env = {
    KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
    KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: hotDir,
    KAFKA_ARCHIVE_CATALOG__DIR: join(root, 'catalog'),
    KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
    KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
    KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '300',
    KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS: '20',
    KAFKA_ARCHIVE_STORAGE__TYPE: 's3',
    KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: s3.endpoint,
    KAFKA_ARCHIVE_STORAGE__S3__REGION: s3.region,
    KAFKA_ARCHIVE_STORAGE__S3__BUCKET: s3.bucket,
    KAFKA_ARCHIVE_STORAGE__S3__PREFIX: `${topic}/`,
    KAFKA_ARCHIVE_STORAGE__S3__ACCESS_KEY_ID: s3.accessKeyId,
    KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: s3.secretAccessKey,
    // Segments go cold a second after sealing; those sealed during the rebuild are still hot:
    // the rebuild reads both tiers.
    KAFKA_ARCHIVE_TIERING__MIN_AGE_MS: '1s',
    KAFKA_ARCHIVE_TIERING__INTERVAL_MS: '1s',
    KAFKA_ARCHIVE_DISK__MONITOR__INTERVAL_MS: '200',
    KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '2',
    KAFKA_ARCHIVE_DISK__RESERVE__SIZE: '1MiB',
    KAFKA_ARCHIVE_SERVER__PORT: String(await freePort()),
    KAFKA_ARCHIVE_SERVER__AUTH__READ_TOKENS: READ,
    KAFKA_ARCHIVE_SERVER__AUTH__ADMIN_TOKENS: ADMIN,
    KAFKA_ARCHIVE_SERVER__AUTH__OPEN_METRICS: 'true',
    KAFKA_ARCHIVE_LOG__LEVEL: 'info',
  };
});

afterAll(async () => {
  await Promise.all(live.map((p) => stopProcess(p, 'SIGKILL')));
  rmSync(root, { recursive: true, force: true });
});

async function produce(from: number, n: number): Promise<void> {
  const producer = await client.producer();
  for (let i = from; i < from + n; i += 20) {
    await producer.send(
      topic,
      Array.from({ length: Math.min(20, from + n - i) }, (_, k) => ({
        partition: (i + k) % 2,
        key: Buffer.from(`k${i + k}`),
        value: Buffer.from(`value ${i + k}`),
      })),
    );
  }
  await producer.disconnect();
}

function start(): ArchiverProcess {
  const p = spawnArchiver(['run'], env);
  live.push(p);
  return p;
}

async function stop(p: ArchiverProcess): Promise<void> {
  expect(await stopProcess(p)).toBe(0);
  live.splice(live.indexOf(p), 1);
}

const cli = (args: string[]) => cliBuilt(args, env);
const logLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

interface Offsets {
  partition: number;
  records: number;
  firstOffset: string;
  lastOffset: string;
}

describe(`catalog rebuild and reserves through the running service on Kafka ${kafkaInfo.version}`, () => {
  it('catalog rebuild: the service rebuilds its live catalog while archiving; counts match; offsets right', async () => {
    // 1. Archive 200 records, some tiered, then stop and plant a wrong entry in the catalog:
    //    a cold segment of partition 7 that exists nowhere (reconciling at start keeps it: only
    //    a rebuild reading the bucket knows it is not there).
    let p = start();
    await produce(0, 200);
    await waitForMetric(p, 'records_archived_total', (n) => n >= 200, 90_000);
    await waitForMetric(p, 'tiering_segments_uploaded_total', (n) => n >= 2, 60_000);
    await stop(p);
    const db = new DatabaseSync(join(env.KAFKA_ARCHIVE_CATALOG__DIR!, 'catalog.db'));
    db.prepare('INSERT INTO segments VALUES (?, 7, 0, 9, 0, 9, 1, 2, 10, 999, ?, 2)').run(
      topic,
      'f'.repeat(64),
    );
    db.close();

    // 2. The service again; the CLI's rebuild goes through it while 200 more records come in.
    p = start();
    await waitForMetric(p, 'catalog_segments', (n) => n >= 11, 60_000);
    const url = `http://127.0.0.1:${env.KAFKA_ARCHIVE_SERVER__PORT}`;
    for (const path of ['/api/catalog/rebuild', '/api/reserve/release', '/api/reserve/rearm']) {
      const r = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${READ}` },
      });
      expect([path, r.status, ((await r.json()) as { code: string }).code]).toEqual([
        path,
        403,
        'AUTH_FORBIDDEN',
      ]);
    }
    const more = produce(200, 200);
    const t0 = Date.now();
    const r = await cli(['--json', 'catalog', 'rebuild', '--concurrency', '8']);
    const ms = Date.now() - t0;
    await more;
    expect(r.code, `${r.stderr}\n${logTail(p)}`).toBe(0);
    expect(r.stderr).not.toContain('CATALOG_LOCKED');
    expect(
      logLines(r.stderr).some((l) => String(l.msg).includes('rebuilding through its API')),
    ).toBe(true);
    const out = JSON.parse(r.stdout) as {
      segments: number;
      read: number;
      cold: number;
      quarantined: string[];
      via: string;
      merge: { added: number; updated: number; dropped: number; keptNewer: number };
    };
    expect(out).toMatchObject({ via: 'service', quarantined: [] });
    expect(out.merge.dropped).toBe(1); // the planted entry, and nothing else
    expect(out.merge.added).toBe(0); // the live catalog missed no segment
    expect(out.cold).toBeGreaterThanOrEqual(2);
    expect(p.logs.some((l) => l.msg === 'catalog rebuilt in the running service')).toBe(true);
    console.log(
      `[callers test] rebuild through the service: ${JSON.stringify(out)} in ${ms} ms (CLI wall time)`,
    );

    // 3. It keeps archiving: the 200 new records (this process's count), and the catalog the
    //    rebuild left has all 400.
    await waitForMetric(p, 'records_archived_total', (n) => n >= 200, 90_000);
    expect(p.logs.filter((l) => l.msg === 'segment sealed').length).toBeGreaterThan(0);
    let offsets: Offsets[] = [];
    await waitFor('offsets show all 400 records', async () => {
      const o = await cli(['offsets', topic, '--json']);
      if (o.code !== 0) return false;
      offsets = JSON.parse(o.stdout) as Offsets[];
      return offsets.reduce((a, x) => a + x.records, 0) === 400;
    });
    expect(offsets.map((o) => [o.partition, o.records, o.firstOffset, o.lastOffset])).toEqual([
      [0, 200, '0', '199'],
      [1, 200, '0', '199'],
    ]);
    // The segment count it reported is the live catalog's at that time: all but those sealed
    // after its merge.
    const segmentsNow = (await metricOf(p, 'catalog_segments')) as number;
    expect(out.segments).toBeLessThanOrEqual(segmentsNow);
    expect(out.segments).toBeGreaterThanOrEqual(10);
    await stop(p);

    // 4. Without the service: rebuilt locally, the same segments.
    const local = await cli(['--json', 'catalog', 'rebuild']);
    expect(local.code, local.stderr).toBe(0);
    expect(JSON.parse(local.stdout)).toMatchObject({ via: 'local', segments: segmentsNow });
  }, 300_000);

  it('reserve release/rearm: through the disk monitor, which leaves a release by hand alone until rearm', async () => {
    const p = start();
    // Up (the catalog is open before the server starts) and sampling its disks.
    await waitForMetric(p, 'disk_monitor_samples_total', (n) => n >= 1, 60_000);
    await waitFor(
      '2 reserves armed',
      () => existsSync(reserve(1)) && existsSync(reserve(2)),
      60_000,
    );
    const rel = await cli(['--json', 'reserve', 'release']);
    expect(rel.code, rel.stderr).toBe(0);
    expect(rel.stderr).toContain("reserve release: through the running service's disk monitor");
    expect(JSON.parse(rel.stdout)).toMatchObject({
      volume: 'hot',
      n: 2,
      freedBytes: MiB,
      remainingArmed: 1,
    });
    expect(existsSync(reserve(2))).toBe(false);
    await waitFor('the service logged the release by hand', () =>
      p.logs.some((l) =>
        String(l.msg).startsWith('reserve released by hand: the disk monitor will not re-arm'),
      ),
    );
    // The monitor samples every 200 ms with the volume well below low: 10 more samples, and the
    // released block is still gone (a release behind its back would be back after one).
    const samples = (await metricOf(p, 'disk_monitor_samples_total')) as number;
    await waitForMetric(p, 'disk_monitor_samples_total', (n) => n >= samples + 10, 30_000);
    expect(existsSync(reserve(2))).toBe(false);
    expect(await metricOf(p, 'reserve_releases_total')).toBe(1);

    const arm = await cli(['--json', 'reserve', 'rearm']);
    expect(arm.code, arm.stderr).toBe(0);
    expect(arm.stderr).toContain("reserve rearm: through the running service's disk monitor");
    const armed = JSON.parse(arm.stdout) as Array<{ volume: string; armed: Array<{ n: number }> }>;
    expect(armed.map((a) => [a.volume, a.armed.map((x) => x.n)])).toEqual([['hot', [2]]]);
    expect(statSync(reserve(2)).blocks * 512).toBeGreaterThanOrEqual(MiB);
    // A volume the service does not know: its answer, not a local guess.
    const unknown = await cli(['reserve', 'release', '--volume', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown volume "nope"');
    await stop(p);

    // Without the service: on the files directly, saying so.
    const localRel = await cli(['--json', 'reserve', 'release']);
    expect(localRel.code, localRel.stderr).toBe(0);
    expect(localRel.stderr).toContain('reserve release: on the reserve files directly');
    expect(JSON.parse(localRel.stdout)).toMatchObject({ volume: 'hot', n: 2 });
    expect(existsSync(reserve(2))).toBe(false);
  }, 180_000);
});
