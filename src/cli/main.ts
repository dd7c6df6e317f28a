import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ArchiveError, ErrorCodes, ExitCode, exitCodeOf, isArchiveError } from '../errors.js';
import { loadConfig } from '../config/index.js';
import { registerConfig } from './commands/config.js';
import { registerDoctor } from './commands/doctor.js';
import { registerOffsets } from './commands/offsets.js';
import { registerLookup } from './commands/lookup.js';
import { registerRead } from './commands/read.js';
import { registerCatalog } from './commands/catalog.js';
import { registerTier } from './commands/tier.js';
import { registerRun } from './commands/run.js';
import { registerDisk } from './commands/disk.js';
import { registerReserve } from './commands/reserve.js';
import { registerRestore } from './commands/restore.js';
import type { GlobalOptions } from './context.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('kafka-archive')
    .description(
      'Long-term event archive for Apache Kafka: mirrors topics into Parquet segments, tiers them to object storage, guards disks, restores byte-exact.',
    )
    .version(version(), '-V, --version')
    .option(
      '-c, --config <file>',
      'YAML config file (every key can also be set by KAFKA_ARCHIVE_* env vars)',
    )
    .option('--json', 'machine-readable JSON output instead of tables')
    .option('--pretty', 'human-readable log lines instead of JSON')
    .option('--log-level <level>', 'override log.level (trace|debug|info|warn|error|fatal|silent)')
    .option('--debug', 'print the stack trace of an error (for bug reports)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .argument('[command]')
    .action((unknown: string | undefined, opts: GlobalOptions) => {
      if (unknown !== undefined) {
        throw new ArchiveError(
          ErrorCodes.USAGE,
          `unknown command '${unknown}' (run with --help for the list)`,
        );
      }
      // No subcommand: validate the configuration when one is given, then show help.
      if (opts.config !== undefined) loadConfig({ file: opts.config });
      program.outputHelp();
      setExit(ExitCode.OK);
    });
  registerRun(program, setExit);
  registerOffsets(program, setExit);
  registerLookup(program, setExit);
  registerRead(program, setExit);
  registerCatalog(program, setExit);
  registerTier(program, setExit);
  registerDisk(program, setExit);
  registerReserve(program, setExit);
  registerRestore(program, setExit);
  registerConfig(program, setExit);
  registerDoctor(program, setExit);
  return program;
}

/** Runs the CLI and resolves with the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let exit: number = ExitCode.OK;
  const program = buildProgram((code) => {
    exit = code;
  });
  try {
    await program.parseAsync(argv);
    return exit;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')
        return ExitCode.OK;
      if (err.code === 'commander.help') return ExitCode.OK;
      return ExitCode.USAGE;
    }
    const debug = argv.includes('--debug');
    if (isArchiveError(err)) {
      // Usage and config messages stand alone (they name the flag or key); others carry the code.
      const plain = err.kind === 'usage' || err.kind === 'config';
      process.stderr.write(
        `${plain ? err.message : `kafka-archive: [${err.code}] ${err.message}`}\n${debug && err.stack !== undefined ? `${err.stack}\n` : ''}`,
      );
      return exitCodeOf(err.code);
    }
    const e = err as Error;
    process.stderr.write(
      `kafka-archive: internal error: ${e.message ?? String(err)}\n${e.stack ?? ''}\n`,
    );
    return ExitCode.FAILURE;
  }
}

/**
 * Exits once stdout and stderr have handed everything to the OS. A pipe whose reader is slow
 * fills up, Node queues the rest of a write, and `process.exit` would drop it: a `--json`
 * answer cut short with exit code 0.
 */
export function exitWhenFlushed(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  // A reader that never drains the pipe must not keep the process alive for ever.
  setTimeout(() => process.exit(code), 10_000);
  process.stdout.write('', done);
  process.stderr.write('', done);
}
