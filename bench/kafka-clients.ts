/**
 * Kafka client comparison: which client should the product use? Same broker, same topic, same run.
 *
 *  1. produce: each producer writes the benchmark's records (bench/lib/records.ts: M records of
 *     --value-bytes JSON-ish values, 16-byte keys, 1-3 headers) to its own fresh topic
 *     (--partitions, compression.type=producer), idempotent, acks=all, lz4:
 *     kafkajs 2.2.4 (the product's settings: one request in flight), @platformatic/kafka,
 *     @confluentinc/kafka-javascript (KafkaJS-compatible API), and two native references:
 *     `kcat -P` (static headers) and Kafka's own ProducerPerformance (values only, no keys or
 *     headers, 100k distinct values, batch.size=1 MiB to match librdkafka's default).
 *     The kafkajs topic is kept as the read topic ("produced once").
 *  2. read: a warm-up `kcat -C` counts the read topic (page cache warm), then each reader reads it
 *     whole from the beginning in a new group, --repeat times, interleaved; median reported:
 *     kafkajs bare consumer (bench/lib/baseline-consumer.ts, eachBatch counting bytes, the
 *     product's fetch sizes), @platformatic/kafka bare consumer (default Buffer deserializers,
 *     default fetch sizes: 50 MB per fetch; -tuned: the product's 16 MiB / 4 MiB per partition;
 *     -1m: 1 MiB fetches), confluent (eachBatch counting bytes, defaults; -tuned: no cap on the
 *     records per eachBatch call, default 32; -rdkafka: the package's lower-level node-rdkafka
 *     KafkaConsumer.consume(10000) loop) and `kcat -C` to
 *     /dev/null (simple consumer, no group).
 *  3. features (bench/lib/client-features.ts): real round trips on the broker per client.
 *
 * The candidate clients are not in the product's package.json: they are installed into
 * .cache/bench-clients (BENCH_CLIENTS_DIR) by this script when missing (bench/lib/clients.ts).
 *
 *   npx tsx bench/kafka-clients.ts [--brokers 127.0.0.1:43419] [--records 1000000]
 *     [--value-bytes 1024] [--partitions 8] [--repeat 3]
 *     [--readers kafkajs,platformatic,platformatic-tuned,platformatic-1m,confluent,
 *       confluent-tuned,confluent-rdkafka,kcat]
 *     [--producers kafkajs,platformatic,confluent,kcat,java] [--features yes|no]
 *     [--kafka-libs .cache/kafka/4.1.1/libs] [--broker-dir DIR] [--json FILE]
 * --broker-dir (the broker's scripts/kafka.sh directory) lets the feature check read the codec of
 * the stored batches with kafka.tools.DumpLogSegments.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { encodeHwm, loadKafkajs, newKafka } from './lib/kafka.js';
import { CONFLUENT, PLATFORMATIC, ensureClient, type InstallReport } from './lib/clients.js';
import {
  kcatProduce,
  kcatReadToNull,
  producerPerformance,
  writeJavaPayloads,
  writeKcatInput,
} from './lib/native.js';
import { fmt, intFlag, MB, parseFlags, table } from './lib/util.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');
const TSX = import.meta.resolve('tsx');

const flags = parseFlags(process.argv.slice(2), {
  brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:43419',
  records: '1000000',
  'value-bytes': '1024',
  partitions: '8',
  repeat: '3',
  readers:
    'kafkajs,platformatic,platformatic-tuned,confluent,confluent-tuned,confluent-rdkafka,kcat',
  producers: 'kafkajs,platformatic,confluent,kcat,java',
  features: 'yes',
  'kafka-libs': join(ROOT, '.cache/kafka/4.1.1/libs'),
  'broker-dir': '',
  'timeout-s': '900',
  json: '',
  keep: false,
});
const brokers = String(flags.brokers).split(',');
const M = intFlag(flags, 'records');
const valueBytes = intFlag(flags, 'value-bytes');
const partitions = intFlag(flags, 'partitions');
const repeat = intFlag(flags, 'repeat');
const readers = String(flags.readers).split(',').filter(Boolean);
const producers = String(flags.producers).split(',').filter(Boolean);
const kafkaLibs = resolve(String(flags['kafka-libs']));
const timeoutMs = intFlag(flags, 'timeout-s') * 1000;
const tag = randomBytes(4).toString('hex');

const kafkajs = loadKafkajs();
const kafka = newKafka(kafkajs, brokers, `bench-clients-${tag}`);
/**
 * A short-lived kafkajs admin per call: kafkajs 2.2.4 keeps every topic an admin has seen in its
 * metadata refresh list, and once such a topic is deleted every later call of that admin fails
 * (see src/kafka/kafkajs/client.ts).
 */
