import type { Command } from 'commander';
import { ArchiveError, ErrorCodes, readRecords, recordJson } from '../../index.js';
import { openArchiveForRead } from '../../index.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../../errors.js';
import { parseBigIntArg, parseGenerationArg, parseTimeArg } from '../time-arg.js';

interface ReadOptions {
  partition: string;
  generation?: string;
  offset?: string;
  count?: string;
  from?: string;
  to?: string;
  raw?: boolean;
}

export function registerRead(program: Command, setExit: (code: number) => void): void {
  program
    .command('read')
    .argument('<topic>', 'archived topic name')
    .requiredOption('-p, --partition <n>', 'partition')
    .option('-o, --offset <offset>', 'first offset to read')
    .option('-n, --count <n>', 'read at most this many records')
    .option('--from <time>', 'records with timestamp >= this time (ISO-8601 or epoch ms)')
    .option('--to <time>', 'records with timestamp < this time')
    .option(
      '--generation <n>',
      'generation of a re-created topic (1 = the first incarnation); default: the newest',
    )
    .option('--raw', 'write only the values, raw bytes, one per line (like kcat -C)')
    .description(
      'print archived records as JSON lines (key/value as UTF-8 text, or base64 with keyEncoding/valueEncoding), streaming, each offset once',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  kafka-archive read ztf_alerts -p 3 --offset 1200 --count 5\n  kafka-archive read cluster1.job -p 0 --from 2026-11-01T03:00:00Z --to 2026-11-01T03:01:00Z\n',
    )
    .action(async (topic: string, opts: ReadOptions, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      const partition = Number(parseBigIntArg('--partition', opts.partition));
      if (opts.offset === undefined && opts.from === undefined) {
        throw new ArchiveError(ErrorCodes.USAGE, 'read: give --offset or --from (or both)');
      }
      const { catalog, source } = await openArchiveForRead(ctx.config, ctx.log);
      const records = readRecords(catalog, source, {
        topic,
        ...(opts.generation !== undefined
          ? { generation: parseGenerationArg(opts.generation) }
          : {}),
        partition,
        ...(opts.offset !== undefined
          ? { fromOffset: parseBigIntArg('--offset', opts.offset) }
          : {}),
        ...(opts.count !== undefined
          ? { count: Number(parseBigIntArg('--count', opts.count, 1n)) }
          : {}),
        ...(opts.from !== undefined ? { fromTime: parseTimeArg('--from', opts.from) } : {}),
        ...(opts.to !== undefined ? { toTime: parseTimeArg('--to', opts.to) } : {}),
      });
      let n = 0;
      for await (const r of records) {
        const ok = opts.raw
          ? process.stdout.write(Buffer.concat([r.value ?? Buffer.alloc(0), Buffer.from('\n')]))
          : process.stdout.write(`${recordJson(topic, partition, r)}\n`);
        if (!ok) await new Promise((resolve) => process.stdout.once('drain', resolve));
        n++;
      }
      ctx.log.debug({ topic, partition, records: n }, 'read done');
      setExit(ExitCode.OK);
    });
}
