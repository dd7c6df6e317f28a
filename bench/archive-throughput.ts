/**
 * Archive throughput: produce M records to a fresh topic, then in the same run measure, for each
 * Kafka client of --client (kafkajs, platformatic; the product's `kafka.client`):
 *   (a) baseline: the bare client reading the whole topic in a new group, no processing, the
 *       product's fetch sizes, read_committed (own process): kafkajs eachBatch
 *       (bench/lib/baseline-consumer.ts) or @platformatic/kafka's MessagesStream
 *       (bench/lib/baseline-platformatic.ts);
 *   (b) the product as shipped: `node bin/kafka-archive.js run --topics T --group G` until the
 *       sealed segments on the hot tier cover every partition's high-water mark;
 *   (c) the product in-process (bench/lib/archiver-inproc.ts, own process): same Archiver, with
 *       observers that also give the time at which every record was consumed, per-seal times,
 *       and the archiver's event-loop block.
 *   (d) native reference: `kcat -C` of the whole topic to /dev/null (no group, read_committed);
 *   (e) peer: osodevops/kafka-backup's one-shot backup of the topic to a local directory
 *       (`--kafka-backup /path/to/kafka-backup` or env KAFKA_BACKUP_BIN; skipped with a message
 *       when neither is given), zstd segments, stop_at_current_offsets; checked with its
 *       manifest (record counts and offset ranges per partition); then its restore of that backup
 *       into a new topic (measured for later restore benchmarks; --kafka-backup-restore no skips).
 * Each consumer starts from the beginning in its own new group; the topic is read from the
 * broker's page cache by all of them (it was just produced). Afterwards every product archive is
 * checked with DuckDB over the hot directory (every offset of every partition exactly once).
 * The report ends with `kafka-archive run` (CLI) MB/s as a ratio against kafka-backup, kcat -C
 * and the bare consumer.
 *
 *   npx tsx bench/archive-throughput.ts [--brokers 127.0.0.1:43419] [--records 500000]
 *     [--value-bytes 1024] [--partitions 8] [--compression lz4|none]
 *     [--runs baseline,cli,inproc,kcat,kafka-backup] [--kafka-backup BIN]
 *     [--kafka-backup-restore yes|no] [--segment-bytes 16MiB] [--flush-ms 3000]
 *     [--client kafkajs,platformatic] [--keep]
 * Product runs go in the order of --runs, each for every client of --client; "vs baseline"
 * compares a product run with the same client's bare consumer.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, readdir, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { produceGenerated } from './lib/produce.js';
import { hotHighWatermark } from './lib/hot.js';
import { encodeHwm, loadKafkajs, newKafka, procStats } from './lib/kafka.js';
import type { LoopStats } from './lib/monitor.js';
import { kafkaBackupBackupConfig, kafkaBackupRestoreConfig } from './lib/kafka-backup.js';
import { brokerPid, loadNote, machineCpu } from './lib/machine.js';
import { kcatReadToNull, runTimed } from './lib/native.js';
import { fmt, intFlag, MB, MiB, parseFlags, sleep, table } from './lib/util.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');

const flags = parseFlags(process.argv.slice(2), {
  brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:43419',
  records: '500000',
  'value-bytes': '1024',
  partitions: '8',
  compression: 'lz4',
  runs: 'baseline,cli,inproc,kcat,kafka-backup',
  'kafka-backup': process.env.KAFKA_BACKUP_BIN ?? '',
  'kafka-backup-restore': 'yes',
  client: 'kafkajs',
  'segment-bytes': String(16 * MiB),
  'flush-ms': '3000',
  'timeout-s': '1200',
  topic: '',
  'product-root': '',
  json: '',
  keep: false,
});
const brokers = String(flags.brokers).split(',');
const M = intFlag(flags, 'records');
const valueBytes = intFlag(flags, 'value-bytes');
const partitions = intFlag(flags, 'partitions');
const compression = String(flags.compression) as 'lz4' | 'none';
if (compression !== 'lz4' && compression !== 'none') throw new Error('--compression lz4|none');
const runs = String(flags.runs).split(',');
type Client = 'kafkajs' | 'platformatic';
const clients = String(flags.client).split(',') as Client[];
for (const c of clients) {
  if (c !== 'kafkajs' && c !== 'platformatic') throw new Error('--client kafkajs,platformatic');
}
const segmentBytes = intFlag(flags, 'segment-bytes');
const flushMs = intFlag(flags, 'flush-ms');
const timeoutMs = intFlag(flags, 'timeout-s') * 1000;
const tag = randomBytes(4).toString('hex');
const topic = String(flags.topic) || `bench-archive-${tag}`;
/** The product checkout to run (its bin/, dist/ and src/); default: this repository. */
const productRoot = resolve(String(flags['product-root']) || ROOT);
const TSX = import.meta.resolve('tsx');

