import type { Command } from 'commander';
import { archivedOffsets, formatBytes } from '../../index.js';
import { openArchiveForRead } from '../../index.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../../errors.js';
import { isoTime, table, toJson } from '../format.js';
import { parseGenerationArg } from '../time-arg.js';

export function registerOffsets(program: Command, setExit: (code: number) => void): void {
  program
    .command('offsets')
    .argument('<topic>', 'topic name or regular expression (whole-name match)')
    .option(
      '--generation <n|all>',
      'generation of a re-created topic (1 = the first incarnation), or all; default: the newest',
    )
    .description('archived offset ranges per partition: records, bytes, time bounds, gaps')
    .addHelpText(
      'after',
      '\nExamples:\n  kafka-archive offsets ztf_alerts\n  kafka-archive offsets "cluster1\\..*" --json\n',
    )
    .action(async (topic: string, opts: { generation?: string }, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      const generation =
        opts.generation === undefined ? undefined : parseGenerationArg(opts.generation, true);
      const { catalog, source } = await openArchiveForRead(ctx.config, ctx.log);
      const rows = await archivedOffsets(catalog, source, topic, generation);
      // The generation column only where some topic was re-created (has several generations).
      const generations = rows.some((r) => r.generations.length > 1);
      if (ctx.json) {
        ctx.out(toJson(rows));
      } else {
        ctx.out(
          table(
            [
              'topic',
              ...(generations ? ['generation'] : []),
              'partition',
              'first',
              'last',
              'records',
              'segments',
              'bytes',
              'min time',
              'max time',
              'gaps',
              'tiers',
            ],
            rows.map((r) => [
              r.topic,
              ...(generations ? [`${r.generation} of ${r.generations.join(',')}`] : []),
              String(r.partition),
              r.firstOffset.toString(),
              r.lastOffset.toString(),
              String(r.records),
              String(r.segments),
              formatBytes(r.bytes),
              isoTime(r.minTimestamp),
              isoTime(r.maxTimestamp),
              r.gaps.length === 0 ? '-' : r.gaps.map((g) => `${g.from}-${g.to}`).join(','),
              r.tiers.join('+'),
            ]),
          ),
        );
      }
      setExit(rows.some((r) => r.gaps.length > 0) ? ExitCode.DATA : ExitCode.OK);
    });
}