async function withAdmin<T>(fn: (a: ReturnType<typeof kafka.admin>) => Promise<T>): Promise<T> {
  // A few tries: right after a topic was created or deleted the broker can briefly answer
  // "This server does not host this topic-partition" (seen under heavy machine load).
  for (let attempt = 1; ; attempt++) {
    const a = kafka.admin();
    try {
      await a.connect();
      return await fn(a);
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    } finally {
      await a.disconnect().catch(() => undefined);
    }
  }
}
const created: string[] = [];

const loadNote = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;

// ---- helpers -------------------------------------------------------------------------------------

interface Spawned {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<Spawned> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.length > 1e6) out = out.slice(-5e5);
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 1e6) err = err.slice(-5e5);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, out, err, ms: performance.now() - t0 });
    });
  });
}

async function runTsx(script: string, args: string[]): Promise<Record<string, unknown>> {
  const r = await run(process.execPath, ['--import', TSX, join(ROOT, script), ...args]);
  const line = r.out.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{')) {
    throw new Error(`${script} ${args.join(' ')} exited ${r.code}: ${r.err.slice(-3000)}`);
  }
  return JSON.parse(line) as Record<string, unknown>;
}

async function createTopic(name: string): Promise<void> {
  await withAdmin((admin) =>
    admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: name,
          numPartitions: partitions,
          replicationFactor: 1,
          configEntries: [
            { name: 'compression.type', value: 'producer' },
            { name: 'retention.ms', value: '-1' },
          ],
        },
      ],
    }),
  );
  created.push(name);
}

async function highWatermarks(name: string): Promise<Map<number, number>> {
  const offsets = await withAdmin((a) => a.fetchTopicOffsets(name));
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}

const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor((s.length - 1) / 2)] as number);
};

function version(cmd: string, args: string[], re: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return re.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? '?';
}

// ---- setup ---------------------------------------------------------------------------------------

const work = await mkdtemp(join(tmpdir(), 'kafka-clients-bench-'));
const installs: InstallReport[] = [];
const needs = new Set([...readers, ...producers]);
if (
  needs.has('platformatic') ||
  needs.has('platformatic-tuned') ||
  needs.has('platformatic-1m') ||
  flags.features === 'yes'
)
  installs.push(ensureClient(PLATFORMATIC));
if (
  needs.has('confluent') ||
  needs.has('confluent-tuned') ||
  needs.has('confluent-rdkafka') ||
  flags.features === 'yes'
)
  installs.push(ensureClient(CONFLUENT));
for (const i of installs) {
  if (!i.ok) console.log(`! ${i.name}@${i.version} could not be installed: ${i.error}`);
  else if (i.installSeconds !== null) {
    console.log(`installed ${i.name}@${i.version} in ${fmt(i.installSeconds, 0)} s`);
  }
}
const failedInstall = new Set(
  installs
    .filter((i) => !i.ok)
    .flatMap((i) =>
      i.name === CONFLUENT.name
        ? ['confluent', 'confluent-tuned', 'confluent-rdkafka']
        : ['platformatic', 'platformatic-tuned', 'platformatic-1m'],
    ),
);

