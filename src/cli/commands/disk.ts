import type { Command } from 'commander';
import { formatBytes } from '../../config/index.js';
import {
  formatBudget,
  readServerProperties,
  resolveVolumes,
  sampleVolume,
  scanLogDirs,
  type FileKindBytes,
  type LogDirScan,
  type VolumeSample,
} from '../../disk/index.js';
import { ArchiveError, ErrorCodes } from '../../errors.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { table, toJson } from '../format.js';

export interface KafkaDirOptions {
  logDir?: string[];
  serverProperties?: string;
}

const pct = (n: number) => `${n.toFixed(1)}%`;
const both = (k: FileKindBytes) =>
  k.files === 0 ? '-' : `${formatBytes(k.apparentBytes)} / ${formatBytes(k.allocatedBytes)}`;
const day = (iso: string | null) => (iso === null ? '-' : iso.slice(0, 19).replace('T', ' '));

function volumesTable(samples: VolumeSample[]): string {
  return table(
    [
      'volume',
      'kind',
      'path',
      'fs',
      'size',
      'available',
      'fs used',
      'allocated',
      'apparent',
      'budget',
      'budget used',
      'state',
      'reserves',
    ],
    samples.map((s) => [
      s.name,
      s.kind,
      s.exists ? s.path : `${s.path} (missing)`,
      s.filesystem.type,
      formatBytes(s.filesystem.sizeBytes),
      formatBytes(s.filesystem.availableBytes),
      pct(s.filesystem.usedPercent),
      formatBytes(s.usage.allocatedBytes),
      formatBytes(s.usage.apparentBytes),
      formatBudget(s.budget),
      pct(s.budgetUsedPercent),
      s.state,
      s.reserve.count === 0
        ? 'off'
        : `${s.reserve.armed}/${s.reserve.count} × ${formatBytes(s.reserve.sizeBytes)}`,
    ]),
  );
}

function scanText(scan: LogDirScan): string {
  const shutdown = {
    running: `broker running (pid ${scan.brokerPid !== null && scan.brokerPid > 0 ? scan.brokerPid : 'not visible here'}), so no clean-shutdown marker`,
    clean: 'last shutdown clean (.kafka_cleanshutdown present)',
    unclean:
      'no broker running and no .kafka_cleanshutdown: the last shutdown was UNCLEAN; the next start recovers every segment past the recovery point',
    unknown: `.kafka_cleanshutdown ${scan.cleanShutdownMarker ? 'present' : 'absent'} (cannot tell whether a broker runs)`,
  }[scan.lastShutdown];
  const t = scan.totals;
  const sparse =
    scan.sparseIndexesObserved === null
      ? 'no preallocated index seen'
      : scan.sparseIndexesObserved
        ? 'kept sparse'
        : 'FULLY ALLOCATED (no sparse files)';
  const lines = [
    `log.dir ${scan.path} (${scan.filesystemType}): ${shutdown}`,
    `  ${t.partitions} partitions, ${t.segments} segments, ${formatBytes(t.apparentBytes)} apparent / ${formatBytes(t.allocatedBytes)} allocated; active-segment indexes: ${sparse}` +
      (scan.sparseProbe === null
        ? ''
        : `; sparse probe: ${scan.sparseProbe.sparse ? 'sparse files kept' : 'no sparse files'} (${formatBytes(scan.sparseProbe.apparentBytes)} file holds ${formatBytes(scan.sparseProbe.allocatedBytes)})`),
    `  checkpoints: ${scan.checkpoints
      .map(
        (c) =>
          `${c.name} ${c.present ? (c.error !== null ? `INVALID (${c.error})` : `v${c.version} ${c.entries} entries`) : 'absent'}`,
      )
      .join('; ')}`,
  ];
  if (scan.unknownDirectories.length > 0)
    lines.push(
      `  directories that are not topic-partitions (the broker fails on them): ${scan.unknownDirectories.join(', ')}`,
    );
  lines.push(
    '',
    table(
      [
        'partition',
        'state',
        'segs',
        '.log app/alloc',
        '.index app/alloc',
        '.timeindex app/alloc',
        '.txnindex',
        'other',
        'allocated',
        'oldest segment',
        'newest segment',
        'recovery pt',
        'to recover',
      ],
      scan.partitions.map((p) => [
        `${p.topic}-${p.partition}`,
        p.state,
        String(p.segments),
        both(p.log),
        both(p.index),
        both(p.timeindex),
        both(p.txnindex),
        formatBytes(p.other.allocatedBytes),
        formatBytes(p.allocatedBytes),
        day(p.oldestSegmentMtime),
        day(p.newestSegmentMtime),
        p.recoveryPoint?.toString() ?? '-',
        p.segmentsPastRecoveryPoint === null ? '-' : String(p.segmentsPastRecoveryPoint),
      ]),
    ),
  );
  return lines.join('\n');
}

