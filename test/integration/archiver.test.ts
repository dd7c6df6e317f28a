import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  Archiver,
  LocalSegmentIndex,
  SegmentWriter,
  createLogger,
  loadConfig,
  type Admin,
  type KafkaClient,
  type ProduceRecord,
} from '../../src/index.js';
import { loadKafkajs } from '../../src/kafka/kafkajs/ordered-headers.js';
import {
  archivedFromHot,
  pyarrowAvailable,
  readWithDuckDB,
  readWithPyarrow,
  waitFor,
  type ReadRecord,
} from '../helpers/archive.js';
import { clientEnv, newTestClient, testClient } from '../helpers/kafka-client.js';

const kafkaInfo = inject('kafka');
const log = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });
const rand = () => Math.random().toString(36).slice(2, 8);

let client: KafkaClient;
let admin: Admin;

beforeAll(async () => {
  client = newTestClient({ ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers }, log);
  admin = await client.admin();
});
afterAll(async () => {
  await admin.disconnect();
});

interface Harness {
  archiver: Archiver;
  hotDir: string;
  stop(): Promise<void>;
}

async function startArchiver(
  topics: string[],
  overrides: Record<string, string> = {},
): Promise<Harness> {
  const hotDir = mkdtempSync(join(tmpdir(), 'ka-hot-'));
  const config = loadConfig({
    env: {
      ...clientEnv,
      KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
      KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: hotDir,
      KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${rand()}`,
      KAFKA_ARCHIVE_ARCHIVER__TOPICS: topics.join(','),
      KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '1s',
      KAFKA_ARCHIVE_ARCHIVER__METADATA_REFRESH_MS: '1s',
      ...overrides,
    },
  });
  const writer = new SegmentWriter();
  const archiver = new Archiver({
    kafka: newTestClient(config.kafka, log),
    config: config.archiver,
    writer,
    index: new LocalSegmentIndex(hotDir),
    log,
  });
  await archiver.start();
  return {
    archiver,
    hotDir,
    async stop() {
      await archiver.stop();
      await writer.close();
    },
  };
}

async function archivedCount(hotDir: string, topic: string): Promise<number> {
  try {
    return (await archivedFromHot(hotDir, topic)).reduce((n, p) => n + p.records, 0);
  } catch {
    return 0;
  }
}

function expectSameRecord(
  got: Omit<ReadRecord, 'partition' | 'file'>,
  want: ProduceRecord & { offset?: bigint },
) {
  expect(got.key === null ? null : got.key.toString('hex')).toBe(
    want.key === null ? null : want.key.toString('hex'),
  );
  expect(got.value === null ? null : got.value.toString('hex')).toBe(
    want.value === null ? null : want.value.toString('hex'),
  );
  expect(
    got.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('hex')]),
  ).toEqual(
    (want.headers ?? []).map((h) => [h.key, h.value === null ? null : h.value.toString('hex')]),
  );
  if (want.timestamp !== undefined) expect(got.timestamp).toBe(want.timestamp);
}

describe(`archiver on Kafka ${kafkaInfo.version} (${testClient})`, () => {
  it('archives every record exactly once, byte for byte (DuckDB and pyarrow agree)', async () => {
    const topic = `fidelity-${rand()}`;
    await admin.createTopics([
      { name: topic, partitions: 1, configs: { 'max.message.bytes': String(2 * 1024 * 1024) } },
    ]);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const big = Buffer.alloc(1024 * 1024, 7);
    big.write('end', big.length - 3);
    const records: ProduceRecord[] = [
      { key: null, value: Buffer.from('null key'), timestamp: 1_700_000_000_000n },
      { key: Buffer.from('tomb'), value: null, timestamp: 1_700_000_000_001n },
      { key: Buffer.from('empty'), value: Buffer.alloc(0), timestamp: 1_700_000_000_002n },
      { key: Buffer.alloc(0), value: Buffer.from('empty key'), timestamp: 1_700_000_000_003n },
      { key: all, value: Buffer.concat([all, all]), timestamp: 1_600_000_000_000n },
      {
        key: Buffer.from('headers'),
        value: Buffer.from('v'),
        headers: [
          { key: 'b', value: Buffer.from('1') },
          { key: 'a', value: Buffer.from('2') },
          { key: 'b', value: Buffer.from('3') },
          { key: '10', value: null },
          { key: '2', value: Buffer.alloc(0) },
        ],
        timestamp: 1_700_000_000_004n,
      },
      { key: Buffer.from('big'), value: big, timestamp: 1_700_000_000_005n },
    ];
    const producer = await client.producer();
    for (const r of records) await producer.send(topic, [{ ...r, partition: 0 }]);
    await producer.disconnect();

    const h = await startArchiver([topic]);
    try {
      await waitFor(
        'all records archived',
        async () => (await archivedCount(h.hotDir, topic)) === records.length,
        60_000,
      );
    } finally {
      await h.stop();
    }
    const rows = await readWithDuckDB(h.hotDir, topic);
    expect(rows.map((r) => r.offset)).toEqual(records.map((_, i) => BigInt(i)));
    rows.forEach((row, i) => {
      expectSameRecord(row, records[i]!);
      expect(row.timestampType).toBe(0);
    });
    if (pyarrowAvailable()) {
      const files = [...new Set(rows.map((r) => r.file))];
      const viaArrow = files
        .flatMap((f) => readWithPyarrow(f))
        .sort((a, b) => (a.offset < b.offset ? -1 : 1));
      expect(viaArrow).toHaveLength(records.length);
      viaArrow.forEach((row, i) => expectSameRecord(row, records[i]!));
    } else {
      console.log(
        '[archiver test] pyarrow not installed (.cache/pyenv): pyarrow cross-check skipped',
      );
    }
    rmSync(h.hotDir, { recursive: true, force: true });
  });

  it('reads batches stored with every Kafka codec: gzip, snappy, lz4, zstd', async () => {
    // compression.type on the topic makes the broker store the batches in that codec, whatever
    // the producer sent, so the consumer has to decode each one.
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd'];
    const topics = codecs.map((c) => `codec-${c}-${rand()}`);
    await admin.createTopics(
      topics.map((name, i) => ({
        name,
        partitions: 1,
        configs: { 'compression.type': codecs[i]! },
      })),
    );
    const values = Array.from({ length: 200 }, (_, i) =>
      Buffer.from(`{"alert":${i},"payload":"${'abc'.repeat(i % 40)}"}`),
    );
    const producer = await client.producer();
    for (const t of topics) {
      await producer.send(
        t,
        values.map((value, i) => ({ partition: 0, key: Buffer.from(`k${i}`), value })),
      );
    }
    await producer.disconnect();
    const h = await startArchiver(topics);
    try {
      for (const t of topics) {
        await waitFor(
          `${t} archived`,
          async () => (await archivedCount(h.hotDir, t)) === values.length,
          60_000,
        );
      }
    } finally {
      await h.stop();
    }
    for (const t of topics) {
      const rows = await readWithDuckDB(h.hotDir, t);
      expect(rows.map((r) => r.value!.toString())).toEqual(values.map((v) => v.toString()));
    }
    rmSync(h.hotDir, { recursive: true, force: true });
  });

  it('archives a compacted topic (offset gaps are not losses) and skips aborted transactions', async () => {
    const compacted = `compacted-${rand()}`;
    const txTopic = `tx-${rand()}`;
    await admin.createTopics([
      {
        name: compacted,
        partitions: 1,
        configs: {
          'cleanup.policy': 'compact',
          'segment.ms': '100',
          'min.cleanable.dirty.ratio': '0.01',
          'delete.retention.ms': '100',
        },
      },
      { name: txTopic, partitions: 1 },
    ]);
    const producer = await client.producer();
    for (let round = 0; round < 5; round++) {
      await producer.send(
        compacted,
        Array.from({ length: 20 }, (_, k) => ({
          partition: 0,
          key: Buffer.from(`k${k}`),
          value: Buffer.from(`r${round}`),
        })),
      );
      await new Promise((r) => setTimeout(r, 300));
    }
    await producer.disconnect();

    // Transactions through kafkajs directly: committed, aborted, committed.
    const kafkajs = loadKafkajs();
    const kafka = new kafkajs.Kafka({
      brokers: kafkaInfo.brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    });
    const txp = kafka.producer({
      transactionalId: `tx-${rand()}`,
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await txp.connect();
    for (const [label, commit] of [
      ['c1', true],
      ['a1', false],
      ['c2', true],
    ] as const) {
      const tx = await txp.transaction();
      await tx.send({
        topic: txTopic,
        messages: Array.from({ length: 3 }, (_, i) => ({ partition: 0, value: `${label}-${i}` })),
      });
      if (commit) await tx.commit();
      else await tx.abort();
    }
    await txp.disconnect();

    const h = await startArchiver([compacted, txTopic]);
    try {
      await waitFor(
        'transactional records archived',
        async () => (await archivedCount(h.hotDir, txTopic)) >= 6,
        60_000,
      );
      const compactedHigh = (await admin.offsets(compacted)).get(0)!.high;
      await waitFor(
        'compacted topic archived to its end',
        async () => {
          const o = await archivedFromHot(h.hotDir, compacted).catch(() => []);
          return o.length === 1 && o[0]!.ranges.at(-1)!.to >= compactedHigh - 1n;
        },
        60_000,
      );
    } finally {
      await h.stop();
    }
    const tx = await readWithDuckDB(h.hotDir, txTopic);
    expect(tx.map((r) => r.value!.toString())).toEqual([
      'c1-0',
      'c1-1',
      'c1-2',
      'c2-0',
      'c2-1',
      'c2-2',
    ]);
    const txOffsets = (await archivedFromHot(h.hotDir, txTopic))[0]!;
    expect(txOffsets.gaps).toEqual([]); // markers and the aborted batch are skipped offsets, not gaps

    const comp = await readWithDuckDB(h.hotDir, compacted);
    const offs = comp.map((r) => r.offset);
    expect(new Set(offs).size).toBe(offs.length);
    const latest = new Map<string, string>();
    for (const r of comp) latest.set(r.key!.toString(), r.value!.toString());
    expect(latest.size).toBe(20);
    for (const v of latest.values()) expect(v).toBe('r4');
    const compOffsets = (await archivedFromHot(h.hotDir, compacted))[0]!;
    expect(compOffsets.gaps).toEqual([]);
    rmSync(h.hotDir, { recursive: true, force: true });
  });
});
