// Fault tests of the archiver as a real process against the real broker: kill -9 at random
// moments while a producer writes, and two members of one group rebalancing partitions.
// Invariant checked: every produced record is in the archive, byte for byte, and no record is
// visible twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  createLogger,
  loadConfig,
  LocalSegmentIndex,
  type KafkaClient,
  type Producer,
} from '../../src/index.js';
import { archivedFromHot, readWithDuckDB, waitFor } from '../helpers/archive.js';
import { spawnArchiver, stopProcess, type ArchiverProcess } from '../helpers/process.js';
import { clientEnv, newTestClient, testClient } from '../helpers/kafka-client.js';

const kafkaInfo = inject('kafka');
const log = createLogger({ level: 'silent' });
const live: ArchiverProcess[] = [];
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(live.map((p) => stopProcess(p, 'SIGKILL')));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));

function newClient(): KafkaClient {
  return newTestClient({ ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers }, log);
}

/** Produces numbered records (key = id, value derived from id) until stopped. */
class BackgroundProducer {
  readonly sent = new Map<string, Buffer>();
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly partitions: number,
  ) {}

  static value(id: string): Buffer {
    return Buffer.from(`${id}|${'v'.repeat(200 + (id.length % 7) * 31)}`);
  }

  start(everyMs: number): void {
    let n = 0;
    this.loop = (async () => {
      while (this.running) {
        const records = Array.from({ length: 20 }, () => {
          const id = `r${n++}`;
          return {
            partition: n % this.partitions,
            key: Buffer.from(id),
            value: BackgroundProducer.value(id),
          };
        });
        await this.producer.send(this.topic, records);
        for (const r of records) this.sent.set(r.key.toString(), r.value);
        await sleep(everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

function archiverEnv(topic: string, hotDir: string): Record<string, string> {
  return {
    ...clientEnv, // the archiver processes run on the client under test
    KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
    KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: hotDir,
    // Inside the hot dir (which only lists topic=... entries), removed with it.
    KAFKA_ARCHIVE_CATALOG__DIR: join(hotDir, '.catalog'),
    KAFKA_ARCHIVE_STORAGE__LOCAL__DIR: join(hotDir, '.cold'),
    KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
    KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
    KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '300',
    KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS: '60',
    KAFKA_ARCHIVE_ARCHIVER__SESSION_TIMEOUT_MS: '6s',
    KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false', // disk actions are tested in disk-monitor.test.ts
    KAFKA_ARCHIVE_SERVER__PORT: '0', // any free port: several archivers run at once
    KAFKA_ARCHIVE_LOG__LEVEL: 'info',
  };
}

function start(topic: string, hotDir: string): ArchiverProcess {
  const p = spawnArchiver(['run'], archiverEnv(topic, hotDir));
  live.push(p);
  return p;
}

/** Every produced record appears exactly once in the segments, byte for byte. */
async function expectExactlyOnce(
  hotDir: string,
  topic: string,
  sent: Map<string, Buffer>,
): Promise<{ rows: number; overlapping: number }> {
  await waitFor(
    'every produced record archived',
    async () => {
      const o = await archivedFromHot(hotDir, topic).catch(() => []);
      return o.reduce((n, x) => n + x.records, 0) >= sent.size;
    },
    120_000,
  );
  const offsets = await archivedFromHot(hotDir, topic);
  // What readers see: each offset once, no gaps (this topic is neither compacted nor transactional).
  expect(offsets.reduce((n, x) => n + x.records, 0)).toBe(sent.size);
  for (const p of offsets) expect(p.gaps).toEqual([]);

  const rows = await readWithDuckDB(hotDir, topic);
  const byOffset = new Map<string, string>();
  const ids = new Set<string>();
  for (const r of rows) {
    const id = r.key!.toString();
    const at = `${r.partition}/${r.offset}`;
    const prev = byOffset.get(at);
    // Two copies of one offset (overlapping segments) must be the same record.
    if (prev !== undefined) expect(prev).toBe(id);
    byOffset.set(at, id);
    expect(r.value!.equals(sent.get(id)!)).toBe(true);
    ids.add(id);
  }
  expect(ids.size).toBe(sent.size);
  expect(byOffset.size).toBe(sent.size);
  return { rows: rows.length, overlapping: rows.length - byOffset.size };
}

describe(`archiver faults on Kafka ${kafkaInfo.version} (${testClient})`, () => {
  it('kill -9 at random moments while producing: every record archived exactly once', async () => {
    const topic = `kill9-${Math.random().toString(36).slice(2, 8)}`;
    const hotDir = mkdtempSync(join(tmpdir(), 'ka-kill9-'));
    dirs.push(hotDir);
    const client = newClient();
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: 4 }]);
    const producer = new BackgroundProducer(await client.producer(), topic, 4);
    producer.start(50);

    const iterations = 20;
    const t0 = Date.now();
    let killedWhileSealing = 0;
    for (let i = 0; i < iterations; i++) {
      const p = start(topic, hotDir);
      await sleep(rand(500, 7000));
      if (p.logs.some((l) => l.msg === 'segment sealed')) killedWhileSealing++;
      p.child.kill('SIGKILL');
      await p.exited;
      live.splice(live.indexOf(p), 1);
    }
    await producer.stop();
    const final = start(topic, hotDir);
    const { rows, overlapping } = await expectExactlyOnce(hotDir, topic, producer.sent);
    expect(overlapping).toBe(0);
    expect(await stopProcess(final)).toBe(0);
    console.log(
      `[kill -9 test] ${iterations} kills in ${Math.round((Date.now() - t0) / 1000)} s ` +
        `(${killedWhileSealing} after segments had been sealed); ${producer.sent.size} records produced, ` +
        `${rows} archived rows, 0 duplicates`,
    );
    await admin.disconnect();
  }, 300_000);

  it('two members of one group rebalancing: no loss, no visible duplicate', async () => {
    const topic = `rebalance-${Math.random().toString(36).slice(2, 8)}`;
    const hotDir = mkdtempSync(join(tmpdir(), 'ka-rebalance-'));
    dirs.push(hotDir);
    const client = newClient();
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: 6 }]);
    const producer = new BackgroundProducer(await client.producer(), topic, 6);
    producer.start(30);

    const assigned = (p: ArchiverProcess) =>
      p.logs.filter((l) => l.msg === 'partition resumed').length;
    // Each step waits until the group has archived more while in that state (new segment files
    // in the shared hot directory), not for a fixed time.
    const index = new LocalSegmentIndex(hotDir);
    const segments = async () => {
      let n = 0;
      for (let p = 0; p < 6; p++) n += (await index.segments(topic, p)).length;
      return n;
    };
    const progress = async (what: string, more = 6) => {
      const before = await segments();
      await waitFor(what, async () => (await segments()) >= before + more, 60_000);
    };
    const a = start(topic, hotDir);
    await waitFor('member A consuming', () => assigned(a) > 0, 60_000);
    await progress('member A archiving');
    let b = start(topic, hotDir); // rebalance: B takes some partitions from A
    await waitFor('member B consuming', () => assigned(b) > 0, 60_000);
    await progress('the two members archiving');
    expect(await stopProcess(b)).toBe(0); // graceful leave: A takes them back
    live.splice(live.indexOf(b), 1);
    await progress('member A archiving alone again');
    b = start(topic, hotDir); // and once more
    await waitFor('member B consuming again', () => assigned(b) > 0, 60_000);
    await progress('the two members archiving again');
    await producer.stop();

    const { rows, overlapping } = await expectExactlyOnce(hotDir, topic, producer.sent);
    expect(await stopProcess(a)).toBe(0);
    expect(await stopProcess(b)).toBe(0);
    console.log(
      `[rebalance test] ${producer.sent.size} records produced; ${rows} archived rows ` +
        `(${overlapping} overlapping copies hidden by offset merge), each record visible once`,
    );
    await admin.disconnect();
  }, 240_000);
});
