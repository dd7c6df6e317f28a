/**
 * Native (non-Node) processes for the benchmarks, timed from outside: wall time from spawn to
 * exit, CPU seconds and peak RSS from GNU time (`/usr/bin/time -f`), when it is installed; and
 * the native producers (kcat -P, Kafka's ProducerPerformance) with their input files.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { RecordGenerator } from './records.js';

export interface Timed {
  code: number | null;
  ms: number;
  /** User + system CPU seconds of the process (and its children), NaN without GNU time. */
  cpuSeconds: number;
  peakRssBytes: number;
  out: string;
  err: string;
}

const GNU_TIME = '/usr/bin/time';
const MARK = '__BENCH_TIME__';

export function runTimed(
  cmd: string,
  args: string[],
  opts: {
    stdout?: 'ignore' | 'pipe';
    stdinFile?: string;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
  } = {},
): Promise<Timed> {
  const timed = existsSync(GNU_TIME);
  const [c, a] = timed ? [GNU_TIME, ['-f', `${MARK} %e %U %S %M`, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(c, a, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.stdinFile === undefined ? 'ignore' : 'pipe', opts.stdout ?? 'pipe', 'pipe'],
    });
    if (opts.stdinFile !== undefined && child.stdin !== null) {
      createReadStream(opts.stdinFile).pipe(child.stdin);
    }
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.length > 1e6) out = out.slice(-5e5);
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 1e6) err = err.slice(-5e5);
    });
    const timer =
      opts.timeoutMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer !== null) clearTimeout(timer);
      const ms = performance.now() - t0;
      const m = new RegExp(`${MARK} ([\\d.]+) ([\\d.]+) ([\\d.]+) (\\d+)`).exec(err);
      resolve({
        code,
        ms,
        cpuSeconds: m ? Number(m[2]) + Number(m[3]) : NaN,
        peakRssBytes: m ? Number(m[4]) * 1024 : NaN,
        out,
        err: m ? err.replace(m[0], '') : err,
      });
    });
  });
}

/**
 * `kcat -C` of a whole topic to /dev/null: librdkafka's simple consumer (every partition
 * assigned, no group), read_committed, exits at the end of every partition (-e).
 */
export async function kcatReadToNull(
  brokers: string[],
  topic: string,
  timeoutMs = 600_000,
): Promise<Timed> {
  const r = await runTimed(
    'kcat',
    [
      '-C',
      '-b',
      brokers.join(','),
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-X',
      'isolation.level=read_committed',
    ],
    { stdout: 'ignore', timeoutMs },
  );
  if (r.code !== 0) throw new Error(`kcat -C exited ${r.code}: ${r.err.slice(-2000)}`);
  return r;
}

/**
 * The input of `kcat -P -K '\t'`: the benchmark's records (bench/lib/records.ts, seed 7) as
 * key⇥value lines. kcat takes headers only from the command line (KCAT_STATIC_HEADERS, the two
 * the generator uses most), so `payload` counts those two per record.
 */
export const KCAT_STATIC_HEADERS = ['content-type=application/json', 'schema-version=ztf-4.02'];

export async function writeKcatInput(
  path: string,
  records: number,
  valueBytes: number,
): Promise<{ path: string; payload: number }> {
  const out = createWriteStream(path);
  const gen = new RecordGenerator({ valueBytes, seed: 7 });
  const staticHeaders = KCAT_STATIC_HEADERS.reduce((n, h) => n + Buffer.byteLength(h) - 1, 0);
  let payload = 0;
  const tab = Buffer.from('\t');
  const nl = Buffer.from('\n');
  for (let i = 0; i < records; i++) {
    const r = gen.next(BigInt(i));
    const key = r.key as Buffer;
    const value = r.value as Buffer;
    if (value.includes(0x0a) || value.includes(0x09) || key.includes(0x09)) {
      throw new Error('record contains a tab or newline');
    }
    payload += key.length + value.length + staticHeaders;
    if (!out.write(Buffer.concat([key, tab, value, nl]))) {
      await new Promise<void>((r2) => out.once('drain', () => r2()));
    }
  }
  await new Promise<void>((r) => out.end(() => r()));
  return { path, payload };
}

/**
 * `kcat -P` of a key⇥value file (writeKcatInput) into a topic: librdkafka's idempotent producer,
 * acks=all, lz4, the two static headers, librdkafka's default (key-hash) partitioner and batching.
 */
export async function kcatProduce(
  brokers: string[],
  topic: string,
  file: string,
  timeoutMs = 600_000,
  extra: string[] = [],
): Promise<Timed> {
  const r = await runTimed(
    'kcat',
    [
      '-P',
      '-b',
      brokers.join(','),
      '-t',
      topic,
      '-K',
      '\t',
      '-z',
      'lz4',
      '-X',
      'enable.idempotence=true',
      '-X',
      'acks=all',
      ...KCAT_STATIC_HEADERS.flatMap((h) => ['-H', h]),
      ...extra,
    ],
    { stdinFile: file, timeoutMs },
  );
  if (r.code !== 0) throw new Error(`kcat -P exited ${r.code}: ${r.err.slice(-2000)}`);
  return r;
}

/** Values only, one a line, for ProducerPerformance --payload-file (at most 100k distinct). */
export async function writeJavaPayloads(
  path: string,
  records: number,
  valueBytes: number,
): Promise<string> {
  const gen = new RecordGenerator({ valueBytes, seed: 7 });
  const lines: Buffer[] = [];
  for (let i = 0; i < Math.min(records, 100_000); i++) {
    lines.push(gen.next(BigInt(i)).value as Buffer, Buffer.from('\n'));
  }
  await writeFile(path, Buffer.concat(lines));
  return path;
}

/**
 * Kafka's ProducerPerformance (Java client) from the broker's jars: idempotent, acks=all, lz4,
 * batch.size=1 MiB, linger.ms=5; values only. Its own summary line gives the rate (timed from
 * its first send); `ms` is derived from it, the process's CPU and RSS from GNU time.
 */
export async function producerPerformance(
  kafkaLibs: string,
  brokers: string[],
  topic: string,
  records: number,
  payloadFile: string,
  timeoutMs = 600_000,
): Promise<Timed & { sendMs: number }> {
  const r = await runTimed(
    'java',
    [
      '-Xmx1g',
      '-cp',
      `${kafkaLibs}/*`,
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--payload-file',
      payloadFile,
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${brokers.join(',')}`,
      'acks=all',
      'enable.idempotence=true',
      'compression.type=lz4',
      'linger.ms=5',
      'batch.size=1048576',
    ],
    { timeoutMs },
  );
  // Progress lines every 5 s, then the summary: the line that counts all the records.
  const m = [...r.out.matchAll(/(\d+) records sent, ([\d.]+) records\/sec/g)].find(
    (x) => Number(x[1]) === records,
  );
  if (r.code !== 0 || m === undefined) {
    throw new Error(
      `ProducerPerformance exited ${r.code}: ${r.out.slice(-1000)} ${r.err.slice(-2000)}`,
    );
  }
  return { ...r, sendMs: (records / Number(m[2])) * 1000 };
}
