import type { Command } from 'commander';
import { archivedOffsets, formatBytes } from '../../index.js';
import { openArchiveForRead } from '../../index.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../../errors.js';
import { isoTime, table, toJson } from '../format.js';

export function registerOffsets(program: Command, setExit: (code: number) => void): void {
  program
    .command('offsets')
    .argument('<topic>', 'topic name or regular expression (whole-name match)')
    .description('archived offset ranges per partition: records, bytes, time bounds, gaps')
    .addHelpText(
      'after',
      '\nExamples:\n  kafka-archive offsets ztf_alerts\n  kafka-archive offsets "cluster1\\..*" --json\n',
    )
    .action(async (topic: string, _opts: unknown, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      const { catalog, source } = await openArchiveForRead(ctx.config, ctx.log);
      const rows = await archivedOffsets(catalog, source, topic);
      if (ctx.json) {
        ctx.out(toJson(rows));
      } else {
        ctx.out(
          table(
            [
              'topic',
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
