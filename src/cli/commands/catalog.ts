import { rename, rm } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  ArchiveError,
  Catalog,
  createObjectStore,
  ErrorCodes,
  LocalSegmentIndex,
  reconcileHot,
  Tierer,
} from '../../index.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../exit-codes.js';
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
      const dir = ctx.config.catalog.dir;
      const work = `${dir}.rebuild`;
      const t0 = Date.now();
      // Refuse while the service writes the catalog (it holds the writer lock).
      await Catalog.open(dir, { writable: true })
        .then((c) => c.close())
        .catch((err: unknown) => {
          if (err instanceof ArchiveError && err.code === ErrorCodes.CATALOG_LOCKED) {
            throw new ArchiveError(
              ErrorCodes.CATALOG_LOCKED,
              `${err.message}: stop the service before rebuilding its catalog`,
              { userFacing: true },
            );
          }
          throw err;
        });
      // Entries already in an interrupted rebuild's log are not read again.
      const next = await Catalog.open(work, { writable: true });
      const r = await reconcileHot(
        next,
        new LocalSegmentIndex(ctx.config.archiver.hotDir),
        ctx.log,
        {
          concurrency: Math.max(1, Number(opts.concurrency) || 16),
        },
      );
      // Then the cold tier: every segment object's footer, read with range requests.
      const store = createObjectStore(ctx.config.storage, ctx.log);
      const cold = await new Tierer({
        catalog: next,
        store,
        hotDir: ctx.config.archiver.hotDir,
        config: ctx.config.tiering,
        log: ctx.log,
      }).adoptObjects();
      await store.close();
      await next.compact();
      await next.close();
      await rm(`${dir}.old`, { recursive: true, force: true });
      await rename(dir, `${dir}.old`).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await rename(work, dir);
      await rm(`${dir}.old`, { recursive: true, force: true });
      const summary = {
        catalogDir: dir,
        segments: next.size,
        read: r.adopted + cold,
        cold,
        quarantined: r.quarantined,
        seconds: (Date.now() - t0) / 1000,
        segmentsPerSecond: Math.round(
          (r.adopted + cold) / Math.max(0.001, (Date.now() - t0) / 1000),
        ),
      };
      if (ctx.json) ctx.out(toJson(summary));
      else
        ctx.out(
          `catalog rebuilt: ${summary.segments} segments (${summary.read} footers read, ${cold} from the object store, ${r.quarantined.length} quarantined) in ${summary.seconds.toFixed(1)} s -> ${dir}`,
        );
      setExit(r.quarantined.length > 0 ? ExitCode.DATA : ExitCode.OK);
    });
}
