/**
 * Restore throughput: produce M records to a fresh topic, archive it with the product
 * (`kafka-archive run`, until the sealed segments cover every high-water mark), then in the same
 * run, against the same broker, time:
 *   (a) the product as shipped: `kafka-archive restore T --target-topic T.r-<client> --no-progress
 *       --json` (restore.* defaults: concurrency 4, one transaction per batch of
 *       restore.batchRecords / restore.batchBytes, restore.compression), for each client of
 *       --client (kafka.client: the target client is built from it, src/config/restore.ts);
 *   (b) baseline: a bare kafkajs producer (bench/lib/baseline-producer.ts, own process) sending
 *       the same records: idempotent, acks=all, the product's producer settings, one send() per
 *       batch of the restore's default batch sizes; records generated outside the clock;
 *   (c) the same, transactional: one transaction per batch, as the restore commits;
 *   (d) native references: `kcat -P` (librdkafka, idempotent, acks=all, lz4) from a page-cached
 *       key⇥value file with two static headers, and Kafka's ProducerPerformance (Java client,
 *       idempotent, acks=all, lz4; values only) from the broker's jars;
 *   (e) peer: osodevops/kafka-backup's restore of its own backup of the source topic into a new
 *       topic (`--kafka-backup BIN` or env KAFKA_BACKUP_BIN; skipped with a message otherwise);
 *       its backup runs first, outside the timed runs.
 * Every target must hold M records (its high-water marks summed, less the transaction markers
 * the run wrote: one per partition per transaction). MB/s is payload (key + value + header keys and
 * values) per second; each run counts its own payload (kcat: two static headers, Java: values
 * only). Ratios are of MB/s. The report ends with the restore (CLI) against each reference.
 *
 *   npx tsx bench/restore-throughput.ts [--brokers 127.0.0.1:43419] [--records 1000000]
 *     [--value-bytes 1024] [--partitions 8] [--compression lz4|none]
 *     [--runs restore,bare,bare-txn,kcat,java,kafka-backup] [--client kafkajs,platformatic]
 *     [--kafka-backup BIN] [--kafka-libs .cache/kafka/4.1.1/libs] [--json FILE] [--keep]
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { configSchema } from '../src/config/index.js';
import { produceGenerated } from './lib/produce.js';
import { hotHighWatermark } from './lib/hot.js';
import { loadKafkajs, newKafka, procStats } from './lib/kafka.js';
import { kafkaBackupBackupConfig, kafkaBackupRestoreConfig } from './lib/kafka-backup.js';
import { brokerPid, loadNote, machineCpu } from './lib/machine.js';
import {
  kcatProduce,
  producerPerformance,
  runTimed,
  writeJavaPayloads,
  writeKcatInput,
} from './lib/native.js';
import { fmt, intFlag, MB, MiB, parseFlags, sleep, table } from './lib/util.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');

const flags = parseFlags(process.argv.slice(2), {
  brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:43419',
  records: '1000000',
  'value-bytes': '1024',
  partitions: '8',
  compression: 'lz4',
  runs: 'restore,bare,bare-txn,kcat,java,kafka-backup',
  client: 'kafkajs,platformatic',
  'kafka-backup': process.env.KAFKA_BACKUP_BIN ?? '',
  'kafka-libs': join(ROOT, '.cache/kafka/4.1.1/libs'),
  'segment-bytes': String(16 * MiB),
  'timeout-s': '1800',
  json: '',
  keep: false,
});
const brokers = String(flags.brokers).split(',');
const M = intFlag(flags, 'records');
const valueBytes = intFlag(flags, 'value-bytes');
const partitions = intFlag(flags, 'partitions');
const compression = String(flags.compression) as 'lz4' | 'none';
if (compression !== 'lz4' && compression !== 'none') throw new Error('--compression lz4|none');
const runs = String(flags.runs).split(',').filter(Boolean);
for (const r of runs) {
  if (!['restore', 'bare', 'bare-txn', 'kcat', 'java', 'kafka-backup'].includes(r)) {
    throw new Error(`unknown run ${r}; known: restore,bare,bare-txn,kcat,java,kafka-backup`);
  }
}
type Client = 'kafkajs' | 'platformatic';
const clients = String(flags.client).split(',') as Client[];
for (const c of clients) {
  if (c !== 'kafkajs' && c !== 'platformatic') throw new Error('--client kafkajs,platformatic');
}
const kafkaBackupBin = String(flags['kafka-backup']);
const kafkaLibs = resolve(String(flags['kafka-libs']));
const segmentBytes = intFlag(flags, 'segment-bytes');
const timeoutMs = intFlag(flags, 'timeout-s') * 1000;
const tag = randomBytes(4).toString('hex');
const topic = `bench-restore-${tag}`;
/** The product's restore defaults (restore.batchRecords, batchBytes, concurrency, compression). */
const restoreDefaults = configSchema.parse({}).restore;

