import type { Command } from 'commander';
import { formatBytes } from '../../config/index.js';
import {
  measureFilesystem,
  pickVolume,
  rearmOn,
  releaseOn,
  reserveStatus,
  resolveVolumes,
  type ReserveFile,
  type VolumeRearm,
  type VolumeRelease,
  type VolumeSpec,
} from '../../disk/index.js';
import { catalogWriter } from '../../catalog/index.js';
import { postService, serviceApi } from '../service-api.js';
import { makeContext, type CommandContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../../errors.js';
import { table, toJson } from '../format.js';
import type { KafkaDirOptions } from './disk.js';

interface VolumeOptions extends KafkaDirOptions {
  volume?: string;
}

async function volumes(ctx: CommandContext, opts: VolumeOptions): Promise<VolumeSpec[]> {
  const specs = await resolveVolumes(ctx.config, {
    ...(opts.serverProperties !== undefined ? { serverProperties: opts.serverProperties } : {}),
    ...(opts.logDir !== undefined ? { logDirs: opts.logDir } : {}),
  });
  if (opts.volume !== undefined) return [pickVolume(specs, opts.volume)];
  return specs;
}

function fileState(f: ReserveFile): string {
  if (f.armed) return 'armed';
  if (!f.present) return 'missing';
  return f.allocatedBytes === 0 ? 'sparse' : `partial ${formatBytes(f.allocatedBytes)}`;
}

function withVolumeOptions(cmd: Command): Command {
  return cmd
    .option(
      '--volume <name>',
      'only this volume (see "disk volumes"); hot is the archiver hot tier',
    )
    .option('--server-properties <file>', "include this broker's log.dirs as volumes kafka-1, ...")
    .option('--log-dir <dir...>', 'include these Kafka log.dirs as volumes');
}

export function registerReserve(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('reserve')
    .description(
      'reserve (ballast) blocks: files allocated for real on each volume, released one at a time to get out of a full disk',
    );

  withVolumeOptions(
    cmd.command('status').description('armed reserves per volume, verified by allocated blocks'),
  ).action(async (opts: VolumeOptions, command: Command) => {
    const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
    const rows = [];
    for (const v of await volumes(ctx, opts)) {
      const status = await reserveStatus(v.reserve);
      const fs = await measureFilesystem(v.reserve.dir);
      rows.push({ volume: v.name, availableBytes: fs.availableBytes, ...status });
    }
    if (ctx.json) {
      ctx.out(toJson(rows));
    } else {
      ctx.out(
        table(
          ['volume', 'dir', 'armed', 'size each', 'held', 'available', 'files'],
          rows.map((r) => [
            r.volume,
            r.dir,
            r.count === 0 ? 'off' : `${r.armed}/${r.count}`,
            formatBytes(r.sizeBytes),
            formatBytes(r.armedBytes),
            formatBytes(r.availableBytes),
            [...r.files, ...r.extra].map((f) => `${f.n}:${fileState(f)}`).join(' ') || '-',
          ]),
        ),
      );
    }
    setExit(ExitCode.OK);
  });

  withVolumeOptions(
    cmd
      .command('release')
      .description(
        'delete one armed reserve (highest number first) to free its space now; repeat for the next one. While the service runs, its disk monitor releases it (POST /api/reserve/release) and then leaves that volume unarmed until `reserve rearm`.',
      )
      .addHelpText(
        'after',
        '\nExamples:\n  kafka-archive reserve release\n  kafka-archive reserve release --volume kafka-1 --server-properties /etc/kafka/server.properties\n',
      ),
  ).action(async (opts: VolumeOptions, command: Command) => {
    const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
    const r =
      ((await throughService(ctx, opts, 'release')) as VolumeRelease | null) ??
      (await releaseOn(await volumes(ctx, { ...opts, volume: undefined }), opts.volume, ctx.log));
    if (ctx.json) {
      ctx.out(toJson(r));
    } else {
      ctx.out(
        `released ${r.path} (${formatBytes(r.freedBytes)}) on volume ${r.volume}: available ${formatBytes(r.availableBeforeBytes)} -> ${formatBytes(r.availableAfterBytes)}; ${r.remainingArmed} of ${r.count} reserves still armed`,
      );
    }
    setExit(ExitCode.OK);
  });

  withVolumeOptions(
    cmd
      .command('rearm')
      .description(
        'allocate missing reserves, each only if the space left afterwards stays above the flood watermark. While the service runs, through its disk monitor (POST /api/reserve/rearm), which re-arms that volume on its own again from then on.',
      ),
  ).action(async (opts: VolumeOptions, command: Command) => {
    const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
    const results =
      ((await throughService(ctx, opts, 'rearm')) as VolumeRearm[] | null) ??
      (await rearmOn(await volumes(ctx, { ...opts, volume: undefined }), opts.volume, ctx.log));
    if (ctx.json) {
      ctx.out(toJson(results));
    } else {
      ctx.out(
        table(
          ['volume', 'dir', 'armed', 'newly armed', 'refused'],
          results.map((r) => [
            r.volume,
            r.dir,
            `${r.status.armed}/${r.status.count}`,
            r.armed.map((a) => `${a.n} (${a.method})`).join(' ') || '-',
            r.refused.map((x) => String(x.n)).join(' ') || '-',
          ]),
        ),
      );
    }
    const refused = results.flatMap((r) =>
      r.refused.map((x) => `${r.volume}: reserve ${x.n}: ${x.reason}`),
    );
    if (refused.length > 0) {
      process.stderr.write(`not every reserve could be re-armed:\n${refused.join('\n')}\n`);
      setExit(ExitCode.FAILURE);
    } else {
      setExit(ExitCode.OK);
    }
  });
}

/**
 * release / rearm through the running service's disk monitor, which owns the reserves while it
 * runs (a release behind its back would be re-armed at its next sample below low). Null when no
 * service answers at server.host:server.port, or when the command names Kafka log.dirs of its
 * own (--server-properties, --log-dir: volumes the service does not know): act on the files.
 */
async function throughService(
  ctx: CommandContext,
  opts: VolumeOptions,
  action: 'release' | 'rearm',
): Promise<unknown> {
  const api = serviceApi(ctx.config);
  const own = opts.serverProperties !== undefined || opts.logDir !== undefined;
  // The service of this configuration runs when it holds its catalog (not merely something at
  // server.port): a different instance's monitor must not act for this one.
  const writer = api !== null && !own ? await catalogWriter(ctx.config.catalog.dir) : null;
  if (api !== null && writer !== null) {
    const q = opts.volume !== undefined ? `?volume=${encodeURIComponent(opts.volume)}` : '';
    const r = await postService(api, `/api/reserve/${action}${q}`);
    if (r !== null) {
      ctx.log.info(
        { url: api.url },
        `reserve ${action}: through the running service's disk monitor`,
      );
      return r;
    }
  }
  ctx.log.info(
    {
      why:
        api === null
          ? 'server.enabled is false'
          : own
            ? '--server-properties/--log-dir name volumes of this command'
            : writer === null
              ? `no service holds ${ctx.config.catalog.dir}`
              : `no service answers at ${api.url}`,
    },
    `reserve ${action}: on the reserve files directly`,
  );
  return null;
}
