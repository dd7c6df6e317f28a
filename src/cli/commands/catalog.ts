import type { Command } from 'commander';
import {
  ArchiveError,
  ErrorCodes,
  rebuildCatalog,
  type RebuildJobView,
  type RebuildResult,
} from '../../index.js';
import { getService, postService, serviceApi, type ServiceApi } from '../service-api.js';
import { makeContext, type CommandContext, type GlobalOptions } from '../context.js';
import { ExitCode, isErrorCode } from '../../errors.js';
import { toJson } from '../format.js';

/** How often the CLI asks the service how its rebuild goes, and prints progress. */
const POLL_MS = 1_000;
const PRINT_MS = 5_000;

/** The running service rebuilds its own catalog: start its job, print progress, await it. */
async function rebuildThroughService(
  ctx: CommandContext,
  api: ServiceApi,
  concurrency: number,
  footers: boolean,
  locked: unknown,
): Promise<RebuildResult> {
  ctx.log.info(
    { url: api.url },
    'the running service holds the catalog: rebuilding through its API (it keeps archiving)',
  );
  const started = (await postService(
    api,
    `/api/catalog/rebuild?concurrency=${concurrency}${footers ? '&footers=true' : ''}`,
  )) as (RebuildJobView & { links: { self: string } }) | null;
  if (started === null) throw locked;
  let job: RebuildJobView = started;
  let printed = 0;
  while (job.state === 'running') {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const next = (await getService(api, started.links.self)) as RebuildJobView | null;
    if (next === null) {
      throw new ArchiveError(
        ErrorCodes.CATALOG_REBUILD_INTERRUPTED,
        `the service at ${api.url} stopped answering during the catalog rebuild; run it again: it resumes where it stopped`,
      );
    }
    job = next;
    if (job.state === 'running' && Date.now() - printed >= PRINT_MS) {
      printed = Date.now();
      ctx.log.info({ job: job.id, ...job.progress }, 'catalog rebuild in the service');
    }
  }
  if (job.state === 'failed' || job.result === null) {
    const code = isErrorCode(job.error?.code) ? job.error.code : ErrorCodes.INTERNAL;
    throw new ArchiveError(
      code,
      `the running service at ${api.url} could not rebuild its catalog: ${job.error?.error ?? 'no result'}`,
    );
  }
  return job.result;
}

export function registerCatalog(program: Command, setExit: (code: number) => void): void {
  const catalog = program
    .command('catalog')
    .description('the segment catalog (catalog.dir): rebuild it from the segments alone');
  catalog
    .command('rebuild')
    .description(
      "rebuild the catalog from the segment files and objects (each partition's segment index in the bucket where it names an object with the same size, else its footer; footers read in parallel); resumable: an interrupted rebuild continues where it stopped. While the service runs, it rebuilds its own catalog and keeps archiving (POST /api/catalog/rebuild with the first server.auth.adminTokens); progress on stderr.",
    )
    .option('--concurrency <n>', 'footers read at once', '16')
    .option(
      '--footers',
      "read every object's footer, ignoring the partitions' segment indexes (tiering.segmentIndex)",
    )
    .addHelpText(
      'after',
      '\nExample:\n  kafka-archive --config /etc/kafka-archive.yaml catalog rebuild\n',
    )
    .action(async (opts: { concurrency: string; footers?: boolean }, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
        throw new ArchiveError(
          ErrorCodes.USAGE,
          `--concurrency: got ${JSON.stringify(opts.concurrency)}: expected a whole number from 1 to 1024`,
        );
      }
      let summary: RebuildResult;
      try {
        summary = await rebuildCatalog(ctx.config, ctx.log, {
          concurrency,
          useIndex: opts.footers !== true,
        });
      } catch (err) {
        if (!(err instanceof ArchiveError) || err.code !== ErrorCodes.CATALOG_LOCKED) throw err;
        const api = serviceApi(ctx.config);
        if (api === null) throw err;
        summary = await rebuildThroughService(ctx, api, concurrency, opts.footers === true, err);
      }
      if (ctx.json) ctx.out(toJson(summary));
      else
        ctx.out(
          `catalog rebuilt${summary.via === 'service' ? ' by the running service' : ''}: ${summary.segments} segments (${summary.read} read, ${summary.cold} from the object store, ${summary.indexed} of them from segment indexes, ${summary.quarantined.length} quarantined${summary.merge !== undefined ? `; ${summary.merge.added} added, ${summary.merge.updated} corrected, ${summary.merge.dropped} dropped, ${summary.merge.keptNewer} written meanwhile kept` : ''}) in ${summary.seconds.toFixed(1)} s -> ${summary.catalogDir}`,
        );
      setExit(summary.quarantined.length > 0 ? ExitCode.DATA : ExitCode.OK);
    });
}