const kafkajs = loadKafkajs();
const kafka = newKafka(kafkajs, brokers, `bench-orchestrator-${tag}`);
const admin = kafka.admin();
await admin.connect();
const created: string[] = [];

async function createTopic(name: string, compressionType: string): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: name,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: [
          { name: 'compression.type', value: compressionType },
          // The records carry this year's January timestamps: the default 7-day retention
          // would delete them from the targets within minutes.
          { name: 'retention.ms', value: '-1' },
        ],
      },
    ],
  });
  created.push(name);
}

/**
 * The sum of a topic's last stable offsets (kafkajs' fetchTopicOffsets reads read_committed):
 * waits (up to 60 s, outside every clock) until it reaches `expected`, since a transaction's
 * commit returns before the broker has written its markers; then what it is.
 */
async function recordCount(name: string, expected = M): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 0; ; attempt++) {
    let n = -1;
    try {
      n = 0;
      for (const o of await admin.fetchTopicOffsets(name)) n += Number(o.high);
    } catch (err) {
      // Right after a create or a restore under load, metadata may lag for a moment.
      if (attempt >= 10) throw err;
      n = -1;
    }
    if (n >= expected || (n >= 0 && Date.now() > deadline)) return n;
    await sleep(500);
  }
}

// ---- produce the source topic ------------------------------------------------------------------

async function produce(): Promise<{ ms: number; payload: number }> {
  await createTopic(topic, compression === 'lz4' ? 'lz4' : 'producer');
  return produceGenerated(kafkajs, kafka, {
    topic,
    records: M,
    partitions,
    valueBytes,
    compression,
  });
}

// ---- archive it with the product -----------------------------------------------------------------

/** Where the archive lives: `kafka-archive` runs with cwd `dir`, hot tier `dir/hot`. */
function productEnv(dir: string, client: Client): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...(client !== 'kafkajs' ? { KAFKA_ARCHIVE_KAFKA__CLIENT: client } : {}),
    KAFKA_ARCHIVE_KAFKA__BROKERS: brokers.join(','),
    KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(dir, 'hot'),
    KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_BYTES: String(segmentBytes),
    KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '3000',
    // Archiving and restoring only (see bench/archive-throughput.ts): no tiering.
    KAFKA_ARCHIVE_TIERING__ENABLED: 'false',
    KAFKA_ARCHIVE_LOG__LEVEL: 'info',
    KAFKA_ARCHIVE_LOG__PRETTY: 'false',
  };
}