export function registerDisk(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('disk')
    .description('disk safety: configured volumes, budgets and watermarks; Kafka log.dir scanner');

  cmd
    .command('volumes')
    .description(
      'configured volumes: filesystem size and free space, allocated vs apparent usage, budget, watermark state, reserves',
    )
    .option(
      '--server-properties <file>',
      "also guard this broker's log.dirs (kafka-1, kafka-2, ...)",
    )
    .option('--log-dir <dir...>', 'also guard these Kafka log.dirs')
    .addHelpText(
      'after',
      '\nExamples:\n  kafka-archive disk volumes\n  kafka-archive disk volumes --server-properties /etc/kafka/server.properties --json\n',
    )
    .action(async (opts: KafkaDirOptions, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      const specs = await resolveVolumes(ctx.config, {
        ...(opts.serverProperties !== undefined ? { serverProperties: opts.serverProperties } : {}),
        ...(opts.logDir !== undefined ? { logDirs: opts.logDir } : {}),
      });
      const samples: VolumeSample[] = [];
      for (const spec of specs) samples.push(await sampleVolume(spec));
      ctx.out(ctx.json ? toJson(samples) : volumesTable(samples));
      setExit(ExitCode.OK);
    });

  cmd
    .command('scan')
    .description(
      'scan Kafka log.dirs: per partition the segments, .log/.index/.timeindex/.txnindex bytes (apparent and allocated), segment times, checkpoints, clean-shutdown marker',
    )
    .option('--log-dir <dir...>', 'Kafka log.dirs to scan')
    .option('--server-properties <file>', "scan this broker's log.dirs (log.dirs, else log.dir)")
    .option(
      '--probe-sparse',
      'also test whether the filesystem keeps sparse files (writes and removes a 10 MiB sparse file in each log.dir)',
    )
    .addHelpText(
      'after',
      '\nWithout --log-dir / --server-properties, disk.kafka.logDirs and disk.kafka.serverProperties from the config are scanned.\n\nExamples:\n  kafka-archive disk scan --server-properties /etc/kafka/server.properties\n  kafka-archive disk scan --log-dir /data/kafka-1 /data/kafka-2 --json\n',
    )
    .action(async (opts: KafkaDirOptions & { probeSparse?: boolean }, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      const dirs: string[] = [...(opts.logDir ?? [])];
      if (opts.serverProperties !== undefined)
        dirs.push(...(await readServerProperties(opts.serverProperties)).logDirs);
      if (dirs.length === 0) {
        dirs.push(...ctx.config.disk.kafka.logDirs);
        if (ctx.config.disk.kafka.serverProperties !== undefined)
          dirs.push(
            ...(await readServerProperties(ctx.config.disk.kafka.serverProperties)).logDirs,
          );
      }
      if (dirs.length === 0) {
        throw new ArchiveError(
          ErrorCodes.USAGE,
          'nothing to scan: give --log-dir DIR... or --server-properties FILE (or set disk.kafka.logDirs / disk.kafka.serverProperties)',
          { userFacing: true },
        );
      }
      const scans = await scanLogDirs([...new Set(dirs)], {
        probeSparse: opts.probeSparse === true,
      });
      ctx.out(ctx.json ? toJson(scans) : scans.map(scanText).join('\n\n'));
      setExit(ExitCode.OK);
    });
}
