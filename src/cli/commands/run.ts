import { flushCompileCache } from 'node:module';
import type { Command } from 'commander';
import { createArchiverService, type ArchiverService } from '../../index.js';
import { startServer, type ServerHandle } from '../../server/index.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../../errors.js';

export function registerRun(program: Command, setExit: (code: number) => void): void {
  program
    .command('run')
    .description(
      'run the archiver service: join the consumer group, archive the configured topics, stop gracefully on SIGTERM/SIGINT',
    )
    .option('--topics <list>', 'comma-separated topic names (overrides archiver.topics)')
    .option(
      '--topic-pattern <regex...>',
      'topic regular expressions (overrides archiver.topicPatterns)',
    )
    .option('--group <id>', 'consumer group id (overrides archiver.groupId)')
    .addHelpText(
      'after',
      '\nExample:\n  kafka-archive run --config config/kafka-archive.yaml\n  KAFKA_ARCHIVE_KAFKA__BROKERS=127.0.0.1:9092 kafka-archive run --topic-pattern "ztf_.*"\n',
    )
    .action(
      async (
        opts: { topics?: string; topicPattern?: string[]; group?: string },
        command: Command,
      ) => {
        // The flags go through the config schema: `--topic-pattern '['` is refused like the
        // same pattern in the file.
        const ctx = makeContext(command.optsWithGlobals<GlobalOptions>(), [
          ...(opts.topics !== undefined
            ? [{ path: 'archiver.topics', value: opts.topics, source: '--topics' }]
            : []),
          ...(opts.topicPattern !== undefined
            ? [
                {
                  path: 'archiver.topicPatterns',
                  value: opts.topicPattern,
                  source: '--topic-pattern',
                },
              ]
            : []),
          ...(opts.group !== undefined
            ? [{ path: 'archiver.groupId', value: opts.group, source: '--group' }]
            : []),
        ]);
        const cfg = ctx.config;
        if (cfg.archiver.topics.length === 0 && cfg.archiver.topicPatterns.length === 0) {
          ctx.log.warn(
            'no topics configured (archiver.topics / archiver.topicPatterns): nothing will be archived',
          );
        }
        // Signal handlers first: a stop request during start-up (catalog check, group join)
        // is honoured as soon as the service exists.
        let service: ArchiverService | null = null;
        let server: ServerHandle | null = null;
        let signalled: string | null = null;
        let stopping: Promise<void> | null = null;
        let firstSignalAt = 0;
        let closeFailed = false;
        let stopped!: () => void;
        const done = new Promise<void>((resolve) => (stopped = resolve));
        const beginStop = (svc: ArchiverService, signal: string) => {
          ctx.log.info({ signal }, 'stopping: sealing open segments and committing');
          stopping = (server?.close() ?? Promise.resolve())
            .then(() => svc.close())
            .catch((err: unknown) => {
              closeFailed = true;
              ctx.log.error({ err }, 'graceful stop failed; open segments are re-read on restart');
            })
            .finally(stopped);
        };
        const stop = (signal: string) => {
          if (signalled !== null) {
            // Supervisors (and `timeout`, or a terminal sending to the whole process group) may
            // deliver the same stop request twice; only a later, deliberate one forces exit.
            if (Date.now() - firstSignalAt < 1000) return;
            ctx.log.warn({ signal }, 'second signal: exiting without waiting for open segments');
            process.exit(130);
          }
          signalled = signal;
          firstSignalAt = Date.now();
          if (service !== null) beginStop(service, signal);
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
        // SIGHUP: re-read the HTTPS certificate and key (a renewed certificate, no restart).
        process.on('SIGHUP', () => void server?.reloadTls().catch(() => undefined));
        service = await createArchiverService(cfg, ctx.log);
        if (signalled === null && cfg.server.enabled) {
          server = await startServer({ ...service, config: cfg }, cfg.server, ctx.log).catch(
            async (err: unknown) => {
              await service?.close();
              throw err;
            },
          );
        }
        if (signalled === null) {
          await service.start();
          ctx.log.info(
            { groupId: cfg.archiver.groupId, tiering: service.tierer !== null },
            'running',
          );
          // Every module the service needs is loaded now: write their code cache (bin/) while
          // running, so a start after a kill -9 is as quick as one after a clean stop.
          flushCompileCache();
        }
        if (signalled !== null && stopping === null) beginStop(service, signalled);
        await done;
        await server?.close(); // a signal during the server's start-up
        ctx.log.info('stopped');
        setExit(closeFailed ? ExitCode.FAILURE : ExitCode.OK);
      },
    );
}
