// Restore against a real broker and a real S3 server: a varied stream is archived by the real
// service (part of it tiered to S3), a time range is restored into another topic and read back
// by an independent client (the official Java client); kill -9 at random points of a
// rate-limited restore, re-run each time: exactly once; every error with its message and
// exit code.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  Catalog,
  createArchiverService,
  createKafkajsClient,
  createLogger,
  loadConfig,
  type Admin,
  type KafkaClient,
  type ProduceRecord,
} from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';
import { cliFromSource } from '../helpers/cli.js';
import { readWithJava, type JavaRecord } from '../helpers/java-reader.js';
import { spawnFromSource, stopProcess, type ArchiverProcess } from '../helpers/process.js';

const kafkaInfo = inject('kafka');
const s3 = inject('s3');
const log = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });
const rand = () => Math.random().toString(36).slice(2, 8);
const root = mkdtempSync(join(tmpdir(), 'ka-restore-it-'));
const brokers = kafkaInfo.brokers.join(',');
const live: ArchiverProcess[] = [];

let client: KafkaClient;
let admin: Admin;

beforeAll(async () => {
  client = createKafkajsClient(
    { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
    log,
  );
  admin = await client.admin();
});
afterAll(async () => {
  await Promise.all(live.map((p) => stopProcess(p, 'SIGKILL')));
  await admin.disconnect();
  rmSync(root, { recursive: true, force: true });
});

/** Configuration (as environment) of one archive: hot dir, catalog, S3 prefix, restore state. */
function archiveEnv(
  name: string,
  topic: string,
  over: Record<string, string> = {},
): Record<string, string> {
  return {
    KAFKA_ARCHIVE_KAFKA__BROKERS: brokers,
    KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(root, name, 'hot'),
    KAFKA_ARCHIVE_CATALOG__DIR: join(root, name, 'catalog'),
    KAFKA_ARCHIVE_RESTORE__STATE_DIR: join(root, name, 'restore'),
    KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
    KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
    KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '500',
    KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS: '20',
    KAFKA_ARCHIVE_STORAGE__TYPE: 's3',
    KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: s3.endpoint,
    KAFKA_ARCHIVE_STORAGE__S3__BUCKET: s3.bucket,
    KAFKA_ARCHIVE_STORAGE__S3__PREFIX: `restore-${name}-${topic}/`,
    KAFKA_ARCHIVE_STORAGE__S3__ACCESS_KEY_ID: s3.accessKeyId,
    KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: s3.secretAccessKey,
    // Segments whose newest record is older than a day go to S3; recent ones stay hot.
    KAFKA_ARCHIVE_TIERING__MIN_AGE_MS: '1d',
    KAFKA_ARCHIVE_TIERING__INTERVAL_MS: '300',
    KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
    KAFKA_ARCHIVE_SERVER__ENABLED: 'false',
    KAFKA_ARCHIVE_LOG__LEVEL: 'warn',
    ...over,
  };
}

/** Archives `topic` with the real service until `records` are catalogued (and `cold` segments tiered). */
async function archive(env: Record<string, string>, records: number, cold: number): Promise<void> {
  const config = loadConfig({ env });
  const service = await createArchiverService(config, log);
  await service.start();
  try {
    await waitFor(
      `${records} records archived, ${cold} segments tiered`,
      () => {
        const c = service.catalog;
        if (c === null) return false;
        const entries = [...c.entries()];
        return (
          entries.reduce((n, e) => n + e.recordCount, 0) === records &&
          entries.filter((e) => e.cold && !e.hot).length >= cold
        );
      },
      90_000,
    );
  } finally {
    await service.close();
  }
}

const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'));
const shape = (r: {
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer | null }>;
  timestamp?: bigint;
}) => ({
  key: hex(r.key),
  value:
    r.value === null
      ? null
      : r.value.length > 64
        ? `${r.value.length}:${r.value.subarray(0, 16).toString('hex')}:${r.value.subarray(-16).toString('hex')}`
        : hex(r.value),
  headers: r.headers.map((h) => [h.key, hex(h.value)]),
  timestamp: r.timestamp,
});

