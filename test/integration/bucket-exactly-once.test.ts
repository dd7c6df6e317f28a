// The bucket guarantee (README "Archive format"): two archiver members of one group on separate
// "hosts" (their own hot directory and catalog each) tier into one bucket on the real S3 server
// (versitygw) while a producer writes and the members are killed with kill -9 and restarted ten
// times (each restart is a rebalance). Afterwards DuckDB reads the bucket's objects (a local
// download: DuckDB's httpfs extension cannot be installed offline here): every produced offset
// exactly once, and no two objects of a partition overlap.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  createLogger,
  listSegmentObjects,
  loadConfig,
  S3ObjectStore,
  type KafkaClient,
  type Producer,
  type SegmentObject,
} from '../../src/index.js';
import { readWithDuckDB, waitFor } from '../helpers/archive.js';
import { logTail, spawnArchiver, stopProcess, type ArchiverProcess } from '../helpers/process.js';
import { clientEnv, newTestClient, testClient } from '../helpers/kafka-client.js';

const kafkaInfo = inject('kafka');
const s3 = inject('s3');
const log = createLogger({ level: 'silent' });
const live: ArchiverProcess[] = [];
const dirs: string[] = [];
const PARTITIONS = 4;

afterAll(async () => {
  await Promise.all(live.map((p) => stopProcess(p, 'SIGKILL')));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));

function newClient(): KafkaClient {
  return newTestClient({ ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers }, log);
}

