import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const BIN = join(import.meta.dirname, '../../bin/kafka-archive.js');
const run = promisify(execFile);
/** `node` arguments that run main() from the sources with the arguments in CLI_ARGS. */
const FROM_SOURCE = [
  '--import',
  'tsx',
  '--input-type=module',
  '-e',
  `const { main, exitWhenFlushed } = await import(${JSON.stringify(MAIN)}); exitWhenFlushed(await main(['node', 'kafka-archive', ...JSON.parse(process.env.CLI_ARGS)]));`,
];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `kafka-archive <args>` from the sources (no build needed), in a child process with only PATH
 * and `env` in its environment; it exits with main()'s code, as bin/kafka-archive.js does.
 */
export function cliFromSource(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, FROM_SOURCE, {
    env: { PATH: process.env.PATH ?? '', CLI_ARGS: JSON.stringify(args), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * cliFromSource without blocking the event loop (a test that also reads a running service's
 * log pipe while the command runs).
 */
export async function cliFromSourceAsync(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  try {
    const r = await run(process.execPath, FROM_SOURCE, {
      env: { PATH: process.env.PATH ?? '', CLI_ARGS: JSON.stringify(args), ...env },
      timeout: 120_000,
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : null,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    };
  }
}

/** `kafka-archive <args>` as users run it: the built bin, in a child process with `env`. */
export async function cliBuilt(args: string[], env: Record<string, string>): Promise<CliResult> {
  try {
    const r = await run(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