function cli(env: Record<string, string>, args: string[]) {
  return cliFromSource(args, { ...env, KAFKA_ARCHIVE_LOG__LEVEL: 'warn' });
}

describe(`restore on Kafka ${kafkaInfo.version}`, () => {
  const topic = `rs-${rand()}`;
  const env = archiveEnv('main', topic);
  const PARTITIONS = 8;
  const T0 = 1_790_000_000_000n; // long ago: tiered to S3
  const RECENT = BigInt(Date.now()) - 600_000n; // ten minutes ago: stays hot
  const produced = new Map<number, ProduceRecord[]>();
  const big = Buffer.alloc(1024 * 1024, 0x5a);
  big.write('end', big.length - 3);

  beforeAll(async () => {
    await admin.createTopics([
      {
        name: topic,
        partitions: PARTITIONS,
        configs: { 'max.message.bytes': String(3 * 1024 * 1024) },
      },
    ]);
    const producer = await client.producer();
    for (let p = 0; p < PARTITIONS; p++) {
      const records: ProduceRecord[] = Array.from({ length: 60 }, (_, i) => {
        const headers = [
          { key: 'dup', value: Buffer.from(`a${i}`) },
          { key: 'n', value: null },
          { key: 'dup', value: Buffer.from(`b${i}`) },
        ];
        return {
          partition: p,
          key:
            i % 7 === 0
              ? null
              : i % 5 === 0
                ? Buffer.from([0, 0xff, p, i, 0x80])
                : Buffer.from(`k${p}-${i}`),
          value:
            i % 11 === 3
              ? null
              : i % 13 === 4
                ? Buffer.alloc(0)
                : i === 26 && p % 2 === 0
                  ? big
                  : Buffer.from(`v${p}/${i} ${'x'.repeat(i * 10)}`),
          headers: i % 4 === 0 ? [] : headers,
          // 40 historic records, one of them out of order (an hour early), then 20 recent ones.
          timestamp:
            i < 40
              ? i === 30
                ? T0 - 3_600_000n
                : T0 + BigInt(i) * 1000n
              : RECENT + BigInt(i - 40) * 1000n,
        };
      });
      for (const r of records) await producer.send(topic, [r]); // one batch each: varied batches
      produced.set(p, records);
    }
    await producer.disconnect();
    // 3 segments per partition (20 records each); the 2 historic ones are tiered to S3.
    await archive(env, PARTITIONS * 60, PARTITIONS * 2);
  });

  it('restores a time range across both tiers byte for byte: same partitions, same order, CreateTime kept; --verify passes', async () => {
    const from = T0 + 10_000n;
    const to = RECENT + 10_000n;
    const target = `${topic}.rt`;
    const r = cli(env, [
      '--json',
      'restore',
      topic,
      '--from',
      new Date(Number(from)).toISOString(),
      '--to',
      to.toString(),
      '--target-topic',
      target,
      '--verify',
      '--no-progress',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      jobId: string;
      result: { records: number; bytesRead: number };
      totals: { records: number; segmentBytes: number; segments: number };
      verify: { ok: boolean; pairs: Array<{ match: boolean; archiveRecords: number }> };
      targets: Array<{ topic: string; partitions: number; created: boolean }>;
    };
    const want = new Map<number, ProduceRecord[]>();
    for (const [p, list] of produced)
      want.set(
        p,
        list.filter((x) => x.timestamp! >= from && x.timestamp! < to),
      );
    const total = [...want.values()].reduce((n, l) => n + l.length, 0);
    expect(total).toBe(PARTITIONS * 39); // offsets 10..49 minus the out-of-order record 30
    expect(out.result.records).toBe(total);
    expect(out.totals.records).toBe(total);
    expect(out.targets).toEqual([{ topic: target, partitions: PARTITIONS, created: true }]);
    expect(out.verify.ok).toBe(true);
    expect(out.verify.pairs).toHaveLength(PARTITIONS);
    const got = await readWithJava(brokers, target, kafkaInfo.version);
    expect(got).toHaveLength(total);
    for (let p = 0; p < PARTITIONS; p++) {
      const mine = got.filter((g) => g.partition === p);
      expect(mine.map((g) => shape(g))).toEqual(
        want.get(p)!.map((w) => shape({ ...w, headers: w.headers ?? [] })),
      );
      expect(new Set(mine.map((g: JavaRecord) => g.timestampType))).toEqual(
        new Set(['CreateTime']),
      );
    }
    // The target was created with the archived configs (from the S3 metadata snapshot).
    const info = await admin.describeTopic(target);
    expect(info.configs['max.message.bytes']).toBe(String(3 * 1024 * 1024));

    // Same command again: the job is done, nothing is produced twice.
    const again = cli(env, [
      '--json',
      'restore',
      topic,
      '--from',
      new Date(Number(from)).toISOString(),
      '--to',
      to.toString(),
      '--target-topic',
      target,
      '--no-progress',
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ jobId: out.jobId, alreadyDone: true });
    expect(await readWithJava(brokers, target, kafkaInfo.version)).toHaveLength(total);
    const verify = cli(env, ['restore', 'verify', '--job', out.jobId]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`verify ${out.jobId}: OK`);
  });

  it('offset ranges per partition, with original-offset headers', async () => {
    const target = `${topic}.off`;
    const r = cli(env, [
      '--json',
      'restore',
      topic,
      '--start-offset',
      '5,3:50',
      '--end-offset',
      '8,3:55',
      '--partitions',
      '0,3',
      '--target-topic',
      target,
      '--offset-header',
      '--verify',
      '--no-progress',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = await readWithJava(brokers, target, kafkaInfo.version);
    expect(got.map((g) => [g.partition, g.headers.at(-1)?.value?.toString()])).toEqual([
      [0, '5'],
      [0, '6'],
      [0, '7'],
      [3, '50'],
      [3, '51'],
      [3, '52'],
      [3, '53'],
      [3, '54'],
    ]);
    expect(got[0]!.headers.slice(-3).map((h) => [h.key, h.value?.toString()])).toEqual([
      ['kafka-archive.original-topic', topic],
      ['kafka-archive.original-partition', '0'],
      ['kafka-archive.original-offset', '5'],
    ]);
    expect((JSON.parse(r.stdout) as { verify: { ok: boolean } }).verify.ok).toBe(true);
  });

  it('dry run: records, bytes, segments, row groups and tiers per partition; nothing produced', async () => {
    const r = cli(env, [
      '--json',
      'restore',
      topic,
      '--from',
      (T0 + 10_000n).toString(),
      '--to',
      (RECENT + 10_000n).toString(),
      '--target-topic',
      `${topic}.dry`,
      '--dry-run',
      '--rate-records',
      '100',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      totals: { records: number; segments: number };
      partitions: Array<{ tiers: string[]; segments: number; records: number }>;
      estimatedSecondsAtRate: number;
    };
    expect(out.totals.records).toBe(PARTITIONS * 39);
    expect(out.totals.segments).toBe(PARTITIONS * 3);
    expect(out.partitions[0]).toMatchObject({ tiers: ['cold', 'hot'], segments: 3, records: 39 });
    expect(out.estimatedSecondsAtRate).toBeCloseTo((PARTITIONS * 39) / 100, 1);
    expect((await admin.partitionCounts([`${topic}.dry`])).size).toBe(0);
  });

  it('errors: no data, unknown topic, bad arguments, target not empty, too few partitions, record too large, unreachable target, archive gap', async () => {
    const noData = cli(env, ['restore', topic, '--from', '2099-01-01T00:00:00Z']);
    expect(noData.code).toBe(3);
    expect(noData.stderr).toContain(`no archived record of ${topic} is in the range asked for`);
    expect(noData.stderr).toContain(`${topic}/0: offsets 0..59`);
    expect(noData.stderr).not.toContain('    at ');

    const unknown = cli(env, ['restore', 'no-such-topic']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no archived topic matches "no-such-topic"');

    const bad = cli(env, ['restore', topic, '--from', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--from: got "yesterday"');
    const badOffsets = cli(env, ['restore', topic, '--start-offset', '3:x']);
    expect(badOffsets.code).toBe(2);

    // A target that holds records: a new job may not write there without --append.
    await admin.createTopics([{ name: `${topic}.full`, partitions: PARTITIONS }]);
    const p1 = await client.producer();
    await p1.send(`${topic}.full`, [{ partition: 1, key: null, value: Buffer.from('x') }]);
    await p1.disconnect();
    const notEmpty = cli(env, [
      'restore',
      topic,
      '--partitions',
      '1',
      '--target-topic',
      `${topic}.full`,
    ]);
    expect(notEmpty.stderr).toMatch(
      /target topic .*\.full on .* is not empty \(1 offsets in 1 partition\).*--append/,
    );
    expect(notEmpty.code).toBe(2);
    const appended = cli(env, [
      '--json',
      'restore',
      topic,
      '--partitions',
      '1',
      '--target-topic',
      `${topic}.full`,
      '--append',
      '--verify',
    ]);
    expect(appended.code).toBe(0);
    expect(
      (JSON.parse(appended.stdout) as { verify: { ok: boolean; targetRecords: number } }).verify,
    ).toMatchObject({ ok: true, targetRecords: 60 });

    await admin.createTopics([{ name: `${topic}.two`, partitions: 2 }]);
    const few = cli(env, ['restore', topic, '--target-topic', `${topic}.two`]);
    expect(few.code).toBe(2);
    expect(few.stderr).toContain(`target topic ${topic}.two`);
    expect(few.stderr).toContain('has 2 partitions but the restore writes to partitions up to 7');
    expect(few.stderr).toContain('--repartition');

    await admin.createTopics([
      {
        name: `${topic}.small`,
        partitions: PARTITIONS,
        configs: { 'max.message.bytes': '100000' },
      },
    ]);
    const large = cli(env, [
      'restore',
      topic,
      '--partitions',
      '0',
      '--target-topic',
      `${topic}.small`,
    ]);
    expect(large.stderr + large.stdout).toContain(`record ${topic}/0 offset 26 is 1048`);
    expect(large.code).toBe(3);
    expect(large.stderr).toContain(`record ${topic}/0 offset 26 is 1048`);
    expect(large.stderr).toContain(
      `larger than the target topic ${topic}.small's max.message.bytes of 100000`,
    );

    const unreachable = cli(env, [
      'restore',
      topic,
      '--target-brokers',
      '127.0.0.1:1',
      '--target-topic',
      'x',
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot connect to Kafka at 127.0.0.1:1');

    // A catalog without the middle segment of partition 2: a gap inside the range.
    const gapped = join(root, 'gapped-catalog');
    const src = await Catalog.open(env.KAFKA_ARCHIVE_CATALOG__DIR!, { writable: false });
    const dst = await Catalog.open(gapped, { writable: true });
    for (const e of src.entries())
      if (!(e.partition === 2 && e.firstOffset === 20n)) await dst.put(e);
    await dst.close();
    await src.close();
    const genv = { ...env, KAFKA_ARCHIVE_CATALOG__DIR: gapped };
    const gap = cli(genv, [
      'restore',
      topic,
      '--partitions',
      '2',
      '--target-topic',
      `${topic}.gap`,
    ]);
    expect(gap.code).toBe(3);
    expect(gap.stderr).toContain(`${topic}/2: offsets 20..39 (20 offsets)`);
    expect(gap.stderr).toContain('--allow-gaps');
    const allowed = cli(genv, [
      '--json',
      'restore',
      topic,
      '--partitions',
      '2',
      '--target-topic',
      `${topic}.gap`,
      '--allow-gaps',
      '--verify',
    ]);
    expect(allowed.code).toBe(0);
    const a = JSON.parse(allowed.stdout) as {
      result: { records: number };
      gaps: unknown[];
      verify: { ok: boolean };
    };
    expect(a.result.records).toBe(40);
    expect(a.gaps).toHaveLength(1);
    expect(a.verify.ok).toBe(true);
  });
});

describe(`restore exactly once across kill -9 on Kafka ${kafkaInfo.version}`, () => {
  const topic = `rk-${rand()}`;
  const env = archiveEnv('kill', topic, {
    KAFKA_ARCHIVE_TIERING__ENABLED: 'false',
    KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS: '500',
  });
  const PARTITIONS = 4;
  const PER = 1500;

  beforeAll(async () => {
    await admin.createTopics([{ name: topic, partitions: PARTITIONS }]);
    const producer = await client.producer();
    for (let p = 0; p < PARTITIONS; p++) {
      const records: ProduceRecord[] = Array.from({ length: PER }, (_, i) => ({
        partition: p,
        key: Buffer.from(`${p}-${i}`),
        value: Buffer.from(`value ${p}/${i} ${'y'.repeat(100)}`),
        headers: [{ key: 'i', value: Buffer.from(String(i)) }],
        timestamp: 1_790_000_000_000n + BigInt(i),
      }));
      for (let i = 0; i < records.length; i += 250)
        await producer.send(topic, records.slice(i, i + 250));
    }
    await producer.disconnect();
    await archive(env, PARTITIONS * PER, 0);
  });

  it('kill -9 at random points, re-run each time: every record exactly once, --verify passes', async () => {
    const target = `${topic}.restored`;
    const args = [
      'restore',
      topic,
      '--rate-records',
      '600',
      '--batch-records',
      '50',
      '--concurrency',
      '4',
      '--no-progress',
    ];
    const runEnv = { ...env, KAFKA_ARCHIVE_LOG__LEVEL: 'info' };
    const deadline = Date.now() + 150_000;
    let kills = 0;
    for (let i = 0; i < 10 && Date.now() < deadline; i++) {
      const p = spawnFromSource(args, runEnv);
      live.push(p);
      // Kill once it is producing (a progress line or a resumed job), after a random extra moment.
      await waitFor(
        'the restore to start producing',
        () =>
          !p.isRunning() ||
          p.logs.some((l) => typeof l.msg === 'string' && /restore job|resuming/.test(l.msg)),
        60_000,
        20,
      );
      if (!p.isRunning()) break; // finished before it could be killed
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 1500)); // fault injection point
      if (!p.isRunning()) break;
      p.child.kill('SIGKILL');
      await p.exited;
      kills++;
    }
    const final = cli(env, [
      '--json',
      'restore',
      topic,
      '--rate-records',
      '600',
      '--batch-records',
      '50',
      '--concurrency',
      '4',
      '--no-progress',
      '--verify',
    ]);
    expect(final.stderr).toBe('');
    expect(final.code).toBe(0);
    const out = JSON.parse(final.stdout) as {
      verify: { ok: boolean; targetRecords: number };
      result: { records: number };
    };
    expect(out.verify.ok).toBe(true);
    expect(out.verify.targetRecords).toBe(PARTITIONS * PER);
    expect(kills).toBeGreaterThanOrEqual(3);
    const got = await readWithJava(brokers, target, kafkaInfo.version);
    expect(got).toHaveLength(PARTITIONS * PER);
    for (let p = 0; p < PARTITIONS; p++) {
      const keys = got.filter((g) => g.partition === p).map((g) => g.key!.toString());
      expect(keys).toEqual(Array.from({ length: PER }, (_, i) => `${p}-${i}`));
    }
    console.log(
      `[restore kill -9] ${kills} kills, then a final run; ${got.length} records exactly once`,
    );
  }, 240_000);
});