const kafkajs = loadKafkajs();
const kafka = newKafka(kafkajs, brokers, `bench-orchestrator-${tag}`);
const admin = kafka.admin();
await admin.connect();

// ---- produce ----------------------------------------------------------------------------------

async function produce(): Promise<{ ms: number; payload: number }> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: [
          { name: 'compression.type', value: compression === 'lz4' ? 'lz4' : 'producer' },
          { name: 'retention.ms', value: '-1' },
        ],
      },
    ],
  });
  return produceGenerated(kafkajs, kafka, {
    topic,
    records: M,
    partitions,
    valueBytes,
    compression,
    onProgress: (n) => console.log(`  produced ${n.toLocaleString('en-US')}`),
  });
}

// ---- machine ----------------------------------------------------------------------------------

// ---- runs -------------------------------------------------------------------------------------

interface RunResult {
  name: string;
  client?: Client;
  totalMs: number;
  firstFetchMs: number;
  fromFirstFetchMs: number;
  consumedMs?: number;
  cpuSeconds: number;
  peakRssBytes: number;
  loop?: LoopStats;
  segments?: number;
  segmentBytes?: number;
  sealMsMedian?: number;
  sealMsMax?: number;
  verified?: string;
  /** Whole machine CPU busy during the run, % of all cores; broker CPU seconds. */
  machineBusyPct?: number;
  brokerCpuSeconds?: number;
}

function runChild(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, script, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 1e6) err = err.slice(-5e5);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolvePromise(line);
      else reject(new Error(`${script} exited ${code}: ${err.slice(-3000)}`));
    });
  });
}

function archiverEnv(hotDir: string, group: string, client: Client): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // Only when not the default, so product checkouts without the key (--product-root) still run.
    ...(client !== 'kafkajs' ? { KAFKA_ARCHIVE_KAFKA__CLIENT: client } : {}),
    KAFKA_ARCHIVE_KAFKA__BROKERS: brokers.join(','),
    KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: hotDir,
    KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: group,
    KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
    KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_BYTES: String(segmentBytes),
    KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: String(flushMs),
    // Archiving only: the benchmark's records carry old timestamps, so with the default tiering
    // (every 60 s, segments older than 1 h by record time, hot copy evicted) a run longer than a
    // minute would move early segments to ./kafka-archive-data/cold and the hot-directory check
    // would miss them (bench/tiering.ts measures tiering).
    KAFKA_ARCHIVE_TIERING__ENABLED: 'false',
    KAFKA_ARCHIVE_LOG__LEVEL: 'info',
    KAFKA_ARCHIVE_LOG__PRETTY: 'false',
  };
}

/** Every partition complete, each offset once: checked with DuckDB over the hot directory. */
async function verifyArchive(hotDir: string, hwm: Map<number, number>): Promise<string> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    const glob = join(hotDir, `topic=${topic}`, '*', '*.parquet').replace(/'/g, "''");
    const res = await con.runAndReadAll(
      `SELECT partition, count(*), count(DISTINCT "offset"), min("offset"), max("offset")
       FROM read_parquet('${glob}', hive_partitioning = true) GROUP BY partition ORDER BY partition`,
    );
    const got = new Map(res.getRows().map((r) => [Number(r[0]), r.slice(1).map(Number)]));
    const problems: string[] = [];
    let records = 0;
    for (const [p, h] of hwm) {
      const g = got.get(p);
      if (g === undefined) {
        problems.push(`partition ${p} missing`);
        continue;
      }
      const [count, distinct, min, max] = g as number[];
      records += count as number;
      if (count !== h || distinct !== h || min !== 0 || max !== h - 1) {
        problems.push(
          `partition ${p}: ${count} rows, ${distinct} distinct, ${min}-${max}; expected ${h} rows 0-${h - 1}`,
        );
      }
    }
    return problems.length === 0
      ? `ok (${records} records, every offset once)`
      : problems.join('; ');
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

async function dirBytes(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.parquet')) {
      files++;
      bytes += (await stat(join(e.parentPath, e.name))).size;
    }
  }
  return { files, bytes };
}

