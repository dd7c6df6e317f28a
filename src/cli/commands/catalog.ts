import type { Command } from 'commander';
import { ArchiveError, ErrorCodes, rebuildCatalog } from '../../index.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../../errors.js';
import { toJson } from '../format.js';

export function registerCatalog(program: Command, setExit: (code: number) => void): void {
  const catalog = program
    .command('catalog')
    .description('the segment catalog (catalog.dir): rebuild it from the segments alone');
  catalog
    .command('rebuild')
    .description(
      'rebuild the catalog from the segment files (footers read in parallel); resumable: an interrupted rebuild continues where it stopped. Stop the service first.',
    )
    .option('--concurrency <n>', 'footers read at once', '16')
    .addHelpText(
      'after',
      '\nExample:\n  kafka-archive --config /etc/kafka-archive.yaml catalog rebuild\n',
    )
    .action(async (opts: { concurrency: string }, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
        throw new ArchiveError(
          ErrorCodes.USAGE,
          `--concurrency: got ${JSON.stringify(opts.concurrency)}: expected a whole number from 1 to 1024`,
        );
      }
      const summary = await rebuildCatalog(ctx.config, ctx.log, { concurrency });
      if (ctx.json) ctx.out(toJson(summary));
      else
        ctx.out(
          `catalog rebuilt: ${summary.segments} segments (${summary.read} footers read, ${summary.cold} from the object store, ${summary.quarantined.length} quarantined) in ${summary.seconds.toFixed(1)} s -> ${summary.catalogDir}`,
        );
      setExit(summary.quarantined.length > 0 ? ExitCode.DATA : ExitCode.OK);
    });
}
