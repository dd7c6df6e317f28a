import type { Command } from 'commander';
import { formatBytes } from '../../config/index.js';
import {
  availableAtPercent,
  measureFilesystem,
  pickVolume,
  rearmReserves,
  releaseReserve,
  reserveStatus,
  resolveVolumes,
  type ReserveFile,
  type VolumeSpec,
} from '../../disk/index.js';
import { ArchiveError, ErrorCodes } from '../../errors.js';
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
        'delete one armed reserve (highest number first) to free its space now; repeat for the next one',
      )
      .addHelpText(
        'after',
        '\nExamples:\n  kafka-archive reserve release\n  kafka-archive reserve release --volume kafka-1 --server-properties /etc/kafka/server.properties\n',
      ),
  ).action(async (opts: VolumeOptions, command: Command) => {
    const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
    let specs = await volumes(ctx, opts);
    if (opts.volume === undefined) {
      specs = specs.filter((s) => s.reserve.count > 0);
      if (specs.length > 1) {
        throw new ArchiveError(
          ErrorCodes.USAGE,
          `several volumes have reserves (${specs.map((s) => s.name).join(', ')}): choose one with --volume NAME`,
        );
      }
    }
    const spec = specs[0];
    if (spec === undefined) {
      throw new ArchiveError(
        ErrorCodes.RESERVE_NONE_ARMED,
        'no volume has reserves configured (disk.reserve.count is 0)',
      );
    }
    const r = await releaseReserve(spec.reserve, ctx.log);
    if (ctx.json) {
      ctx.out(toJson({ volume: spec.name, ...r }));
    } else {
      ctx.out(
        `released ${r.path} (${formatBytes(r.freedBytes)}) on volume ${spec.name}: available ${formatBytes(r.availableBeforeBytes)} -> ${formatBytes(r.availableAfterBytes)}; ${r.remainingArmed} of ${spec.reserve.count} reserves still armed`,
      );
    }
    setExit(ExitCode.OK);
  });

  withVolumeOptions(
    cmd
      .command('rearm')
      .description(
        'allocate missing reserves, each only if the space left afterwards stays above the flood watermark',
      ),
  ).action(async (opts: VolumeOptions, command: Command) => {
    const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
    const results = [];
    for (const v of await volumes(ctx, opts)) {
      if (v.reserve.count === 0) continue;
      const fs = await measureFilesystem(v.reserve.dir);
      const minAvailableBytes = availableAtPercent(fs, v.watermarks.flood);
      const r = await rearmReserves(v.reserve, { minAvailableBytes, log: ctx.log });
      results.push({ volume: v.name, minAvailableBytes, ...r });
    }
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