const versions: Record<string, string> = {
  node: process.version,
  kafkajs: (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version,
  platformatic: PLATFORMATIC.version,
  confluent: CONFLUENT.version,
  kcat: version(
    'kcat',
    ['-V'],
    /kcat - Apache Kafka producer and consumer tool[\s\S]*?Version ([^\s]+)/,
  ),
  'kcat librdkafka': version('kcat', ['-V'], /librdkafka (?:version )?([\d.]+)/),
  java: version('java', ['-version'], /version "([^"]+)"/),
};
if (!failedInstall.has('confluent')) {
  try {
    const { loadConfluent } = await import('./lib/clients.js');
    versions['confluent librdkafka'] = loadConfluent().librdkafkaVersion;
  } catch (err) {
    failedInstall.add('confluent');
    console.log(`! confluent client does not load: ${(err as Error).message}`);
  }
}

console.log(
  `node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), ${fmt(totalmem() / 2 ** 30, 0)} GiB RAM, ${new Date().toISOString()}, ${loadNote()}`,
);
console.log(`versions: ${JSON.stringify(versions)}`);
console.log(
  `${M.toLocaleString('en-US')} records of ${valueBytes} B values, ${partitions} partitions, lz4; brokers ${brokers.join(',')}`,
);

// ---- producers -----------------------------------------------------------------------------------

interface ProduceResult {
  name: string;
  records: number;
  payloadBytes: number;
  sendMs: number;
  cpuSeconds?: number;
  peakRssBytes?: number;
  note?: string;
  error?: string;
}

const produceResults: ProduceResult[] = [];
let readTopic = '';

async function produceWith(name: string): Promise<ProduceResult> {
  const topic = `bench-clients-${name}-${tag}`;
  await createTopic(topic);
  let res: ProduceResult;
  if (name === 'kafkajs' || name === 'platformatic' || name === 'confluent') {
    const r = await runTsx('bench/lib/client-worker.ts', [
      '--mode',
      'produce',
      '--client',
      name,
      '--brokers',
      brokers.join(','),
      '--topic',
      topic,
      '--records',
      String(M),
      '--value-bytes',
      String(valueBytes),
      '--partitions',
      String(partitions),
    ]);
    res = {
      name,
      records: r.records as number,
      payloadBytes: r.payloadBytes as number,
      sendMs: r.sendMs as number,
      cpuSeconds: r.cpuSeconds as number,
      peakRssBytes: r.peakRssBytes as number,
    };
  } else if (name === 'kcat') {
    const file = await kcatInput();
    const r = await kcatProduce(brokers, topic, file.path, timeoutMs);
    res = {
      name: 'kcat -P (native reference)',
      records: M,
      payloadBytes: file.payload,
      sendMs: r.ms,
      cpuSeconds: r.cpuSeconds,
      peakRssBytes: r.peakRssBytes,
      note: 'stdin from a page-cached file; 2 static headers per record; key-hash partitioner',
    };
  } else if (name === 'java') {
    const file = await writeJavaPayloads(join(work, 'java-payloads.txt'), M, valueBytes);
    const r = await producerPerformance(kafkaLibs, brokers, topic, M, file, timeoutMs);
    res = {
      name: 'Kafka ProducerPerformance (Java, native reference)',
      records: M,
      payloadBytes: M * valueBytes,
      sendMs: r.sendMs,
      note: 'values only (no key, no headers), 100k distinct values; batch.size=1 MiB, linger.ms=5; time from its own first send',
    };
  } else throw new Error(`unknown producer ${name}`);
  const hwm = await highWatermarks(topic);
  if (sum(hwm) !== M) throw new Error(`${name}: topic holds ${sum(hwm)} records, expected ${M}`);
  if (name === 'kafkajs') readTopic = topic;
  else if (!flags.keep) {
    await withAdmin((admin) => admin.deleteTopics({ topics: [topic] })).catch(() => undefined);
    created.splice(created.indexOf(topic), 1);
  }
  return res;
}

let kcatFile: { path: string; payload: number } | null = null;
async function kcatInput(): Promise<{ path: string; payload: number }> {
  kcatFile ??= await writeKcatInput(join(work, 'kcat-input.tsv'), M, valueBytes);
  return kcatFile;
}

// ---- readers -------------------------------------------------------------------------------------

