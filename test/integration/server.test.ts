// The HTTP server of `run` against a real broker: a real archiver service archives a topic, the
// server (port 0) answers health, readiness, Prometheus metrics with the service's real counters,
// and the read API over the live catalog gives the same answers (and bytes) as the CLI.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  createArchiverService,
  createKafkajsClient,
  createLogger,
  loadConfig,
  recordJson,
  type ArchiverService,
  type ProduceRecord,
} from '../../src/index.js';
import { startServer, type ServerHandle } from '../../src/server/index.js';
import { waitFor } from '../helpers/archive.js';
import { cliBuilt } from '../helpers/cli.js';
import { checkedFetch } from '../helpers/openapi.js';

const kafkaInfo = inject('kafka');
const ROOT = join(import.meta.dirname, '../..');
const log = createLogger({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'ka-server-it-'));

const T0 = 1_790_000_000_000n;
const topic = `server-${Math.random().toString(36).slice(2, 8)}`;
const PARTITIONS = 2;
const PER_PARTITION = 60;
const env = {
  KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
  KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(root, 'hot'),
  KAFKA_ARCHIVE_CATALOG__DIR: join(root, 'catalog'),
  KAFKA_ARCHIVE_STORAGE__LOCAL__DIR: join(root, 'cold'),
  KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
  KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
  KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '500',
  KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS: '25',
  KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '0', // no ballast files in the test's temporary directory
  KAFKA_ARCHIVE_DISK__HISTORY_DIR: join(root, 'disk-history'),
};

const cli = (args: string[]) => cliBuilt(args, { ...env, KAFKA_ARCHIVE_LOG__LEVEL: 'warn' });

let service: ArchiverService | null = null;
let server: ServerHandle | null = null;
afterAll(async () => {
  await server?.close();
  await service?.close();
  rmSync(root, { recursive: true, force: true });
});

async function get(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; type: string; text: string }> {
  // Every response is checked against the OpenAPI document the server serves.
  const res = await checkedFetch(`${server!.url}${path}`, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: res.text };
}

async function getJson(path: string): Promise<{ status: number; body: unknown }> {
  const r = await get(path);
  return { status: r.status, body: JSON.parse(r.text) };
}