async function archive(dir: string, hwm: Map<number, number>): Promise<number> {
  const t0 = performance.now();
  const group = `bench-restore-archive-${tag}`;
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/kafka-archive.js'), 'run', '--topics', topic, '--group', group],
    { cwd: dir, env: productEnv(dir, 'kafkajs'), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let tail = '';
  child.stderr.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-20_000)));
  let exited = false;
  child.on('exit', () => (exited = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let all = true;
    for (const [p, h] of hwm) {
      const last = await hotHighWatermark(join(dir, 'hot'), topic, p);
      if (last === null || last < BigInt(h - 1)) {
        all = false;
        break;
      }
    }
    if (all) break;
    if (exited) throw new Error(`kafka-archive run exited early: ${tail.slice(-3000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('timed out waiting for the archive');
    }
    await sleep(200);
  }
  const ms = performance.now() - t0;
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  child.kill('SIGTERM');
  await closed;
  return ms;
}

// ---- timed runs ----------------------------------------------------------------------------------

const NAMES = {
  bare: 'baseline: bare kafkajs producer',
  bareTxn: 'baseline: bare kafkajs producer, one transaction per batch',
  kcat: 'native: kcat -P (librdkafka)',
  java: 'native: Kafka ProducerPerformance (Java)',
  kafkaBackup: 'peer: kafka-backup restore (Rust)',
} as const;

interface RunResult {
  name: string;
  /** Wall time counted for the rates. */
  ms: number;
  payloadBytes: number;
  cpuSeconds: number;
  peakRssBytes: number;
  /** Records in the target: its high-water marks' sum less the transaction markers. */
  records: number;
  /** Transaction markers (commit records, one offset each) the run wrote into the target. */
  markers: number;
  note?: string;
  machineBusyPct?: number;
  brokerCpuSeconds?: number;
}

function runNode(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-200_000)));
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, out, err });
    });
  });
}

/** `kafka-archive restore` under GNU time (CPU of the whole process, peak RSS). */
async function runRestore(dir: string, client: Client, payload: number): Promise<RunResult> {
  const target = `${topic}.r-${client}`;
  await createTopic(target, 'producer');
  const args = [
    join(ROOT, 'bin/kafka-archive.js'),
    '--json',
    'restore',
    topic,
    '--target-topic',
    target,
    '--no-progress',
  ];
  console.log(
    `  ${client === 'kafkajs' ? '' : `KAFKA_ARCHIVE_KAFKA__CLIENT=${client} `}node ${args.join(' ')}`,
  );
  const r = await runTimed(process.execPath, args, {
    cwd: dir,
    env: productEnv(dir, client),
    timeoutMs,
  });
  if (r.code !== 0)
    throw new Error(`kafka-archive restore exited ${r.code}: ${r.err.slice(-3000)}`);
  const out = JSON.parse(r.out) as {
    status: string;
    result: { records: number; recordBytes: number; transactions: number; seconds: number };
  };
  const markers = out.result.transactions;
  const records = (await recordCount(target, M + markers)) - markers;
  return {
    name: `product: kafka-archive restore (CLI, ${client})`,
    markers,
    ms: r.ms,
    payloadBytes: payload,
    cpuSeconds: r.cpuSeconds,
    peakRssBytes: r.peakRssBytes,
    records,
    note: `${out.status}, ${out.result.transactions} transactions; its own clock ${fmt(out.result.seconds, 1)} s (${fmt(out.result.recordBytes / MB / out.result.seconds, 1)} MB/s of record bytes); process start to exit counted`,
  };
}

async function runBare(transactional: boolean): Promise<RunResult> {
  const target = `${topic}.bare${transactional ? '-txn' : ''}`;
  await createTopic(target, 'producer');
  const r = await runNode(
    [
      '--import',
      import.meta.resolve('tsx'),
      join(ROOT, 'bench/lib/baseline-producer.ts'),
      '--brokers',
      brokers.join(','),
      '--topic',
      target,
      '--records',
      String(M),
      '--value-bytes',
      String(valueBytes),
      '--partitions',
      String(partitions),
      '--compression',
      compression,
      '--batch-records',
      String(restoreDefaults.batchRecords),
      '--batch-bytes',
      String(restoreDefaults.batchBytes),
      ...(transactional ? ['--transactional'] : []),
    ],
    process.env,
    ROOT,
  );
  const line = r.out.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{')) {
    throw new Error(`baseline-producer exited ${r.code}: ${r.err.slice(-3000)}`);
  }
  const j = JSON.parse(line) as {
    records: number;
    payloadBytes: number;
    sends: number;
    markers: number;
    connectMs: number;
    ms: number;
    cpuSeconds: number;
    peakRssBytes: number;
  };
  return {
    name: transactional ? NAMES.bareTxn : NAMES.bare,
    ms: j.ms,
    payloadBytes: j.payloadBytes,
    cpuSeconds: j.cpuSeconds,
    peakRssBytes: j.peakRssBytes,
    records: (await recordCount(target, M + j.markers)) - j.markers,
    markers: j.markers,
    note: `${j.sends} ${transactional ? 'transactions' : 'sends'} of <= ${restoreDefaults.batchRecords} records / ${fmt(restoreDefaults.batchBytes / MiB, 0)} MiB; connect (${fmt(j.connectMs / 1000, 1)} s) included, record generation excluded`,
  };
}

async function runKcat(work: string): Promise<RunResult> {
  const target = `${topic}.kcat`;
  await createTopic(target, 'producer');
  const file = await writeKcatInput(join(work, 'kcat-input.tsv'), M, valueBytes);
  const r = await kcatProduce(brokers, target, file.path, timeoutMs);
  await rm(file.path, { force: true });
  return {
    name: NAMES.kcat,
    ms: r.ms,
    payloadBytes: file.payload,
    cpuSeconds: r.cpuSeconds,
    peakRssBytes: r.peakRssBytes,
    records: await recordCount(target),
    markers: 0,
    note: 'idempotent, acks=all, lz4; stdin from a page-cached key/value file, 2 static headers per record, key-hash partitioner; process start to exit',
  };
}

async function runJava(work: string): Promise<RunResult> {
  const target = `${topic}.java`;
  await createTopic(target, 'producer');
  const file = await writeJavaPayloads(join(work, 'java-payloads.txt'), M, valueBytes);
  const r = await producerPerformance(kafkaLibs, brokers, target, M, file, timeoutMs);
  return {
    name: NAMES.java,
    ms: r.sendMs,
    payloadBytes: M * valueBytes,
    cpuSeconds: r.cpuSeconds,
    peakRssBytes: r.peakRssBytes,
    records: await recordCount(target),
    markers: 0,
    note: `idempotent, acks=all, lz4, batch.size=1 MiB, linger.ms=5; values only (no keys or headers); its own clock from the first send (process ${fmt(r.ms / 1000, 1)} s); CPU includes JVM start`,
  };
}

const backupId = `bench-${tag}`;

/** kafka-backup's backup of the source topic (untimed: only the restore is compared). */
async function kafkaBackupBackup(dir: string): Promise<number> {
  const storage = join(dir, 'storage');
  await mkdir(storage, { recursive: true });
  const config = kafkaBackupBackupConfig({
    backupId,
    brokers,
    topic,
    storage,
    segmentBytes,
    offsetsDb: join(dir, 'offsets.db'),
  });
  const cfg = join(dir, 'backup.yaml');
  await writeFile(cfg, config);
  const r = await runTimed(kafkaBackupBin, ['backup', '--config', cfg], {
    cwd: dir,
    timeoutMs,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  if (r.code !== 0) throw new Error(`kafka-backup backup exited ${r.code}: ${r.err.slice(-3000)}`);
  return r.ms;
}

async function runKafkaBackupRestore(dir: string, payload: number): Promise<RunResult> {
  const target = `${topic}.kb`;
  await createTopic(target, 'producer');
  const config = kafkaBackupRestoreConfig({
    backupId,
    brokers,
    topic,
    storage: join(dir, 'storage'),
    target,
  });
  const cfg = join(dir, 'restore.yaml');
  await writeFile(cfg, config);
  console.log(`  ${kafkaBackupBin} restore --config ${cfg}\n${config.replace(/^/gm, '    ')}`);
  const r = await runTimed(kafkaBackupBin, ['restore', '--config', cfg], {
    cwd: dir,
    timeoutMs,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  if (r.code !== 0) throw new Error(`kafka-backup restore exited ${r.code}: ${r.err.slice(-3000)}`);
  return {
    name: NAMES.kafkaBackup,
    ms: r.ms,
    payloadBytes: payload,
    cpuSeconds: r.cpuSeconds,
    peakRssBytes: r.peakRssBytes,
    records: await recordCount(target),
    markers: 0,
    note: 'its defaults (acks=-1, produce_batch_size 1000, max_concurrent_partitions 4); process start to exit',
  };
}

// ---- main ----------------------------------------------------------------------------------------

const work = await mkdtemp(join(tmpdir(), 'kafka-archive-restore-bench-'));
const productDir = join(work, 'product');
await mkdir(productDir, { recursive: true });
console.log(
  `node ${process.version}, ${availableParallelism()} CPUs, ${new Date().toISOString()}, ${loadNote()}`,
);
console.log(
  `topic ${topic}: ${M.toLocaleString('en-US')} records of ${valueBytes} B values, ${partitions} partitions, ${compression}; brokers ${brokers.join(',')}`,
);
console.log(
  `restore defaults: concurrency ${restoreDefaults.concurrency}, batchRecords ${restoreDefaults.batchRecords}, batchBytes ${restoreDefaults.batchBytes}, compression ${restoreDefaults.compression}`,
);

const results: RunResult[] = [];
let payload = 0;
const skipped: string[] = [];
try {
  const produced = await produce();
  payload = produced.payload;
  const offsets = await admin.fetchTopicOffsets(topic);
  const hwm = new Map<number, number>(offsets.map((o) => [o.partition, Number(o.high)]));
  const total = [...hwm.values()].reduce((a, b) => a + b, 0);
  if (total !== M) throw new Error(`topic holds ${total} records, expected ${M}`);
  console.log(
    `produced ${fmt(payload / MB, 1)} MB payload in ${fmt(produced.ms / 1000, 1)} s; archiving it with kafka-archive run... (${loadNote()})`,
  );
  const archiveMs = await archive(productDir, hwm);
  console.log(`  archived in ${fmt(archiveMs / 1000, 1)} s (process start to the last seal)`);
  const kbDir = join(work, 'kafka-backup');
  if (runs.includes('kafka-backup')) {
    if (kafkaBackupBin === '') {
      skipped.push(
        'kafka-backup restore: skipped (no --kafka-backup /path/to/kafka-backup and no KAFKA_BACKUP_BIN)',
      );
    } else {
      await mkdir(kbDir, { recursive: true });
      console.log(`kafka-backup backup of ${topic} (untimed)... (${loadNote()})`);
      const ms = await kafkaBackupBackup(kbDir);
      console.log(`  done in ${fmt(ms / 1000, 1)} s`);
    }
  }
  const plan: Array<[string, () => Promise<RunResult>]> = [];
  for (const run of runs) {
    if (run === 'restore') {
      for (const c of clients)
        plan.push([`restore (${c})`, () => runRestore(productDir, c, payload)]);
    } else if (run === 'bare') plan.push(['bare producer', () => runBare(false)]);
    else if (run === 'bare-txn') plan.push(['bare transactional producer', () => runBare(true)]);
    else if (run === 'kcat') plan.push(['kcat -P', () => runKcat(work)]);
    else if (run === 'java') plan.push(['ProducerPerformance', () => runJava(work)]);
    else if (run === 'kafka-backup' && kafkaBackupBin !== '') {
      plan.push(['kafka-backup restore', () => runKafkaBackupRestore(kbDir, payload)]);
    }
  }
  for (const [label, fn] of plan) {
    console.log(`running ${label}... (${loadNote()})`);
    const cpuBefore = await machineCpu();
    const bpid = brokerPid(brokers);
    const brokerBefore = bpid === null ? null : await procStats(bpid);
    const r = await fn();
    const cpuAfter = await machineCpu();
    if (cpuBefore && cpuAfter) {
      r.machineBusyPct =
        (100 * (cpuAfter.busy - cpuBefore.busy)) / (cpuAfter.total - cpuBefore.total);
    }
    const brokerAfter = bpid === null ? null : await procStats(bpid);
    if (brokerBefore && brokerAfter) {
      r.brokerCpuSeconds = brokerAfter.cpuSeconds - brokerBefore.cpuSeconds;
    }
    console.log(
      `  ${fmt(r.ms / 1000, 1)} s, ${fmt(r.payloadBytes / MB / (r.ms / 1000), 1)} MB/s, ${r.records} records in the target${r.records === M ? '' : ` (EXPECTED ${M})`}`,
    );
    results.push(r);
  }
} finally {
  if (!flags.keep) await admin.deleteTopics({ topics: created }).catch(() => undefined);
  await admin.disconnect();
  await rm(work, { recursive: true, force: true });
}

const rate = (r: RunResult) => r.payloadBytes / MB / (r.ms / 1000);
const bare = results.find((r) => r.name === NAMES.bare);
console.log(
  `\n${M.toLocaleString('en-US')} records, ${fmt(payload / MB, 1)} MB payload (key + value + headers), ${partitions} partitions, ${compression}\n`,
);
console.log(
  table(
    [
      'run',
      's',
      'records/s',
      'MB/s',
      'vs bare producer',
      'CPU s',
      'broker CPU s',
      'machine busy %',
      'peak RSS MB',
      'target records',
    ],
    results.map((r) => [
      r.name,
      fmt(r.ms / 1000, 1),
      fmt(M / (r.ms / 1000), 0),
      fmt(rate(r), 1),
      bare ? `${fmt(rate(r) / rate(bare), 2)}x` : '-',
      fmt(r.cpuSeconds, 1),
      r.brokerCpuSeconds === undefined ? '?' : fmt(r.brokerCpuSeconds, 1),
      r.machineBusyPct === undefined ? '?' : fmt(r.machineBusyPct, 0),
      fmt(r.peakRssBytes / MB, 0),
      `${r.records === M ? 'ok' : 'WRONG'}: ${r.records}${r.markers > 0 ? ` (hwm sum less ${r.markers} txn markers)` : ''}`,
    ]),
  ),
);
console.log('');
for (const r of results) if (r.note) console.log(`- ${r.name}: ${r.note}`);
for (const s of skipped) console.log(`- ${s}`);

for (const restore of results.filter((r) => r.name.startsWith('product:'))) {
  const refs: string[][] = [];
  for (const [label, name] of [
    ['bare kafkajs producer', NAMES.bare],
    ['bare kafkajs transactional producer', NAMES.bareTxn],
    ['kcat -P (librdkafka)', NAMES.kcat],
    ['ProducerPerformance (Java)', NAMES.java],
    ['kafka-backup restore (Rust peer)', NAMES.kafkaBackup],
  ] as const) {
    const ref = results.find((r) => r.name === name);
    if (ref === undefined) {
      const why =
        name === NAMES.kafkaBackup && kafkaBackupBin === '' ? 'skipped (no binary)' : 'not run';
      refs.push([label, '-', '-', why]);
      continue;
    }
    refs.push([label, fmt(rate(ref), 1), `${fmt(rate(restore) / rate(ref), 2)}x`, '']);
  }
  console.log(`\n${restore.name}: ${fmt(rate(restore), 1)} MB/s, as a ratio against:\n`);
  console.log(table(['reference', 'its MB/s', 'restore / it', 'note'], refs));
}

console.log(`\n${loadNote()}`);
if (flags.json !== '') {
  await writeFile(
    String(flags.json),
    JSON.stringify(
      { topic, records: M, valueBytes, partitions, compression, payload, results },
      null,
      2,
    ),
  );
}
process.exit(results.every((r) => r.records === M) ? 0 : 1);
