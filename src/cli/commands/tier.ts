import type { Command } from 'commander';
import {
  ArchiveError,
  ErrorCodes,
  parseDurationMs,
  runTierPass,
  type TierPassResult,
} from '../../index.js';
import { postService, serviceApi } from '../service-api.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../../errors.js';
import { toJson } from '../format.js';

export function registerTier(program: Command, setExit: (code: number) => void): void {
  program
    .command('tier')
    .description(
      'tier sealed segments to the object store now: upload, verify (size + SHA-256 of the bytes sent, checked by the server per part; read back where a store cannot), then evict the hot copy (tiering.evictHot). The service tiers on its own schedule; while it runs, this asks it for one round now (POST /api/tier with the first server.auth.adminTokens).',
    )
    .option('--topic <topic>', 'only this topic (name or whole-name regular expression)')
    .option(
      '--older-than <duration>',
      'segments whose newest record is older than this (default tiering.minAgeMs), e.g. 0, 30m, 7d',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  kafka-archive tier --topic ztf_alerts --older-than 0\n  kafka-archive tier --older-than 24h --json\n',
    )
    .action(async (opts: { topic?: string; olderThan?: string }, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      let olderThanMs: number | undefined;
      if (opts.olderThan !== undefined) {
        olderThanMs = opts.olderThan === '0' ? 0 : parseDurationMs(opts.olderThan);
        if (olderThanMs === undefined) {
          throw new ArchiveError(
            ErrorCodes.USAGE,
            `--older-than: got ${JSON.stringify(opts.olderThan)}: expected a duration such as 0, 30m, 24h or 7d`,
          );
        }
      }
      const filter = {
        ...(opts.topic !== undefined ? { topic: opts.topic } : {}),
        ...(olderThanMs !== undefined ? { olderThanMs } : {}),
      };
      let r: TierPassResult;
      try {
        r = await runTierPass(ctx.config, ctx.log, filter);
      } catch (err) {
        // The running service holds the catalog: one round through its API instead.
        if (!(err instanceof ArchiveError) || err.code !== ErrorCodes.CATALOG_LOCKED) throw err;
        const api = serviceApi(ctx.config);
        if (api === null) throw err;
        const q = new URLSearchParams();
        if (filter.topic !== undefined) q.set('topic', filter.topic);
        if (filter.olderThanMs !== undefined) q.set('olderThan', `${filter.olderThanMs}ms`);
        ctx.log.info(
          { url: api.url },
          'the running service holds the catalog: tiering through its API',
        );
        const answer = (await postService(api, `/api/tier${q.size > 0 ? `?${q}` : ''}`)) as Omit<
          TierPassResult,
          'store'
        > | null;
        if (answer === null) throw err;
        r = { ...answer, store: `the running service at ${api.url}` };
      }
      if (ctx.json) ctx.out(toJson(r));
      else
        ctx.out(
          `tiered ${r.uploaded} segments (${(r.bytes / 2 ** 20).toFixed(1)} MiB, ${(r.bytes / 2 ** 20 / Math.max(r.seconds, 0.001)).toFixed(1)} MiB/s), adopted ${r.adopted}, evicted ${r.evicted} hot copies, dropped ${r.duplicates} already in the bucket, trimmed ${r.trimmed}, ${r.conflicts.length} conflicts -> ${r.store}`,
        );
      setExit(r.conflicts.length > 0 ? ExitCode.DATA : ExitCode.OK);
    });
}