/** Produces numbered records (key = id) round-robin over the partitions until stopped. */
class BackgroundProducer {
  readonly sent = new Map<string, Buffer>();
  readonly perPartition = new Array<number>(PARTITIONS).fill(0);
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  start(everyMs: number): void {
    let n = 0;
    this.loop = (async () => {
      while (this.running) {
        const records = Array.from({ length: 20 }, () => {
          const id = `r${n++}`;
          return {
            partition: n % PARTITIONS,
            key: Buffer.from(id),
            value: Buffer.from(`${id}|${'v'.repeat(100 + (n % 13) * 17)}`),
          };
        });
        await this.producer.send(this.topic, records);
        for (const r of records) {
          this.sent.set(r.key.toString(), r.value);
          this.perPartition[r.partition]!++;
        }
        await sleep(everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

describe(`one bucket, two members with separate hot tiers, on Kafka ${kafkaInfo.version} (${testClient})`, () => {
  it('10 kill -9s and rebalances while producing: DuckDB over the bucket sees every offset exactly once, objects disjoint', async () => {
    const topic = `bucket-${Math.random().toString(36).slice(2, 8)}`;
    const root = mkdtempSync(join(tmpdir(), 'ka-bucket-'));
    dirs.push(root);
    const prefix = `bucket-eo-${topic}/`;
    const store = new S3ObjectStore({
      endpoint: s3.endpoint,
      region: s3.region,
      bucket: s3.bucket,
      forcePathStyle: true,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      prefix,
    });
    const env = (member: string): Record<string, string> => ({
      ...clientEnv,
      KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
      KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(root, member, 'hot'),
      KAFKA_ARCHIVE_CATALOG__DIR: join(root, member, 'catalog'),
      KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
      KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
      KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '300',
      KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS: '100',
      KAFKA_ARCHIVE_ARCHIVER__SESSION_TIMEOUT_MS: '6s',
      KAFKA_ARCHIVE_STORAGE__TYPE: 's3',
      KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: s3.endpoint,
      KAFKA_ARCHIVE_STORAGE__S3__REGION: s3.region,
      KAFKA_ARCHIVE_STORAGE__S3__BUCKET: s3.bucket,
      KAFKA_ARCHIVE_STORAGE__S3__PREFIX: prefix,
      KAFKA_ARCHIVE_STORAGE__S3__ACCESS_KEY_ID: s3.accessKeyId,
      KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: s3.secretAccessKey,
      KAFKA_ARCHIVE_TIERING__MIN_AGE_MS: '1',
      KAFKA_ARCHIVE_TIERING__INTERVAL_MS: '300',
      KAFKA_ARCHIVE_TIERING__RETRY_INITIAL_MS: '300',
      KAFKA_ARCHIVE_TIERING__RETRY_MAX_MS: '2s',
      KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
      KAFKA_ARCHIVE_SERVER__PORT: '0',
      KAFKA_ARCHIVE_LOG__LEVEL: 'info',
    });
    const members: Record<'a' | 'b', ArchiverProcess | null> = { a: null, b: null };
    const all: ArchiverProcess[] = [];
    const start = (m: 'a' | 'b') => {
      const p = spawnArchiver(['run'], env(m));
      live.push(p);
      all.push(p);
      members[m] = p;
      return p;
    };
    const resumed = (p: ArchiverProcess) => p.logs.some((l) => l.msg === 'partition resumed');

    const client = newClient();
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: PARTITIONS }]);
    const producer = new BackgroundProducer(await client.producer(), topic);
    producer.start(80);
    const t0 = Date.now();
    start('a');
    start('b');
    await waitFor(
      'both members consuming',
      () => resumed(members.a!) && resumed(members.b!),
      60_000,
    );

    // Five rounds of two kills: one member, then (at another random moment, often while the
    // group is still rebalancing) the other or the same one again; each restart joins the group
    // again, a rebalance (a killed member leaves it only after the 6 s session timeout).
    let killedAfterTiering = 0;
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 2; k++) {
        const m = Math.random() < 0.5 ? 'a' : 'b';
        const p = members[m]!;
        await sleep(rand(300, 2500)); // a random moment: sealing, tiering, committing or idle
        if (p.logs.some((l) => l.msg === 'segment tiered and verified')) killedAfterTiering++;
        p.child.kill('SIGKILL');
        await p.exited;
        live.splice(live.indexOf(p), 1);
        start(m);
      }
      await waitFor(
        `both members consuming again (round ${round + 1})`,
        () => resumed(members.a!) && resumed(members.b!),
        60_000,
      );
    }
    await producer.stop();
    const killsSeconds = Math.round((Date.now() - t0) / 1000);

    // Both members keep running until the bucket holds every produced offset of every partition.
    const listed = async (): Promise<SegmentObject[]> => {
      const out: SegmentObject[] = [];
      for await (const o of listSegmentObjects(store)) out.push(o);
      return out;
    };
    const covered = (objs: SegmentObject[]) =>
      producer.perPartition.every((n, p) => {
        const spans = objs
          .filter((o) => o.partition === p)
          .sort((x, y) => (x.firstOffset < y.firstOffset ? -1 : 1));
        let next = 0n;
        for (const o of spans)
          if (o.firstOffset <= next && o.lastOffset >= next) next = o.lastOffset + 1n;
        return next >= BigInt(n);
      });
    try {
      await waitFor(
        'the bucket holds every produced offset',
        async () => covered(await listed()),
        90_000,
      );
    } catch (err) {
      for (const p of all.slice(-2)) console.log(logTail(p, 40));
      throw err;
    }
    const settleSeconds = Math.round((Date.now() - t0) / 1000) - killsSeconds;
    const objects = await listed();

    // No two objects of a partition overlap (plain globs see each offset once).
    for (let p = 0; p < PARTITIONS; p++) {
      const spans = objects
        .filter((o) => o.partition === p)
        .sort((x, y) => (x.firstOffset < y.firstOffset ? -1 : 1));
      for (let i = 1; i < spans.length; i++) {
        expect(
          spans[i]!.firstOffset > spans[i - 1]!.lastOffset,
          `${spans[i - 1]!.key} and ${spans[i]!.key} overlap`,
        ).toBe(true);
      }
    }

    // DuckDB over the bucket's objects, downloaded as they are (same keys).
    const download = join(root, 'bucket');
    for (const o of objects) {
      const file = join(download, o.key);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, await store.get(o.key));
    }
    const rows = await readWithDuckDB(download, topic);
    const seen = new Map<string, number>();
    for (const r of rows) {
      const id = r.key!.toString();
      seen.set(id, (seen.get(id) ?? 0) + 1);
      expect(r.value!.equals(producer.sent.get(id)!)).toBe(true);
    }
    expect(rows.length).toBe(producer.sent.size);
    expect(seen.size).toBe(producer.sent.size);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    const byOffset = new Set(rows.map((r) => `${r.partition}/${r.offset}`));
    expect(byOffset.size).toBe(rows.length);

    const logged = (msg: string) =>
      all.reduce((n, p) => n + p.logs.filter((l) => String(l.msg).startsWith(msg)).length, 0);
    const overlapsReported = all.reduce(
      (n, p) => n + p.logs.filter((l) => l.code === 'BUCKET_OVERLAP').length,
      0,
    );
    expect(overlapsReported).toBe(0);
    expect(await stopProcess(members.a!)).toBe(0);
    expect(await stopProcess(members.b!)).toBe(0);
    console.log(
      `[bucket exactly-once] 10 kill -9s in ${killsSeconds} s (${killedAfterTiering} after tiering had begun), ` +
        `bucket complete ${settleSeconds} s later; ${producer.sent.size} records, ${objects.length} objects, ` +
        `${rows.length} DuckDB rows, 0 duplicates; hot duplicates dropped ${logged('hot segment already in the bucket')}, ` +
        `trimmed ${logged('hot segment partly in the bucket')}`,
    );
    await admin.disconnect();
    await store.close();
  }, 240_000);
});
