import type { Command } from 'commander';
import { parseDurationMs } from '../../config/index.js';
import { ArchiveError, ErrorCodes, isArchiveError } from '../../errors.js';
import {
  doctorConfigFailure,
  runDoctor,
  type DoctorCheck,
  type DoctorReport,
} from '../../service/index.js';
import { makeContext, type CommandContext, type GlobalOptions } from '../context.js';
import { toJson } from '../format.js';

function renderCheck(c: DoctorCheck, width: number): string[] {
  const lines = [`${c.status.padEnd(5)} ${c.name.padEnd(width)}  ${c.message}`];
  if (c.fix !== undefined && c.status !== 'ok') lines.push(`${' '.repeat(width + 8)}fix: ${c.fix}`);
  return lines;
}

export function renderDoctor(r: DoctorReport): string {
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const count = (s: DoctorCheck['status']) => r.checks.filter((c) => c.status === s).length;
  return [
    ...r.checks.flatMap((c) => renderCheck(c, width)),
    '',
    `${r.ok ? 'no check failed' : 'FAILED'}: ${count('ok')} ok, ${count('warn')} warn, ${count('fail')} fail, ${count('skip')} skipped (exit ${r.exitCode})`,
  ].join('\n');
}

export function registerDoctor(program: Command, setExit: (code: number) => void): void {
  program
    .command('doctor')
    .description(
      'check a configuration end to end: config valid, Kafka reachable and authorized (topics, consumer group), object store writable (probe object), directories writable, disk state (watermarks, reserves), restore target reachable. Exit 0 when no check fails, else the exit code of the first failure',
    )
    .option('--timeout <duration>', 'time limit of each check, e.g. 5s (default 5s)')
    .addHelpText(
      'after',
      '\nExamples:\n  kafka-archive doctor --config config/kafka-archive.yaml\n  kafka-archive doctor --json --timeout 10s\n',
    )
    .action(async (opts: { timeout?: string }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      let timeoutMs: number | undefined;
      if (opts.timeout !== undefined) {
        timeoutMs = parseDurationMs(opts.timeout);
        if (timeoutMs === undefined || timeoutMs <= 0) {
          throw new ArchiveError(
            ErrorCodes.USAGE,
            `--timeout: got ${JSON.stringify(opts.timeout)}: expected a duration such as 5s or 1500 (ms)`,
          );
        }
      }
      let ctx: CommandContext;
      let report: DoctorReport;
      try {
        // The report says what failed: log lines only for errors, unless --log-level asks.
        ctx = makeContext({ ...global, logLevel: global.logLevel ?? 'error' });
      } catch (err) {
        if (!isArchiveError(err) || (err.kind !== 'config' && err.kind !== 'usage')) throw err;
        report = doctorConfigFailure(err);
        process.stdout.write(`${global.json === true ? toJson(report) : renderDoctor(report)}\n`);
        setExit(report.exitCode);
        return;
      }
      report = await runDoctor(ctx.config, ctx.log, {
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        source:
          global.config !== undefined
            ? `${global.config} + environment`
            : 'environment and defaults',
      });
      ctx.out(ctx.json ? toJson(report) : renderDoctor(report));
      setExit(report.exitCode);
    });
}
