/**
 * Memory of `kafka-archive run` against many assigned partitions.
 *
 * Creates T topics of P partitions each, produces N records of 0-2 KiB values spread over every
 * partition, with a 1 MiB value every --big-every records, then runs the product's CLI
 * (`kafka-archive run --topic-pattern ...`) with `archiver.maxBufferedBytes` = --max-buffered
 * until its `kafka_archive_records_archived_total` reaches N. Samples the process's RSS every
 * 100 ms and reads the kernel's peak (VmHWM) before stopping it. Prints peak RSS, the budget and
 * the overhead above it (peak - budget), per configuration.
 *
 *   npx tsx bench/memory-partitions.ts --brokers 127.0.0.1:9092 \
 *     [--layouts 10x100,100x100] [--records 200000] [--big-every 2000] [--max-buffered 512MiB]
 *     [--client kafkajs|platformatic] [--values pattern|random]
 *     [--fetch-max-bytes 16MiB] [--fetch-max-bytes-per-partition 4MiB]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as KafkaJS from 'kafkajs';
import { PRODUCT_FETCH, loadKafkajs, newKafka, procStats } from './lib/kafka.js';
import { mulberry32 } from './lib/records.js';
import { fmt, intFlag, MiB, parseFlags, sleep, table } from './lib/util.js';

const flags = parseFlags(process.argv.slice(2), {
  brokers: '127.0.0.1:43419',
  layouts: '10x100,100x100',
  records: '200000',
  'big-every': '2000',
  'max-buffered': '512MiB',
  client: 'kafkajs',
  values: 'pattern',
  'fetch-max-bytes': '',
  'fetch-max-bytes-per-partition': '',
  'timeout-s': '1800',
});
const brokers = String(flags.brokers).split(',');
const M = intFlag(flags, 'records');
const bigEvery = intFlag(flags, 'big-every');
/** A `<n>MiB` flag in bytes; undefined when the flag is empty. */
const mib = (flag: string): number | undefined => {
  const t = String(flags[flag]);
  if (t === '') return undefined;
  const m = /^(\d+)MiB$/.exec(t);
  if (m === null) throw new Error(`--${flag} must be <n>MiB`);
  return Number(m[1]) * MiB;
};
const budgetText = String(flags['max-buffered']);
const budget: number =
  mib('max-buffered') ??
  (() => {
    throw new Error('--max-buffered must be <n>MiB');
  })();
const client = String(flags.client);
if (client !== 'kafkajs' && client !== 'platformatic') {
  throw new Error('--client kafkajs|platformatic');
}
// pattern: every byte of a value the same (lz4 shrinks a 1 MiB value to about 4 KiB, so one
// fetch response decodes to far more than its wire size); random: incompressible bytes.
const valueKind = String(flags.values);
if (valueKind !== 'pattern' && valueKind !== 'random') throw new Error('--values pattern|random');
// kafka.fetch.* for the product, and the same sizes for the bare consumer (else PRODUCT_FETCH).
const fetchMaxBytes = mib('fetch-max-bytes');
const fetchMaxPerPartition = mib('fetch-max-bytes-per-partition');
const bareFetch = {
  ...PRODUCT_FETCH,
  ...(fetchMaxBytes !== undefined ? { maxBytes: fetchMaxBytes } : {}),
  ...(fetchMaxPerPartition !== undefined ? { maxBytesPerPartition: fetchMaxPerPartition } : {}),
};
const layouts = String(flags.layouts)
  .split(',')
  .map((l) => {
    const m = /^(\d+)x(\d+)$/.exec(l);
    if (m === null) throw new Error(`--layouts: ${l} is not <topics>x<partitions>`);
    return { topics: Number(m[1]), partitions: Number(m[2]) };
  });
const ROOT = join(import.meta.dirname, '..');
const kafkajs = loadKafkajs();
const kafka = newKafka(kafkajs, brokers, 'bench-memory');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() =>
        typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port')),
      );
    });
  });
}