interface ReadResult {
  name: string;
  records: number;
  payloadBytes: number;
  totalMs: number;
  fromFirstFetchMs: number;
  cpuSeconds: number;
  peakRssBytes: number;
  maxBlockMs?: number;
  /** Event-loop blocks over 100 ms: when (ms after start) and how long; first fetch (ms). */
  blocks?: Array<{ atMs: number; ms: number }>;
  firstFetchMs?: number;
  callbacks?: number;
  maxRecordsPerCallback?: number;
}

const READER_NAMES: Record<string, string> = {
  kafkajs: `kafkajs ${versions.kafkajs} (eachBatch)`,
  platformatic: `@platformatic/kafka ${PLATFORMATIC.version} (stream)`,
  'platformatic-tuned': `@platformatic/kafka ${PLATFORMATIC.version} (stream, 16 MiB / 4 MiB fetches)`,
  'platformatic-1m': `@platformatic/kafka ${PLATFORMATIC.version} (stream, 1 MiB fetches)`,
  confluent: `@confluentinc/kafka-javascript ${CONFLUENT.version} (eachBatch)`,
  'confluent-tuned': `@confluentinc/kafka-javascript ${CONFLUENT.version} (eachBatch, js.consumer.max.batch.size=-1)`,
  'confluent-rdkafka': `@confluentinc/kafka-javascript ${CONFLUENT.version} (node-rdkafka API, consume(10000))`,
  kcat: 'kcat -C > /dev/null (native reference)',
};

async function readWith(name: string, hwm: Map<number, number>, n: number): Promise<ReadResult> {
  const group = `bench-clients-read-${name}-${n}-${tag}`;
  if (name === 'kcat') {
    const r = await kcatReadToNull(brokers, readTopic, timeoutMs);
    return {
      name: READER_NAMES.kcat as string,
      records: M,
      payloadBytes: NaN,
      totalMs: r.ms,
      fromFirstFetchMs: r.ms,
      cpuSeconds: r.cpuSeconds,
      peakRssBytes: r.peakRssBytes,
    };
  }
  const common = ['--brokers', brokers.join(','), '--topic', readTopic, '--group', group];
  const r =
    name === 'kafkajs'
      ? await runTsx('bench/lib/baseline-consumer.ts', [...common, '--hwm', encodeHwm(hwm)])
      : await runTsx('bench/lib/client-worker.ts', [
          '--mode',
          'read',
          '--client',
          name,
          ...common,
          '--hwm',
          encodeHwm(hwm),
        ]);
  if (r.records !== M) throw new Error(`${name} read ${String(r.records)} records, expected ${M}`);
  const loop = r.loop as
    { maxBlockMs?: number; blocks?: Array<{ atMs: number; ms: number }> } | undefined;
  return {
    name: READER_NAMES[name] ?? name,
    records: r.records as number,
    payloadBytes: r.payloadBytes as number,
    totalMs: r.totalMs as number,
    fromFirstFetchMs: r.fromFirstFetchMs as number,
    cpuSeconds: r.cpuSeconds as number,
    peakRssBytes: r.peakRssBytes as number,
    ...(loop?.maxBlockMs !== undefined ? { maxBlockMs: loop.maxBlockMs } : {}),
    ...(loop?.blocks !== undefined ? { blocks: loop.blocks } : {}),
    ...(typeof r.firstFetchMs === 'number' ? { firstFetchMs: r.firstFetchMs } : {}),
    ...(typeof r.callbacks === 'number' ? { callbacks: r.callbacks } : {}),
    ...(typeof r.maxRecordsPerCallback === 'number'
      ? { maxRecordsPerCallback: r.maxRecordsPerCallback }
      : {}),
  };
}

// ---- main ----------------------------------------------------------------------------------------

