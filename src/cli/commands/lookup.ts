import type { Command } from 'commander';
import { lookupTime, requireDataAtTime } from '../../index.js';
import { openArchiveForRead } from '../../index.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../../errors.js';
import { isoTime, table, toJson } from '../format.js';
import { parseGenerationArg, parseTimeArg } from '../time-arg.js';

export function registerLookup(program: Command, setExit: (code: number) => void): void {
  program
    .command('lookup')
    .argument('<topic>', 'archived topic name')
    .requiredOption('--time <time>', 'ISO-8601 time or milliseconds since the epoch')
    .option(
      '--generation <n>',
      'generation of a re-created topic (1 = the first incarnation); default: the newest',
    )
    .description(
      'per partition, the first archived offset with timestamp >= TIME (like Kafka ListOffsets by timestamp) and the segment holding it',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  kafka-archive lookup ztf_alerts --time 2026-11-01T03:05:00Z\n  kafka-archive lookup ztf_alerts --time 1761966300000 --json\n',
    )
    .action(
      async (topic: string, opts: { time: string; generation?: string }, command: Command) => {
        const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
        const ts = parseTimeArg('--time', opts.time);
        const generation =
          opts.generation === undefined ? undefined : parseGenerationArg(opts.generation);
        const { catalog, source } = await openArchiveForRead(ctx.config, ctx.log);
        const rows = await lookupTime(catalog, source, topic, ts, generation);
        requireDataAtTime(rows, topic, ts);
        if (ctx.json) ctx.out(toJson(rows));
        else {
          ctx.out(
            table(
              ['topic', 'generation', 'partition', 'offset', 'timestamp', 'segment', 'tiers'],
              rows.map((r) => [
                r.topic,
                String(r.generation),
                String(r.partition),
                r.offset?.toString() ?? '-',
                r.timestamp === null
                  ? `- (latest ${isoTime(r.latestTimestamp)})`
                  : isoTime(r.timestamp),
                r.segment ?? '-',
                r.tiers.join('+') || '-',
              ]),
            ),
          );
        }
        setExit(ExitCode.OK);
      },
    );
}
