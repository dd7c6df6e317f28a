import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../bin/kafka-archive.js');
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

export interface ArchiverProcess {
  child: ChildProcess;
  /** Log lines (JSON objects) seen so far on stderr. */
  logs: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  isRunning(): boolean;
  /** What it wrote to stdout so far. */
  stdout(): string;
}

export interface SpawnOptions {
  cwd?: string;
  /** A command the node process runs under, e.g. ['setpriv', '--reuid=65534', ...]. */
  wrap?: string[];
}

/** Runs `kafka-archive <args>` (built CLI) as a child process with the given environment. */
export function spawnArchiver(
  args: string[],
  env: Record<string, string>,
  options: SpawnOptions = {},
): ArchiverProcess {
  return watch([BIN, ...args], env, options);
}

/** Runs `kafka-archive <args>` from the sources (no build needed) as a child process. */
export function spawnFromSource(
  args: string[],
  env: Record<string, string>,
  options: SpawnOptions = {},
): ArchiverProcess {
  return watch(
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { main, exitWhenFlushed } = await import(${JSON.stringify(MAIN)}); exitWhenFlushed(await main(['node', 'kafka-archive', ...JSON.parse(process.env.CLI_ARGS)]));`,
    ],
    { ...env, CLI_ARGS: JSON.stringify(args) },
    options,
  );
}

function watch(
  argv: string[],
  env: Record<string, string>,
  options: SpawnOptions,
): ArchiverProcess {
  const [cmd, ...pre] = [...(options.wrap ?? []), process.execPath];
  const child = spawn(cmd as string, [...pre, ...argv], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
  const logs: Array<Record<string, unknown>> = [];
  let buf = '';
  child.stderr?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  let running = true;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running = false;
      resolve(code);
    }),
  );
  return { child, logs, exited, isRunning: () => running, stdout: () => out };
}

export async function stopProcess(
  p: ArchiverProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 30_000,
): Promise<number | null> {
  if (!p.isRunning()) return p.exited;
  p.child.kill(signal);
  const t = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  try {
    return await p.exited;
  } finally {
    clearTimeout(t);
  }
}

/** The URL of the process's HTTP server, once it has logged it (server.port 0 picks any port). */
export function serverUrl(p: ArchiverProcess): string | null {
  const line = p.logs.find((l) => l.component === 'server' && typeof l.url === 'string');
  return line === undefined ? null : (line.url as string);
}

/**
 * A Prometheus sample of the running process (`kafka_archive_<name>`, labels included in the
 * name when given), or null while its server is not up.
 */
export async function metricOf(p: ArchiverProcess, name: string): Promise<number | null> {
  const url = serverUrl(p);
  if (url === null) return null;
  const text = await fetch(`${url}/metrics`)
    .then((r) => r.text())
    .catch(() => null);
  if (text === null) return null;
  const full = `kafka_archive_${name}`;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${full} `)) return Number(line.slice(full.length + 1));
  }
  return null;
}

/** The last log lines of a process, one JSON object per line (for a failing test's output). */
export function logTail(p: ArchiverProcess, n = 60): string {
  return p.logs
    .slice(-n)
    .map((l) => JSON.stringify(l))
    .join('\n');
}

/** Waits until a metric of the process satisfies `ok` (polling its /metrics). */
export async function waitForMetric(
  p: ArchiverProcess,
  name: string,
  ok: (value: number) => boolean,
  timeoutMs = 60_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: number | null = null;
  for (;;) {
    last = await metricOf(p, name);
    if (last !== null && ok(last)) return last;
    if (!p.isRunning()) throw new Error(`the process exited while waiting for ${name}`);
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${name} (last value ${last})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
