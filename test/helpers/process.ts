import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../bin/kafka-archive.js');

export interface ArchiverProcess {
  child: ChildProcess;
  /** Log lines (JSON objects) seen so far on stderr. */
  logs: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  isRunning(): boolean;
  /** What it wrote to stdout so far. */
  stdout(): string;
}

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

/** Runs `kafka-archive <args>` (built CLI) as a child process with the given environment. */
export function spawnArchiver(args: string[], env: Record<string, string>): ArchiverProcess {
  return watch([BIN, ...args], env);
}

/** Runs `kafka-archive <args>` from the sources (no build needed) as a child process. */
export function spawnFromSource(args: string[], env: Record<string, string>): ArchiverProcess {
  return watch(
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { main } = await import(${JSON.stringify(MAIN)}); process.exit(await main(['node', 'kafka-archive', ...JSON.parse(process.env.CLI_ARGS)]));`,
    ],
    { ...env, CLI_ARGS: JSON.stringify(args) },
  );
}

function watch(argv: string[], env: Record<string, string>): ArchiverProcess {
  const child = spawn(process.execPath, argv, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
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