const readRuns = new Map<string, ReadResult[]>();
let payloadBytes = 0;
let features: Record<string, unknown> | null = null;
try {
  // The read topic first (kafkajs, the current dependency, produces it), then the readers while
  // it is the most recently written data, then the other producers.
  const produceOne = async (p: string) => {
    if (failedInstall.has(p)) {
      produceResults.push({
        name: p,
        records: 0,
        payloadBytes: 0,
        sendMs: NaN,
        error: 'not installed',
      });
      return;
    }
    console.log(`producing with ${p}... (${loadNote()})`);
    try {
      const r = await produceWith(p);
      console.log(`  ${fmt(r.payloadBytes / MB / (r.sendMs / 1000), 1)} MB/s`);
      if (producers.includes(p)) produceResults.push(r);
      if (p === 'kafkajs') payloadBytes = r.payloadBytes;
    } catch (err) {
      if (p === 'kafkajs') throw err;
      console.log(`  ${p} failed: ${(err as Error).message}`);
      produceResults.push({
        name: p,
        records: 0,
        payloadBytes: 0,
        sendMs: NaN,
        error: (err as Error).message.slice(0, 500),
      });
    }
  };
  await produceOne('kafkajs');
  const hwm = await highWatermarks(readTopic);
  console.log(`read topic ${readTopic}: high-water marks ${encodeHwm(hwm)}`);

  // Warm-up, and an independent count of the read topic.
  const warm = await run('bash', [
    '-c',
    `kcat -C -b ${brokers.join(',')} -t ${readTopic} -o beginning -e -q -f '%p\\n' | wc -l`,
  ]);
  const counted = Number(warm.out.trim());
  console.log(
    `warm-up kcat -C: ${counted.toLocaleString('en-US')} records in ${fmt(warm.ms / 1000, 1)} s`,
  );
  if (counted !== M) throw new Error(`kcat counted ${counted} records, expected ${M}`);

  const active = readers.filter((r) => !failedInstall.has(r));
  for (let n = 0; n < repeat; n++) {
    // Rotate the order every round.
    const round = active.map((_, i) => active[(i + n) % active.length] as string);
    for (const name of round) {
      console.log(`round ${n + 1}/${repeat}: reading with ${name}... (${loadNote()})`);
      const r = await readWith(name, hwm, n);
      console.log(
        `  ${fmt(r.totalMs / 1000, 2)} s total, ${fmt(r.fromFirstFetchMs / 1000, 2)} s from the first fetch, ${fmt(payloadBytes / MB / (r.fromFirstFetchMs / 1000), 1)} MB/s`,
      );
      const list = readRuns.get(name) ?? [];
      list.push(r);
      readRuns.set(name, list);
    }
  }

  for (const p of producers.filter((x) => x !== 'kafkajs')) await produceOne(p);

  if (flags.features === 'yes') {
    console.log(`feature round trips... (${loadNote()})`);
    features = {};
    for (const c of ['kafkajs', 'platformatic', 'confluent']) {
      if (failedInstall.has(c)) {
        features[c] = { error: 'not installed' };
        continue;
      }
      try {
        features[c] = await runTsx('bench/lib/client-features.ts', [
          '--client',
          c,
          '--brokers',
          brokers.join(','),
          '--kafka-libs',
          kafkaLibs,
          ...(flags['broker-dir'] !== ''
            ? ['--broker-dir', resolve(String(flags['broker-dir']))]
            : []),
        ]);
      } catch (err) {
        features[c] = { error: (err as Error).message.slice(0, 1500) };
      }
    }
  }
} finally {
  if (!flags.keep && created.length > 0) {
    await withAdmin((admin) => admin.deleteTopics({ topics: created })).catch(() => undefined);
  }
  await rm(work, { recursive: true, force: true });
}

// ---- report --------------------------------------------------------------------------------------