async function produce(
  prefix: string,
  topics: number,
  partitions: number,
): Promise<{ payload: number; big: number; ms: number }> {
  const admin = kafka.admin();
  await admin.connect();
  const names = Array.from({ length: topics }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
  for (let i = 0; i < names.length; i += 10) {
    await admin.createTopics({
      waitForLeaders: false,
      timeout: 120_000,
      topics: names.slice(i, i + 10).map((topic) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: [{ name: 'retention.ms', value: '-1' }],
      })),
    });
  }
  // Every partition led before producing (a broker creating thousands of partitions takes a while).
  for (const deadline = Date.now() + 600_000; ; await sleep(1000)) {
    const md = await admin.fetchTopicMetadata({ topics: names }).catch(() => null);
    const led =
      md?.topics.reduce((n, t) => n + t.partitions.filter((x) => x.leader >= 0).length, 0) ?? 0;
    if (led === topics * partitions) break;
    if (Date.now() > deadline)
      throw new Error(`only ${led} of ${topics * partitions} partitions have a leader`);
  }
  await admin.disconnect();
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    // A broker that has just created thousands of partitions answers NOT_LEADER for a while.
    retry: { retries: 30, maxRetryTime: 5000 },
  });
  await producer.connect();
  const rnd = mulberry32(11);
  const all = topics * partitions;
  let payload = 0;
  let big = 0;
  const t0 = performance.now();
  const batch = 2000;
  for (let i = 0; i < M; i += batch) {
    const byTopic = new Map<string, KafkaJS.Message[]>();
    for (let j = i; j < Math.min(M, i + batch); j++) {
      const slot = j % all;
      const topic = names[Math.floor(slot / partitions)] as string;
      const size = j % bigEvery === bigEvery - 1 ? MiB : Math.floor(rnd() * 2048);
      if (size === MiB) big++;
      const value = valueKind === 'random' ? randomBytes(size) : Buffer.alloc(size, j & 0xff);
      payload += size + 8;
      const list = byTopic.get(topic) ?? byTopic.set(topic, []).get(topic)!;
      list.push({
        key: Buffer.from(j.toString(16).padStart(8, '0')),
        value,
        partition: slot % partitions,
      });
    }
    // Brokers that have just created thousands of partitions answer NOT_LEADER for a while after
    // the metadata names them leaders: send the batch again (Kafka may then hold some records
    // twice; the archive holds what Kafka holds, and the run waits for at least M).
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.sendBatch({
          acks: 1,
          compression: kafkajs.CompressionTypes.LZ4,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
        process.stderr.write(
          `produce attempt ${attempt} failed (${(err as Error).message}); again\n`,
        );
        await sleep(2000);
      }
    }
  }
  await producer.disconnect();
  return { payload, big, ms: performance.now() - t0 };
}

/** The bare kafkajs consumer (bench/lib/bare-group-consumer.ts) on the same topics, a new group. */
async function bareConsumer(
  prefix: string,
): Promise<{ records: number; seconds: number; peakRssBytes: number }> {
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, 'lib/bare-group-consumer.ts'),
      '--brokers',
      brokers.join(','),
      '--pattern',
      `${prefix}-.*`,
      '--group',
      `bare-${prefix}`,
      '--records',
      String(M),
      '--fetch',
      JSON.stringify(bareFetch),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`the bare consumer exited with ${code}`);
  return JSON.parse(out) as { records: number; seconds: number; peakRssBytes: number };
}

async function metric(port: number, name: string): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await res.text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

interface Row {
  layout: string;
  partitions: number;
  records: number;
  payloadMB: number;
  seconds: number;
  peakRss: number;
  sampledPeak: number;
  /** The bare kafkajs consumer's peak RSS on the same topics (kafkajs runs only). */
  bareRss: number | null;
}