async function runBaseline(hwm: Map<number, number>, client: Client): Promise<RunResult> {
  const line = await runChild(
    join(
      ROOT,
      client === 'kafkajs'
        ? 'bench/lib/baseline-consumer.ts'
        : 'bench/lib/baseline-platformatic.ts',
    ),
    [
      '--brokers',
      brokers.join(','),
      '--topic',
      topic,
      '--group',
      `bench-baseline-${client}-${tag}`,
      '--hwm',
      encodeHwm(hwm),
    ],
    process.env,
  );
  const r = JSON.parse(line) as RunResult & { records: number };
  if (r.records !== M) throw new Error(`baseline consumed ${r.records} records, expected ${M}`);
  return {
    ...r,
    client,
    name:
      client === 'kafkajs'
        ? 'baseline: bare kafkajs eachBatch'
        : 'baseline: bare @platformatic/kafka MessagesStream',
  };
}

function ensureBuilt(root: string): void {
  const newest = (dir: string): number => {
    let t = 0;
    const walk = (d: string) => {
      for (const name of execFileSync('ls', ['-1', d]).toString().split('\n').filter(Boolean)) {
        const p = join(d, name);
        const s = execFileSync('stat', ['-c', '%Y %F', p]).toString().trim().split(' ');
        if (s[1] === 'directory') walk(p);
        else t = Math.max(t, Number(s[0]));
      }
    };
    walk(dir);
    return t;
  };
  let distTime = 0;
  try {
    distTime = Number(
      execFileSync('stat', ['-c', '%Y', join(root, 'dist/cli/main.js')]).toString(),
    );
  } catch {
    distTime = 0;
  }
  if (distTime < newest(join(root, 'src'))) {
    console.log(`${root}/dist is missing or older than its src/: npm run build`);
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  }
}