const payloadMB = payloadBytes / MB;
const kcatRuns = readRuns.get('kcat');
const kcatRate = kcatRuns ? M / (median(kcatRuns.map((r) => r.totalMs)) / 1000) : NaN;
const readRows: string[][] = [];
const readSummary: Array<Record<string, unknown>> = [];
for (const [name, list] of readRuns) {
  const ff = median(list.map((r) => r.fromFirstFetchMs)) / 1000;
  const tot = median(list.map((r) => r.totalMs)) / 1000;
  const rate = M / ff;
  const best = Math.min(...list.map((r) => r.fromFirstFetchMs)) / 1000;
  const worst = Math.max(...list.map((r) => r.fromFirstFetchMs)) / 1000;
  const first = list[0] as ReadResult;
  readRows.push([
    first.name,
    fmt(tot, 2),
    fmt(ff, 2),
    `${fmt(payloadMB / worst, 0)}–${fmt(payloadMB / best, 0)}`,
    fmt(payloadMB / ff, 1),
    fmt(rate, 0),
    `${fmt(rate / kcatRate, 2)}x`,
    // Per round against the kcat run of the same round (the machine is shared: load drifts).
    kcatRuns
      ? `${fmt(median(list.map((r, i) => (kcatRuns[i] ? kcatRuns[i].totalMs / r.fromFirstFetchMs : NaN))), 2)}x`
      : '-',
    fmt(median(list.map((r) => r.cpuSeconds)), 1),
    fmt(median(list.map((r) => r.peakRssBytes)) / MB, 0),
    first.maxBlockMs === undefined ? '-' : fmt(median(list.map((r) => r.maxBlockMs ?? 0)), 0),
    first.maxRecordsPerCallback === undefined
      ? '-'
      : `${fmt(M / median(list.map((r) => r.callbacks ?? 1)), 0)} / ${first.maxRecordsPerCallback}`,
  ]);
  readSummary.push({
    name,
    runs: list,
    medianFromFirstFetchS: ff,
    medianTotalS: tot,
    recordsPerS: rate,
  });
}
console.log(
  `\nRead: ${M.toLocaleString('en-US')} records, ${fmt(payloadMB, 1)} MB payload (key + value + headers), ${partitions} partitions, lz4, read_committed; median of ${repeat} runs\n`,
);
console.log(
  table(
    [
      'reader',
      'total s',
      'from 1st fetch s',
      'MB/s range',
      'MB/s',
      'records/s',
      'vs kcat',
      'vs kcat, same round',
      'CPU s',
      'peak RSS MB',
      'max loop block ms',
      'records per callback (mean / max)',
    ],
    readRows,
  ),
);
const javaRow = produceResults.find((r) => r.name.startsWith('Kafka ProducerPerformance'));
const kcatProd = produceResults.find((r) => r.name.startsWith('kcat'));
const prodRef = kcatProd && !kcatProd.error ? kcatProd : javaRow;
const prodRefRate = prodRef ? prodRef.records / (prodRef.sendMs / 1000) : NaN;
console.log(
  `\nProduce: ${M.toLocaleString('en-US')} records, idempotent, acks=all, lz4, ${partitions} partitions (ratio vs ${prodRef?.name ?? '?'})\n`,
);
console.log(
  table(
    ['producer', 's', 'MB/s', 'records/s', 'vs native', 'CPU s', 'peak RSS MB', 'note'],
    produceResults.map((r) =>
      r.error
        ? [r.name, '-', '-', '-', '-', '-', '-', `failed: ${r.error.slice(0, 120)}`]
        : [
            r.name,
            fmt(r.sendMs / 1000, 2),
            fmt(r.payloadBytes / MB / (r.sendMs / 1000), 1),
            fmt(r.records / (r.sendMs / 1000), 0),
            `${fmt(r.records / (r.sendMs / 1000) / prodRefRate, 2)}x`,
            r.cpuSeconds === undefined ? '-' : fmt(r.cpuSeconds, 1),
            r.peakRssBytes === undefined ? '-' : fmt(r.peakRssBytes / MB, 0),
            r.note ?? '',
          ],
    ),
  ),
);
if (features !== null) {
  console.log('\nFeatures (round trips on the broker):');
  console.log(JSON.stringify(features, null, 2));
}
console.log(`\n${loadNote()}`);
if (flags.json !== '') {
  await writeFile(
    String(flags.json),
    JSON.stringify(
      {
        records: M,
        valueBytes,
        partitions,
        payloadBytes,
        versions,
        installs,
        reads: readSummary,
        produces: produceResults,
        features,
      },
      null,
      2,
    ),
  );
}
process.exit(0);
