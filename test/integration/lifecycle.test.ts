// The service's lifecycle under load, against a real broker: SIGTERM while a producer writes
// stops fetching, seals and commits the open segments and exits 0; records produced during and
// after the shutdown are archived by the next start; in the end every produced record is in the
// archive exactly once, byte for byte. A second signal, sent while the first stop still waits
// for segments that cannot be sealed (a full disk), exits at once (130) without corrupting
// anything: the next start archives everything, once.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  createKafkajsClient,
  createLogger,
  loadConfig,
  type ProduceRecord,
} from '../../src/index.js';
import { readWithDuckDB, waitFor } from '../helpers/archive.js';
import {
  logTail,
  metricOf,
  spawnArchiver,
  stopProcess,
  type ArchiverProcess,
} from '../helpers/process.js';
import { mountTmpfs, unmountTmpfs } from '../helpers/tmpfs.js';

const kafkaInfo = inject('kafka');
const root = mkdtempSync(join(tmpdir(), 'ka-lifecycle-'));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) unmountTmpfs(m);
  rmSync(root, { recursive: true, force: true });
});

const PARTITIONS = 4;
const client = createKafkajsClient(
  { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
  createLogger({ level: 'silent' }),
);

function env(
  name: string,
  topic: string,
  hotDir = join(root, name, 'hot'),
): Record<string, string> {
  return {
    KAFKA_ARCHIVE_DATA_DIR: join(root, name),
    KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: hotDir,
    KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
    KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
    KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
    KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS: '500',
    KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '1000',
    KAFKA_ARCHIVE_ARCHIVER__SESSION_TIMEOUT_MS: '6000',
    KAFKA_ARCHIVE_TIERING__ENABLED: 'false',
    KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
    KAFKA_ARCHIVE_SERVER__PORT: '0',
  };
}

/**
 * A producer writing numbered records in batches until stopped (or `maxBatches`, a safety cap far
 * beyond what the tests need); resolves with all it wrote.
 */
function produceUntil(topic: string, stop: () => boolean, maxBatches = 10_000, first = 0) {
  const written: ProduceRecord[] = [];
  let finished = false;
  const done = (async () => {
    const producer = await client.producer();
    try {
      for (let b = 0; b < maxBatches && !stop(); b++) {
        const batch = Array.from({ length: 100 }, (_, i) => {
          const n = first + written.length + i;
          return {
            partition: n % PARTITIONS,
            key: Buffer.from(`k${n}`),
            value: Buffer.from(`record ${n} ${'x'.repeat(n % 50)}`),
            headers: [{ key: 'n', value: Buffer.from(String(n)) }],
          } satisfies ProduceRecord;
        });
        await producer.send(topic, batch);
        written.push(...batch);
      }
    } finally {
      finished = true;
      await producer.disconnect();
    }
    return written;
  })();
  return { written, done, finished: () => finished };
}

const archived = (p: ArchiverProcess) => metricOf(p, 'records_archived_total').then((v) => v ?? 0);

/** Every produced record is in the hot directory exactly once, with its key, value and header. */
async function expectExactlyOnce(hotDir: string, topic: string, written: ProduceRecord[]) {
  const rows = await readWithDuckDB(hotDir, topic);
  const seen = new Map<string, number>();
  for (const r of rows) {
    const k = `${r.partition}/${r.offset}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  const dup = [...seen].filter(([, n]) => n > 1);
  expect(dup, 'duplicated offsets').toEqual([]);
  expect(rows.length, 'archived records').toBe(written.length);
  const byValue = new Map(rows.map((r) => [r.value?.toString(), r]));
  for (const w of written) {
    const r = byValue.get(w.value?.toString());
    expect(r, `record ${w.value?.toString()} archived`).toBeDefined();
    expect(r?.key).toEqual(w.key);
    expect(r?.headers).toEqual(w.headers);
  }
}

describe(`lifecycle on Kafka ${kafkaInfo.version}`, () => {
  it('SIGTERM while producing: exit 0; the restart archives the rest; none lost, none duplicated', async () => {
    const topic = `life-${Math.random().toString(36).slice(2, 7)}`;
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: PARTITIONS }]);
    await admin.disconnect();
    const e = env('term', topic);
    let stopProducing = false;
    const producer = produceUntil(topic, () => stopProducing);
    const first = spawnArchiver(['run'], e);
    await waitFor('the first archiver archives', async () => {
      if (!first.isRunning()) throw new Error(`exited:\n${logTail(first)}`);
      return (await archived(first)) >= 2_000;
    });
    // Stop it while the producer is still writing.
    expect(producer.finished()).toBe(false);
    const code = await stopProcess(first, 'SIGTERM', 60_000);
    expect(code, logTail(first)).toBe(0);
    expect(first.logs.some((l) => l.msg === 'stopped')).toBe(true);
    const atStop = producer.written.length;
    // More records after the stop, then the producer ends.
    await waitFor('more records after the stop', () => producer.written.length >= atStop + 1_000);
    stopProducing = true;
    const written = await producer.done;
    const second = spawnArchiver(['run'], e);
    try {
      await waitFor('the restart archives the rest', async () => {
        if (!second.isRunning()) throw new Error(`exited:\n${logTail(second)}`);
        const rows = await readWithDuckDB(e.KAFKA_ARCHIVE_ARCHIVER__HOT_DIR as string, topic).catch(
          () => [],
        );
        return rows.length >= written.length;
      });
    } finally {
      expect(await stopProcess(second, 'SIGTERM', 60_000), logTail(second)).toBe(0);
    }
    await expectExactlyOnce(e.KAFKA_ARCHIVE_ARCHIVER__HOT_DIR as string, topic, written);
    for (const p of [first, second])
      expect(p.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
  }, 300_000);

  it('a second signal while the stop waits on a full disk exits at once; the next start archives everything once', async () => {
    const topic = `life2-${Math.random().toString(36).slice(2, 7)}`;
    const hotDir = join(root, 'full', 'hot');
    mkdirSync(hotDir, { recursive: true });
    const refused = mountTmpfs(hotDir, '32m');
    if (refused !== null) {
      console.log(`[lifecycle] tmpfs refused (${refused}): second-signal test skipped`);
      return;
    }
    mounts.push(hotDir);
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: PARTITIONS }]);
    await admin.disconnect();
    const e = env('full', topic, hotDir);
    const p = spawnArchiver(['run'], e);
    const before = await produceUntil(topic, () => false, 10).done;
    await waitFor('the first records archived', async () => {
      if (!p.isRunning()) throw new Error(`exited:\n${logTail(p)}`);
      return (await archived(p)) >= before.length;
    });
    // Fill the disk: the open segments can no longer be sealed.
    const filler = join(hotDir, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(40 * 2 ** 20));
    } catch {
      // ENOSPC: the tmpfs is full now, which is the point
    }
    // More records, which cannot be sealed now.
    const after = await produceUntil(topic, () => false, 10, before.length).done;
    const written = [...before, ...after];
    await waitFor('a seal fails on the full disk', async () =>
      p.logs.some((l) => l.code === 'DISK_FULL'),
    );
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    await waitFor('the stop begins', () => p.logs.some((l) => l.signal === 'SIGTERM'));
    // The first stop now waits for segments it cannot seal; a deliberate second signal (more
    // than the 1 s a supervisor's duplicate gets) ends the process at once.
    await waitFor(
      'the duplicate-signal window has passed',
      () => Date.now() - t0 > 1_100,
      5_000,
      50,
    );
    expect(p.isRunning()).toBe(true);
    const t1 = Date.now();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(130);
    expect(Date.now() - t1).toBeLessThan(3_000);
    expect(
      p.logs.some((l) => l.msg === 'second signal: exiting without waiting for open segments'),
    ).toBe(true);
    // Room again; the next start archives every record once (nothing past the sealed segments
    // was committed).
    unlinkSync(filler);
    const again = spawnArchiver(['run'], e);
    try {
      await waitFor('the restart archives everything', async () => {
        if (!again.isRunning()) throw new Error(`exited:\n${logTail(again)}`);
        const rows = await readWithDuckDB(hotDir, topic).catch(() => []);
        return rows.length >= written.length;
      });
    } finally {
      expect(await stopProcess(again, 'SIGTERM', 60_000), logTail(again)).toBe(0);
    }
    await expectExactlyOnce(hotDir, topic, written);
  }, 300_000);
});