async function runCli(
  hwm: Map<number, number>,
  hotDir: string,
  client: Client,
): Promise<RunResult> {
  ensureBuilt(productRoot);
  const t0 = performance.now();
  const wall0 = Date.now();
  // cwd: the run's scratch directory, so any other relative default path of the product's
  // configuration (catalog, cold tier) lands there too.
  const child = spawn(
    process.execPath,
    [
      join(productRoot, 'bin/kafka-archive.js'),
      'run',
      '--topics',
      topic,
      '--group',
      `bench-cli-${client}-${tag}`,
    ],
    {
      cwd: dirname(hotDir),
      env: archiverEnv(hotDir, `bench-cli-${client}-${tag}`, client),
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let firstResumeWall = 0;
  const seals: number[] = [];
  const errors: string[] = [];
  let buf = '';
  child.stderr.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const e = JSON.parse(line) as { msg?: string; time?: string; ms?: number; level?: number };
        if (e.msg === 'partition resumed' && firstResumeWall === 0 && e.time) {
          firstResumeWall = Date.parse(e.time);
        }
        if (e.msg === 'segment sealed' && typeof e.ms === 'number') seals.push(e.ms);
        if ((e.level ?? 0) >= 50) errors.push(line);
      } catch {
        errors.push(line);
      }
    }
  });
  let exited = false;
  child.on('exit', () => (exited = true));
  const deadline = Date.now() + timeoutMs;
  let tEnd = 0;
  for (;;) {
    let all = true;
    for (const [p, h] of hwm) {
      const last = await hotHighWatermark(hotDir, topic, p);
      if (last === null || last < BigInt(h - 1)) {
        all = false;
        break;
      }
    }
    if (all) {
      tEnd = performance.now();
      break;
    }
    if (exited) throw new Error(`kafka-archive run exited early: ${errors.slice(-5).join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('timed out waiting for the archive');
    }
    await sleep(100);
  }
  const ps = await procStats(child.pid as number);
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  child.kill('SIGTERM');
  await closed;
  const sorted = [...seals].sort((a, b) => a - b);
  const { files, bytes } = await dirBytes(hotDir);
  if (errors.length > 0) console.log(`kafka-archive run logged errors:\n${errors.join('\n')}`);
  const firstFetchMs = firstResumeWall > 0 ? firstResumeWall - wall0 : NaN;
  return {
    client,
    name: `product: kafka-archive run (CLI, ${client})`,
    totalMs: tEnd - t0,
    firstFetchMs,
    fromFirstFetchMs: tEnd - t0 - firstFetchMs,
    cpuSeconds: ps?.cpuSeconds ?? NaN,
    peakRssBytes: ps?.peakRssBytes ?? NaN,
    segments: files,
    segmentBytes: bytes,
    sealMsMedian: sorted[Math.floor(sorted.length / 2)] ?? 0,
    sealMsMax: sorted[sorted.length - 1] ?? 0,
  };
}

async function runInproc(
  hwm: Map<number, number>,
  hotDir: string,
  client: Client,
): Promise<RunResult> {
  const line = await runChild(
    join(ROOT, 'bench/lib/archiver-inproc.ts'),
    ['--hwm', encodeHwm(hwm), '--product-root', productRoot],
    archiverEnv(hotDir, `bench-inproc-${client}-${tag}`, client),
  );
  const r = JSON.parse(line) as RunResult & { recordsArchived: number };
  return { ...r, client, name: `product: Archiver in-process (${client})` };
}

async function runKcat(): Promise<RunResult> {
  const r = await kcatReadToNull(brokers, topic, timeoutMs);
  return {
    name: 'native: kcat -C > /dev/null',
    totalMs: r.ms,
    firstFetchMs: NaN,
    // No first-fetch mark from outside the process: its whole run (start-up included) counts.
    fromFirstFetchMs: r.ms,
    cpuSeconds: r.cpuSeconds,
    peakRssBytes: r.peakRssBytes,
  };
}

/** Whether a command of that name is on PATH (kcat is an optional reference). */
function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, cmd)));
}

const kafkaBackupBin = String(flags['kafka-backup']);
interface KafkaBackupRestore {
  command: string;
  targetTopic: string;
  ms: number;
  cpuSeconds: number;
  peakRssBytes: number;
  records: number;
  verified: string;
}
let kafkaBackupRestore: KafkaBackupRestore | null = null;

/** kafka-backup's manifest against the high-water marks: every offset of every partition. */
async function verifyKafkaBackup(
  storage: string,
  backupId: string,
  hwm: Map<number, number>,
): Promise<string> {
  interface Manifest {
    topics: Array<{
      name: string;
      partitions: Array<{
        partition_id: number;
        segments: Array<{ start_offset: number; end_offset: number; record_count: number }>;
        gaps?: unknown[];
      }>;
    }>;
  }
  const m = JSON.parse(
    await readFile(join(storage, backupId, 'manifest.json'), 'utf8'),
  ) as Manifest;
  const t = m.topics.find((x) => x.name === topic);
  if (t === undefined) return `topic ${topic} missing from the manifest`;
  const problems: string[] = [];
  let records = 0;
  for (const [p, h] of hwm) {
    const part = t.partitions.find((x) => x.partition_id === p);
    if (part === undefined) {
      problems.push(`partition ${p} missing`);
      continue;
    }
    const count = part.segments.reduce((n, sg) => n + sg.record_count, 0);
    const min = Math.min(...part.segments.map((sg) => sg.start_offset));
    const max = Math.max(...part.segments.map((sg) => sg.end_offset));
    records += count;
    if (count !== h || min !== 0 || max !== h - 1 || (part.gaps ?? []).length > 0) {
      problems.push(
        `partition ${p}: ${count} records ${min}-${max}; expected ${h} records 0-${h - 1}`,
      );
    }
  }
  return problems.length === 0
    ? `ok (manifest: ${records} records, offsets 0..hwm-1 in every partition)`
    : problems.join('; ');
}

async function runKafkaBackup(hwm: Map<number, number>, dir: string): Promise<RunResult> {
  const storage = join(dir, 'storage');
  const backupId = `bench-${tag}`;
  await mkdir(storage, { recursive: true });
  // One-shot snapshot of the topic: high-water marks taken at start, exit when all are reached.
  // zstd segments (the product's Parquet codec) of the same size as the product's here.
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
  console.log(`  ${kafkaBackupBin} backup --config ${cfg}\n${config.replace(/^/gm, '    ')}`);
  const r = await runTimed(kafkaBackupBin, ['backup', '--config', cfg], {
    cwd: dir,
    timeoutMs,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  if (r.code !== 0) {
    throw new Error(`kafka-backup backup exited ${r.code}: ${r.err.slice(-3000)}`);
  }
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(storage, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && !e.name.endsWith('.json')) {
      files++;
      bytes += (await stat(join(e.parentPath, e.name))).size;
    }
  }
  const result: RunResult = {
    name: 'peer: kafka-backup backup (Rust)',
    totalMs: r.ms,
    firstFetchMs: NaN,
    fromFirstFetchMs: r.ms,
    cpuSeconds: r.cpuSeconds,
    peakRssBytes: r.peakRssBytes,
    segments: files,
    segmentBytes: bytes,
    verified: await verifyKafkaBackup(storage, backupId, hwm),
  };
  return result;
}

async function runKafkaBackupRestore(
  dir: string,
  storage: string,
  backupId: string,
): Promise<KafkaBackupRestore> {
  const target = `${topic}-kb-restored`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: target,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: [{ name: 'retention.ms', value: '-1' }],
      },
    ],
  });
  const config = kafkaBackupRestoreConfig({ backupId, brokers, topic, storage, target });
  const cfg = join(dir, 'restore.yaml');
  await writeFile(cfg, config);
  const command = `${kafkaBackupBin} restore --config ${cfg}`;
  console.log(`  ${command}\n${config.replace(/^/gm, '    ')}`);
  try {
    const r = await runTimed(kafkaBackupBin, ['restore', '--config', cfg], {
      cwd: dir,
      timeoutMs,
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    });
    if (r.code !== 0) {
      throw new Error(`kafka-backup restore exited ${r.code}: ${r.err.slice(-3000)}`);
    }
    const once = kafka.admin();
    await once.connect();
    let records = 0;
    try {
      for (const o of await once.fetchTopicOffsets(target)) records += Number(o.high);
    } finally {
      await once.disconnect();
    }
    return {
      command,
      targetTopic: target,
      ms: r.ms,
      cpuSeconds: r.cpuSeconds,
      peakRssBytes: r.peakRssBytes,
      records,
      verified:
        records === M
          ? `ok (${records} records in ${target})`
          : `${records} records, expected ${M}`,
    };
  } finally {
    if (!flags.keep) await admin.deleteTopics({ topics: [target] }).catch(() => undefined);
  }
}

// ---- main -------------------------------------------------------------------------------------

const work = await mkdtemp(join(tmpdir(), 'kafka-archive-bench-'));
console.log(
  `node ${process.version}, ${availableParallelism()} CPUs, ${new Date().toISOString()}, ${loadNote()}`,
);
console.log(
  `topic ${topic}: ${M.toLocaleString('en-US')} records of ${valueBytes} B values, ${partitions} partitions, ${compression}; brokers ${brokers.join(',')}`,
);
const rev = (args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: productRoot, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return '?';
  }
};
const head = rev(['rev-parse', '--short', 'HEAD']);
const dirty = head !== '?' && rev(['status', '--porcelain', '--', 'src']) !== '';
console.log(
  `product: ${productRoot}${head === '?' ? '' : ` at ${head}`}${dirty ? ' (src/ has uncommitted changes)' : ''}`,
);
const produced = await produce();
const offsets = await admin.fetchTopicOffsets(topic);
const hwm = new Map<number, number>(offsets.map((o) => [o.partition, Number(o.high)]));
const total = [...hwm.values()].reduce((a, b) => a + b, 0);
if (total !== M) throw new Error(`topic holds ${total} records, expected ${M}`);
const payloadMB = produced.payload / MB;
console.log(
  `produced ${fmt(payloadMB, 1)} MB payload in ${fmt(produced.ms / 1000, 1)} s (${fmt(M / (produced.ms / 1000), 0)} records/s); high-water marks ${encodeHwm(hwm)}`,
);

const results: RunResult[] = [];
/** Runs of --runs that could not run here, with the reason the report prints for them. */
const skipped = new Map<string, string>();
try {
  for (const [run, client] of runs.flatMap((r) => clients.map((c) => [r, c] as const))) {
    console.log(`running ${run} (${client})... (${loadNote()})`);
    const cpuBefore = await machineCpu();
    const bpid = brokerPid(brokers);
    const brokerBefore = bpid === null ? null : await procStats(bpid);
    if (run === 'baseline') results.push(await runBaseline(hwm, client));
    else if (run === 'cli' || run === 'inproc') {
      const hot = join(work, run, 'hot');
      await mkdir(join(work, run), { recursive: true });
      const r = run === 'cli' ? await runCli(hwm, hot, client) : await runInproc(hwm, hot, client);
      r.verified = await verifyArchive(hot, hwm);
      if (r.segmentBytes === undefined || run === 'inproc') {
        const d = await dirBytes(hot);
        r.segments = d.files;
        r.segmentBytes = d.bytes;
      }
      results.push(r);
      await rm(join(work, run), { recursive: true, force: true });
    } else if (run === 'kcat') {
      if (!onPath('kcat')) {
        console.log('  kcat: skipped (no kcat on PATH; Debian and Ubuntu: apt-get install kcat)');
        skipped.set(run, 'skipped (no kcat on PATH)');
        continue;
      }
      results.push(await runKcat());
    } else if (run === 'kafka-backup') {
      if (kafkaBackupBin === '') {
        console.log(
          '  kafka-backup: skipped (no --kafka-backup /path/to/kafka-backup and no KAFKA_BACKUP_BIN)',
        );
        skipped.set(run, 'skipped (no binary)');
        continue;
      }
      const dir = join(work, 'kafka-backup');
      await mkdir(dir, { recursive: true });
      results.push(await runKafkaBackup(hwm, dir));
    } else throw new Error(`unknown run ${run}`);
    const r = results[results.length - 1] as RunResult;
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
      `  ${fmt(r.totalMs / 1000, 1)} s total, ${fmt(r.fromFirstFetchMs / 1000, 1)} s from the first fetch${r.verified ? `; archive ${r.verified}` : ''}`,
    );
    if (run === 'kafka-backup') {
      // Outside the backup's measurement window (machine and broker CPU above).
      const dir = join(work, 'kafka-backup');
      if (flags['kafka-backup-restore'] !== 'no') {
        console.log('running kafka-backup restore of that backup into a new topic...');
        kafkaBackupRestore = await runKafkaBackupRestore(dir, join(dir, 'storage'), `bench-${tag}`);
        console.log(
          `  ${fmt(kafkaBackupRestore.ms / 1000, 1)} s, ${fmt(payloadMB / (kafkaBackupRestore.ms / 1000), 1)} MB/s; ${kafkaBackupRestore.verified}`,
        );
      }
      await rm(dir, { recursive: true, force: true });
    }
  }
} finally {
  if (!flags.keep) await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  await rm(work, { recursive: true, force: true });
}

const baselineOf = (r: RunResult) =>
  results.find((b) => b.name.startsWith('baseline') && b.client === r.client);
const rows = results.map((r) => {
  const base = baselineOf(r);
  const s = r.fromFirstFetchMs / 1000;
  const baseRate = base ? M / (base.fromFirstFetchMs / 1000) : NaN;
  const baseTotalRate = base ? M / (base.totalMs / 1000) : NaN;
  return [
    r.name,
    fmt(r.totalMs / 1000, 1),
    fmt(M / (r.totalMs / 1000), 0),
    fmt(payloadMB / (r.totalMs / 1000), 1),
    base ? `${fmt(M / (r.totalMs / 1000) / baseTotalRate, 2)}x` : '-',
    fmt(s, 1),
    fmt(M / s, 0),
    fmt(payloadMB / s, 1),
    base ? `${fmt(M / s / baseRate, 2)}x` : '-',
    fmt(r.cpuSeconds, 1),
    r.brokerCpuSeconds === undefined ? '?' : fmt(r.brokerCpuSeconds, 1),
    r.machineBusyPct === undefined ? '?' : fmt(r.machineBusyPct, 0),
    fmt(r.peakRssBytes / MB, 0),
  ];
});
console.log(
  `\n${M.toLocaleString('en-US')} records, ${fmt(payloadMB, 1)} MB payload (key + value + headers), ${partitions} partitions, ${compression}\n`,
);
console.log(
  table(
    [
      'run',
      'total s',
      'records/s',
      'MB/s',
      'vs baseline',
      'from 1st fetch s',
      'records/s',
      'MB/s',
      'vs baseline',
      'CPU s',
      'broker CPU s',
      'machine busy %',
      'peak RSS MB',
    ],
    rows,
  ),
);
console.log('\nproduct details:');
for (const r of results.filter((x) => x.name.startsWith('product') && x.segments !== undefined)) {
  console.log(
    `- ${r.name}: ${r.segments} segments, ${fmt((r.segmentBytes ?? 0) / MB, 1)} MB on disk (${fmt(produced.payload / (r.segmentBytes ?? 1), 2)}x smaller than the payload), ` +
      `seal time median ${fmt(r.sealMsMedian ?? 0, 0)} ms / max ${fmt(r.sealMsMax ?? 0, 0)} ms` +
      (r.consumedMs !== undefined
        ? `; all records consumed at ${fmt(r.consumedMs / 1000, 1)} s (${fmt(M / ((r.consumedMs - r.firstFetchMs) / 1000), 0)} records/s from the first fetch)`
        : '') +
      (r.loop
        ? `; event loop: max block ${fmt(r.loop.maxBlockMs, 0)} ms (at ${fmt(r.loop.maxBlockAtMs / 1000, 1)} s), p99 ${fmt(r.loop.histP99Ms, 0)} ms, ${r.loop.blocksOver100ms} blocks > 100 ms`
        : '') +
      `; first fetch after ${fmt(r.firstFetchMs / 1000, 1)} s; archive check: ${r.verified}`,
  );
}
for (const base of results.filter((r) => r.name.startsWith('baseline'))) {
  console.log(
    `- ${base.name}: first fetch after ${fmt(base.firstFetchMs / 1000, 1)} s; event loop max block ${fmt(base.loop?.maxBlockMs ?? 0, 0)} ms`,
  );
}
const kb = results.find((r) => r.name.startsWith('peer: kafka-backup'));
if (kb) {
  console.log(
    `- ${kb.name}: ${kb.segments} files, ${fmt((kb.segmentBytes ?? 0) / MB, 1)} MB on disk (${fmt(produced.payload / (kb.segmentBytes ?? 1), 2)}x smaller than the payload); check: ${kb.verified}`,
  );
}
if (kafkaBackupRestore !== null) {
  const rs = kafkaBackupRestore as KafkaBackupRestore;
  console.log(
    `- kafka-backup restore into a new topic (${rs.targetTopic}): ${fmt(rs.ms / 1000, 1)} s, ${fmt(M / (rs.ms / 1000), 0)} records/s, ${fmt(payloadMB / (rs.ms / 1000), 1)} MB/s, CPU ${fmt(rs.cpuSeconds, 1)} s, peak RSS ${fmt(rs.peakRssBytes / MB, 0)} MB; ${rs.verified}\n  command: ${rs.command}`,
  );
}

// kafka-archive run (CLI) against the references, whole runs (process start to done) on both
// sides (the table above also has the from-first-fetch ratio against the bare consumer).
const cli = results.find((r) => r.name.startsWith('product: kafka-archive run'));
if (cli) {
  const cliRate = payloadMB / (cli.totalMs / 1000);
  const refs: string[][] = [];
  for (const [label, prefix, run] of [
    ['kafka-backup backup (Rust peer)', 'peer: kafka-backup', 'kafka-backup'],
    ['kcat -C > /dev/null', 'native: kcat', 'kcat'],
    ['bare kafkajs consumer', 'baseline', 'baseline'],
  ] as const) {
    const ref = results.find((r) => r.name.startsWith(prefix));
    if (ref === undefined) {
      refs.push([label, '-', '-', skipped.get(run) ?? 'not run']);
      continue;
    }
    const refRate = payloadMB / (ref.totalMs / 1000);
    refs.push([label, fmt(refRate, 1), `${fmt(cliRate / refRate, 2)}x`, '']);
  }
  console.log(
    `\nkafka-archive run (CLI): ${fmt(cliRate, 1)} MB/s (process start to the last segment sealed), as a ratio against:\n`,
  );
  console.log(table(['reference', 'its MB/s', 'kafka-archive run / it', 'note'], refs));
}

console.log(`\n${loadNote()}`);
if (flags.json !== '') {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    String(flags.json),
    JSON.stringify(
      {
        topic,
        records: M,
        valueBytes,
        partitions,
        compression,
        produced,
        results,
        kafkaBackupRestore,
      },
      null,
      2,
    ),
  );
}
process.exit(results.every((r) => r.verified === undefined || r.verified.startsWith('ok')) ? 0 : 1);