/** The value of an unlabelled (or exactly labelled) sample in Prometheus text. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe(`HTTP server on Kafka ${kafkaInfo.version}`, () => {
  const produced = new Map<number, ProduceRecord[]>();
  const answers = { offsets: '', read: '' };

  it('serves health, readiness, metrics and the read API of a running service', async () => {
    const client = createKafkajsClient(
      { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
      log,
    );
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: PARTITIONS }]);
    const producer = await client.producer();
    for (let p = 0; p < PARTITIONS; p++) {
      const records: ProduceRecord[] = Array.from({ length: PER_PARTITION }, (_, i) => ({
        partition: p,
        key: i % 10 === 0 ? null : Buffer.from(`k${p}-${i}`),
        value:
          i % 13 === 0
            ? Buffer.from([0xff, 0xfe, i])
            : i % 29 === 0
              ? null
              : Buffer.from(`value ${p}/${i} ü`),
        headers: [
          { key: 'n', value: Buffer.from(String(i)) },
          { key: 'n', value: i % 2 === 0 ? null : Buffer.from([0xc3]) },
        ],
        timestamp: T0 + BigInt(i) * 1000n,
      }));
      await producer.send(topic, records);
      produced.set(p, records);
    }
    await producer.disconnect();
    await admin.disconnect();

    const config = loadConfig({ env });
    expect(config.server).toMatchObject({ enabled: true, host: '127.0.0.1', port: 9464 });
    service = await createArchiverService(config, log);
    server = await startServer({ ...service, config }, { ...config.server, port: 0 }, log);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Before the service starts: alive, not ready, and the API already answers.
    expect(await getJson('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    const early = await getJson('/readyz');
    expect(early.status).toBe(503);
    expect(early.body).toMatchObject({ status: 'not ready', reason: expect.any(String) });
    expect((await getJson(`/api/offsets?topic=${topic}`)).body).toMatchObject({
      code: 'ARCHIVE_TOPIC_UNKNOWN',
    });

    await service.start();
    await waitFor('ready', async () => (await get('/readyz')).status === 200, 30_000);
    const catalog = service.catalog!;
    await waitFor(
      `all ${PARTITIONS * PER_PARTITION} records in the live catalog`,
      () =>
        [...catalog.entries()].reduce((n, e) => n + e.recordCount, 0) ===
        PARTITIONS * PER_PARTITION,
      60_000,
    );
    expect((await getJson('/readyz')).body).toMatchObject({
      status: 'ready',
      topics: 1,
      assignedPartitions: PARTITIONS,
      pausedPartitions: 0,
    });

    // Metrics: the archiver's own counters, the catalog, tiering, disk, Node defaults.
    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toContain('text/plain');
    const stats = service.archiver.getStats();
    const bytes = [...catalog.entries()].reduce((n, e) => n + e.bytes, 0);
    const segments = PARTITIONS * Math.ceil(PER_PARTITION / 25);
    expect(stats.recordsArchived).toBe(PARTITIONS * PER_PARTITION);
    expect(sample(m.text, 'kafka_archive_records_archived_total')).toBe(PARTITIONS * PER_PARTITION);
    expect(sample(m.text, 'kafka_archive_segments_sealed_total')).toBe(segments);
    expect(sample(m.text, 'kafka_archive_segment_bytes_written_total')).toBe(bytes);
    expect(sample(m.text, 'kafka_archive_seal_failures_total')).toBe(0);
    expect(sample(m.text, 'kafka_archive_commit_failures_total')).toBe(0);
    expect(sample(m.text, 'kafka_archive_paused_partitions')).toBe(0);
    expect(sample(m.text, 'kafka_archive_assigned_partitions')).toBe(PARTITIONS);
    expect(sample(m.text, 'kafka_archive_subscribed_topics')).toBe(1);
    expect(sample(m.text, 'kafka_archive_ready')).toBe(1);
    expect(sample(m.text, 'kafka_archive_catalog_writer')).toBe(1);
    expect(sample(m.text, 'kafka_archive_catalog_segments')).toBe(segments);
    expect(sample(m.text, 'kafka_archive_catalog_records')).toBe(PARTITIONS * PER_PARTITION);
    expect(sample(m.text, 'kafka_archive_catalog_bytes')).toBe(bytes);
    expect(sample(m.text, 'kafka_archive_catalog_tier_bytes{tier="hot"}')).toBe(bytes);
    // Tiering is on, but the records are from the future: nothing is due yet.
    expect(sample(m.text, 'kafka_archive_tiering_enabled')).toBe(1);
    expect(sample(m.text, 'kafka_archive_tiering_segments_uploaded_total')).toBe(0);
    expect(sample(m.text, 'kafka_archive_tiering_failed_rounds_total')).toBe(0);
    expect(sample(m.text, 'kafka_archive_tiering_consecutive_failures')).toBe(0);
    // The scheduled disk report (a first run at start, then a second sample) feeds the growth
    // and forecast gauges.
    const reports = service!.reports!;
    await waitFor('the first disk report', () => reports.lastReport !== null, 30_000);
    // The second sample needs a later timestamp than the first (history times are in ms).
    const firstAt = Date.parse(reports.stats.lastFinishedAt ?? '');
    await waitFor('a later sample time', () => Date.now() > firstAt + 1, 5_000, 2);
    await reports.runOnce();
    const m2 = await get('/metrics');
    expect(m2.text).toMatch(/^kafka_archive_volume_growth_bytes_per_day\{volume="hot"\} /m);
    const page = await get('/disk/report');
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.text).toContain('<svg');
    const report = await get('/api/disk/report');
    expect(JSON.parse(report.text).volumes[0].sample.name).toBe('hot');
    const hot = '{volume="hot",kind="hot"}';
    expect(sample(m.text, `kafka_archive_volume_size_bytes${hot}`)).toBeGreaterThan(0);
    expect(sample(m.text, `kafka_archive_volume_available_bytes${hot}`)).toBeGreaterThan(0);
    expect(sample(m.text, `kafka_archive_volume_apparent_bytes${hot}`)).toBeGreaterThanOrEqual(
      bytes,
    );
    expect(sample(m.text, `kafka_archive_volume_allocated_bytes${hot}`)).toBeGreaterThan(0);
    expect(sample(m.text, `kafka_archive_volume_budget_used_ratio${hot}`)).toBeGreaterThan(0);
    expect(sample(m.text, `kafka_archive_volume_watermark_state${hot}`)).toBeGreaterThanOrEqual(0);
    expect(sample(m.text, `kafka_archive_volume_reserves_total${hot}`)).toBe(0);
    expect(sample(m.text, `kafka_archive_volume_reserves_armed${hot}`)).toBe(0);
    expect(m.text).toContain('# TYPE kafka_archive_records_archived_total counter');
    expect(m.text).toContain('# TYPE kafka_archive_buffered_bytes gauge');
    expect(sample(m.text, 'kafka_archive_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(m.text).toContain('kafka_archive_nodejs_eventloop_lag_seconds');
    expect(m.text).toMatch(/kafka_archive_http_requests_total\{route="\/readyz",status="200"\} \d/);

    // /api/offsets: the CLI's `offsets --json` shape, from the live catalog; names and patterns.
    const offsets = await get(`/api/offsets?topic=${topic}`);
    expect(offsets.status).toBe(200);
    expect(offsets.type).toContain('application/json');
    answers.offsets = offsets.text;
    const rows = JSON.parse(offsets.text) as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.partition, r.records, r.firstOffset, r.lastOffset])).toEqual([
      [0, PER_PARTITION, '0', String(PER_PARTITION - 1)],
      [1, PER_PARTITION, '0', String(PER_PARTITION - 1)],
    ]);
    expect(rows[0]).toMatchObject({ segments: 3, gaps: [], tiers: ['hot'] });
    const byPattern = await getJson(`/api/offsets?topic=${encodeURIComponent('server-.*')}`);
    expect(byPattern.status).toBe(200);
    expect((byPattern.body as Array<{ topic: string }>).map((r) => r.topic)).toContain(topic);

    // /api/lookup: first offset at or after a time, per partition.
    const at = new Date(Number(T0 + 10_500n)).toISOString();
    const lookup = await getJson(`/api/lookup?topic=${topic}&time=${at}`);
    expect(lookup.status).toBe(200);
    expect(
      (lookup.body as Array<Record<string, unknown>>).map((r) => [
        r.partition,
        r.offset,
        r.timestamp,
      ]),
    ).toEqual([
      [0, '11', String(T0 + 11_000n)],
      [1, '11', String(T0 + 11_000n)],
    ]);
    expect((await getJson(`/api/lookup?topic=${topic}&time=${T0 + 10_500n}`)).body).toEqual(
      lookup.body,
    );
    const late = await getJson(`/api/lookup?topic=${topic}&time=2099-01-01T00:00:00Z`);
    expect(late.status).toBe(404);
    expect(late.body).toMatchObject({ code: 'ARCHIVE_NO_DATA_AT_TIME' });

    // /api/read: NDJSON records, byte-exact, the same lines as the CLI `read`.
    const read = await get(`/api/read?topic=${topic}&partition=1&offset=20&count=15`);
    expect(read.status).toBe(200);
    expect(read.type).toContain('application/x-ndjson');
    const want = produced
      .get(1)!
      .slice(20, 35)
      .map((r, i) =>
        recordJson(topic, 1, {
          offset: BigInt(20 + i),
          timestamp: r.timestamp!,
          timestampType: 0,
          key: r.key,
          value: r.value,
          headers: r.headers!,
        }),
      );
    expect(read.text).toBe(want.map((l) => `${l}\n`).join(''));
    const lines = read.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const binary = lines.find((l) => l.offset === '26')!; // 26 % 13 === 0: not UTF-8
    expect(binary.valueEncoding).toBe('base64');
    expect(Buffer.from(binary.value as string, 'base64')).toEqual(Buffer.from([0xff, 0xfe, 26]));
    expect(lines.find((l) => l.offset === '29')).toMatchObject({ value: null }); // tombstone
    answers.read = (await get(`/api/read?topic=${topic}&partition=0&offset=0&count=100`)).text;
    expect(answers.read.trim().split('\n')).toHaveLength(PER_PARTITION);

    // By time: [T0+45s, T0+50s) of partition 0; without count, all of it (up to the cap).
    const window = await get(
      `/api/read?topic=${topic}&partition=0&from=${T0 + 45_000n}&to=${new Date(Number(T0 + 50_000n)).toISOString()}`,
    );
    expect(
      window.text
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { offset: string }).offset),
    ).toEqual(['45', '46', '47', '48', '49']);

    // Clear errors for bad parameters: JSON {error, code}, 400 or 404, never a stack trace.
    const bad: Array<[string, number, string, string]> = [
      [`/api/read?topic=${topic}&partition=abc&offset=0`, 400, 'USAGE', 'partition: got "abc"'],
      [`/api/read?topic=${topic}&partition=-1&offset=0`, 400, 'USAGE', 'partition'],
      [
        `/api/read?topic=${topic}&partition=7&offset=0`,
        404,
        'ARCHIVE_OFFSET_OUT_OF_RANGE',
        'no archived partition 7',
      ],
      [
        `/api/read?topic=${topic}&partition=0&offset=500`,
        404,
        'ARCHIVE_OFFSET_OUT_OF_RANGE',
        'archived offsets are 0..59',
      ],
      [`/api/read?topic=${topic}&partition=0`, 400, 'USAGE', 'give offset or from'],
      [`/api/read?topic=${topic}&partition=0&offset=0&count=10001`, 400, 'USAGE', 'count'],
      [
        `/api/read?topic=${topic}&parition=0&offset=0`,
        400,
        'USAGE',
        'unknown parameter "parition"',
      ],
      [
        `/api/read?topic=no-such-topic&partition=0&offset=0`,
        404,
        'ARCHIVE_TOPIC_UNKNOWN',
        'no archived topic matches',
      ],
      [`/api/read?topic=server-.*&partition=0&offset=0`, 400, 'USAGE', 'give one topic name'],
      [`/api/lookup?topic=${topic}&time=yesterday`, 400, 'USAGE', 'time: got "yesterday"'],
      [`/api/offsets`, 400, 'USAGE', 'topic: missing'],
      [`/nope`, 404, 'NOT_FOUND', 'no such endpoint'],
    ];
    for (const [path, status, code, text] of bad) {
      const r = await get(path);
      expect([path, r.status], r.text).toEqual([path, status]);
      expect(r.type).toContain('application/json');
      const body = JSON.parse(r.text) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['code', 'error']);
      expect(body.code).toBe(code);
      expect(body.error).toContain(text);
      expect(r.text).not.toMatch(/\bat .*\.[jt]s:\d+/);
    }
    const post = await get('/healthz', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(JSON.parse(post.text)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    const after = await get('/metrics');
    expect(after.text).toMatch(
      /kafka_archive_http_requests_total\{route="\/api\/read",status="400"\} [1-9]/,
    );
  });

  it('answers like the CLI, and stops cleanly', async () => {
    const handle = server!;
    await handle.close();
    await expect(fetch(`${handle.url}/healthz`)).rejects.toThrow();
    await service!.close();
    service = null;
    server = null;
    const offsets = await cli(['offsets', topic, '--json']);
    expect(offsets.code).toBe(0);
    expect(JSON.parse(offsets.stdout)).toEqual(JSON.parse(answers.offsets));
    const read = await cli(['read', topic, '-p', '0', '--offset', '0', '--count', '100']);
    expect(read.code).toBe(0);
    expect(read.stdout).toBe(answers.read);
  });
  it('schemathesis fuzzes the API (with an admin token): no 5xx, documented answers, bad input 4xx', async () => {
    const ADMIN = `fuzz-admin-${'x'.repeat(24)}`;
    // A service of its own on the same archive (the previous test stopped the first one).
    const config = loadConfig({ env });
    service = await createArchiverService(config, log);
    await service.start();
    const fuzzed = await startServer(
      { ...service, config },
      {
        ...config.server,
        port: 0,
        auth: { readTokens: [], adminTokens: [ADMIN], openMetrics: false },
      },
      log,
    );
    const rss0 = process.memoryUsage().rss;
    try {
      // /readyz answers 503 until the new service has joined its group: fuzz a ready service.
      await waitFor(
        'the fuzzed service ready',
        async () => (await fetch(`${fuzzed.url}/readyz`)).status === 200,
        30_000,
      );
      // Asynchronously: the server under test runs in this process.
      const r = await new Promise<{ status: number | null; out: string }>((resolve) => {
        const child = spawn('bash', [join(ROOT, 'scripts/fuzz-api.sh'), fuzzed.url, ADMIN, '25']);
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.stderr.on('data', (d: Buffer) => (text += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
        child.on('close', (status) => {
          clearTimeout(timer);
          resolve({ status, out: text });
        });
      });
      const out = r.out;
      expect(r.status, out.slice(-6000)).toBe(0);
      expect(out).toMatch(/Tested: \d+/);
      expect(out).toMatch(/No issues found/);
      expect(out).not.toContain(ADMIN); // schemathesis filters it; the service never echoes it
      // Still serving, and memory stayed bounded.
      expect((await fetch(`${fuzzed.url}/healthz`)).status).toBe(200);
      expect(process.memoryUsage().rss - rss0).toBeLessThan(256 * 2 ** 20);
    } finally {
      await fuzzed.close();
    }
  }, 360_000);
});
