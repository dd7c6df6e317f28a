/**
 * Native (non-Node) processes for the benchmarks, timed from outside: wall time from spawn to
 * exit, CPU seconds and peak RSS from GNU time (`/usr/bin/time -f`), when it is installed.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

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