async function runOne(topics: number, partitions: number): Promise<Row> {
  const tag = Math.random().toString(36).slice(2, 8);
  const prefix = `memb-${tag}`;
  console.log(
    `layout ${topics}x${partitions}: creating topics and producing ${M.toLocaleString('en-US')} records`,
  );
  const p = await produce(prefix, topics, partitions);
  console.log(
    `  produced ${fmt(p.payload / 1e6)} MB (${p.big} values of 1 MiB) in ${fmt(p.ms / 1000)} s (load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
  );
  const bare = client === 'kafkajs' ? await bareConsumer(prefix) : null;
  if (bare !== null) {
    console.log(
      `  bare kafkajs consumer: ${bare.records.toLocaleString('en-US')} records in ${fmt(bare.seconds)} s, peak RSS ${fmt(bare.peakRssBytes / MiB, 0)} MiB`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'ka-bench-mem-'));
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/kafka-archive.js'),
      'run',
      '--topic-pattern',
      `${prefix}-.*`,
      '--group',
      `g-${prefix}`,
    ],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        KAFKA_ARCHIVE_KAFKA__BROKERS: brokers.join(','),
        ...(client !== 'kafkajs' ? { KAFKA_ARCHIVE_KAFKA__CLIENT: client } : {}),
        KAFKA_ARCHIVE_DATA_DIR: dir,
        KAFKA_ARCHIVE_ARCHIVER__MAX_BUFFERED_BYTES: String(budget),
        ...(fetchMaxBytes !== undefined
          ? { KAFKA_ARCHIVE_KAFKA__FETCH__MAX_BYTES: String(fetchMaxBytes) }
          : {}),
        ...(fetchMaxPerPartition !== undefined
          ? { KAFKA_ARCHIVE_KAFKA__FETCH__MAX_BYTES_PER_PARTITION: String(fetchMaxPerPartition) }
          : {}),
        KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '5000',
        KAFKA_ARCHIVE_TIERING__ENABLED: 'false',
        KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
        KAFKA_ARCHIVE_SERVER__PORT: String(port),
        KAFKA_ARCHIVE_LOG__LEVEL: 'warn',
      },
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  child.on('exit', () => (exited = true));
  let sampledPeak = 0;
  const deadline = Date.now() + intFlag(flags, 'timeout-s') * 1000;
  let archived = 0;
  let lastPrint = 0;
  for (;;) {
    try {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
      if (rss > sampledPeak) sampledPeak = rss;
    } catch {
      // not yet started or gone
    }
    archived = await metric(port, 'kafka_archive_records_archived_total');
    if (archived >= M) break;
    if (exited) throw new Error(`kafka-archive run exited early:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`timed out with ${archived} of ${M} archived:\n${stderr}`);
    }
    if (performance.now() - lastPrint > 10_000) {
      lastPrint = performance.now();
      console.log(
        `  archived ${archived.toLocaleString('en-US')}, RSS peak so far ${fmt(sampledPeak / MiB, 0)} MiB`,
      );
    }
    await sleep(100);
  }
  const seconds = (performance.now() - t0) / 1000;
  const ps = await procStats(child.pid as number);
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  child.kill('SIGTERM');
  await closed;
  rmSync(dir, { recursive: true, force: true });
  const admin = kafka.admin();
  await admin.connect();
  const names = Array.from({ length: topics }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
  await admin.deleteTopics({ topics: names, timeout: 120_000 }).catch(() => undefined);
  await admin.disconnect();
  return {
    layout: `${topics} x ${partitions}`,
    partitions: topics * partitions,
    records: archived,
    payloadMB: p.payload / 1e6,
    seconds,
    peakRss: ps?.peakRssBytes ?? sampledPeak,
    sampledPeak,
    bareRss: bare?.peakRssBytes ?? null,
  };
}

console.log(
  `node ${process.version}, client ${client}, archiver.maxBufferedBytes ${budgetText}, values ${valueKind}, fetch ${fmt(bareFetch.maxBytes / MiB, 0)} MiB / ${fmt(bareFetch.maxBytesPerPartition / MiB, 0)} MiB per partition, ${new Date().toISOString()}`,
);
const rows: Row[] = [];
for (const l of layouts) {
  try {
    rows.push(await runOne(l.topics, l.partitions));
  } catch (err) {
    console.log(`layout ${l.topics}x${l.partitions} failed: ${(err as Error).message}`);
  }
  printTable();
}

function printTable(): void {
  console.log(
    `\n${table(
      [
        'topics x partitions',
        'partitions',
        'records',
        'payload MB',
        'archive s',
        'peak RSS MiB (VmHWM)',
        'budget MiB',
        'overhead MiB (peak - budget)',
        'bare consumer peak MiB',
        'archiver overhead MiB (peak - bare - budget)',
      ],
      rows.map((r) => [
        r.layout,
        r.partitions.toLocaleString('en-US'),
        r.records.toLocaleString('en-US'),
        fmt(r.payloadMB),
        fmt(r.seconds),
        fmt(r.peakRss / MiB, 0),
        fmt(budget / MiB, 0),
        fmt((r.peakRss - budget) / MiB, 0),
        r.bareRss === null ? '-' : fmt(r.bareRss / MiB, 0),
        r.bareRss === null ? '-' : fmt((r.peakRss - r.bareRss - budget) / MiB, 0),
      ]),
    )}`,
  );
}
process.exit(rows.length === layouts.length ? 0 : 1);
