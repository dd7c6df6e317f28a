import type { Command } from 'commander';
import { formatBytes, parseDurationMs, type Config } from '../../config/index.js';
import {
  assessLogDirHeadroom,
  collectDiskReport,
  formatBudget,
  headroomText,
  readServerProperties,
  renderDiskReportText,
  resolveVolumes,
  sampleVolume,
  scanLogDirs,
  topicIndexOverrides,
  writeDiskReportFiles,
  writeFleetReportFile,
  type FileKindBytes,
  type LogDirHeadroom,
  type LogDirScan,
  type TopicIndexOverrides,
  type VolumeSample,
} from '../../disk/index.js';
import { ArchiveError, ErrorCodes } from '../../errors.js';
import { collectFleetReport, createDiskAgent, createKafkaClient } from '../../service/index.js';
import { fleetReportText, fleetRecordsText } from '../fleet-text.js';
import type { Logger } from '../../log/index.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../../errors.js';
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

/** Per-topic segment.index.bytes / index.interval.bytes overrides, read with the admin API. */
async function topicOverridesFromKafka(
  config: Config,
  log: Logger,
): Promise<Map<string, TopicIndexOverrides>> {
  const admin = await createKafkaClient(config, log).admin();
  const out = new Map<string, TopicIndexOverrides>();
  try {
    const topics = await admin.listTopics();
    for (let i = 0; i < topics.length; i += 16) {
      await Promise.all(
        topics.slice(i, i + 16).map(async (t) => {
          try {
            const o = topicIndexOverrides((await admin.describeTopic(t)).configs);
            if (Object.keys(o).length > 0) out.set(t, o);
          } catch (err) {
            log.warn({ topic: t, err }, `cannot read the configs of topic ${t}`);
          }
        }),
      );
    }
  } finally {
    await admin.disconnect();
  }
  return out;
}

function parseWindow(value: string): number {
  const ms = parseDurationMs(value);
  if (ms === undefined || !(ms > 0)) {
    throw new ArchiveError(
      ErrorCodes.USAGE,
      `--window: got ${JSON.stringify(value)}: expected a duration such as 12h, 7d or 30d`,
    );
  }
  return ms;
}

function parseCount(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new ArchiveError(
      ErrorCodes.USAGE,
      `${flag}: got ${JSON.stringify(value)}: expected a whole number >= 1`,
    );
  }
  return n;
}

export interface HeadroomCliOptions extends KafkaDirOptions {
  kafkaVersion?: string;
  topicConfigs?: boolean;
  probeSparse?: boolean;
  partitions?: string;
}

function headroomPartitionsTable(h: LogDirHeadroom): string {
  const rows = (label: string, s: LogDirHeadroom['unclean']) => [
    `  ${label}: ${s.byPartition.length} of ${s.byPartition.length + s.partitionsNotShown} partitions, largest need first`,
    table(
      [
        'partition',
        'segs',
        'recovered',
        'log recovered',
        'index growth',
        'snapshots',
        'active reset',
        'in flight',
        'peak',
      ],
      s.byPartition.map((p) => [
        `${p.topic}-${p.partition}`,
        String(p.segments),
        String(p.segmentsRecovered),
        formatBytes(p.logBytesRecovered),
        formatBytes(p.indexGrowthBytes),
        formatBytes(p.snapshotBytes),
        formatBytes(p.activeResizeBytes),
        formatBytes(p.inFlightExtraBytes),
        formatBytes(p.peakBytes),
      ]),
    ),
  ];
  return [
    ...rows('unclean restart', h.unclean),
    '',
    ...rows('full index rebuild', h.fullRebuild),
  ].join('\n');
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
        );
      }
      const scans = await scanLogDirs([...new Set(dirs)], {
        probeSparse: opts.probeSparse === true,
      });
      ctx.out(ctx.json ? toJson(scans) : scans.map(scanText).join('\n\n'));
      setExit(ExitCode.OK);
    });
  cmd
    .command('headroom')
    .description(
      'unclean-restart headroom per Kafka log.dir: the extra space a broker needs to recover (indexes reset to segment.index.bytes and rebuilt) against available space + reserves',
    )
    .option('--log-dir <dir...>', 'Kafka log.dirs')
    .option('--server-properties <file>', "this broker's log.dirs and index settings")
    .option(
      '--kafka-version <version>',
      'broker version, for the default num.recovery.threads.per.data.dir (1 before 4.0, 2 since)',
    )
    .option(
      '--topic-configs',
      'read per-topic segment.index.bytes / index.interval.bytes overrides from Kafka (kafka.brokers)',
    )
    .option('--no-probe-sparse', 'do not probe sparse-file support (use what the index files show)')
    .option('--partitions <n>', 'partitions listed per scenario', '10')
    .addHelpText(
      'after',
      '\nExit code 3 when a log.dir would not survive an unclean restart even with its reserves released.\n\nExamples:\n  kafka-archive disk headroom --server-properties /etc/kafka/server.properties\n  kafka-archive disk headroom --log-dir /data/kafka-1 --kafka-version 3.9.1 --json\n',
    )
    .action(async (opts: HeadroomCliOptions, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      const shown = parseCount(opts.partitions ?? '10', '--partitions');
      const specs = await resolveVolumes(ctx.config, {
        ...(opts.serverProperties !== undefined ? { serverProperties: opts.serverProperties } : {}),
        ...(opts.logDir !== undefined ? { logDirs: opts.logDir } : {}),
      });
      const kafka = specs.filter((s) => s.kind === 'kafka-log-dir');
      if (kafka.length === 0) {
        throw new ArchiveError(
          ErrorCodes.USAGE,
          'no Kafka log.dir: give --log-dir DIR... or --server-properties FILE (or set disk.kafka.logDirs / disk.kafka.serverProperties)',
        );
      }
      const propsFile = opts.serverProperties ?? ctx.config.disk.kafka.serverProperties;
      const serverProperties =
        propsFile === undefined ? undefined : (await readServerProperties(propsFile)).properties;
      const topics =
        opts.topicConfigs === true ? await topicOverridesFromKafka(ctx.config, ctx.log) : undefined;
      const results: Array<{ volume: string; headroom: LogDirHeadroom }> = [];
      for (const spec of kafka) {
        const sample = await sampleVolume(spec);
        const { headroom } = await assessLogDirHeadroom(spec.path, {
          ...(serverProperties !== undefined ? { serverProperties } : {}),
          ...(opts.kafkaVersion !== undefined ? { kafkaVersion: opts.kafkaVersion } : {}),
          ...(topics !== undefined ? { topics } : {}),
          probeSparse: opts.probeSparse !== false,
          availableBytes: sample.filesystem.availableBytes,
          reserveBytes: sample.reserve.armedBytes,
          partitionsShown: shown,
        });
        results.push({ volume: spec.name, headroom });
      }
      ctx.out(
        ctx.json
          ? toJson(results)
          : results
              .map(
                (r) =>
                  `${headroomText(r.volume, r.headroom)}\n\n${headroomPartitionsTable(r.headroom)}`,
              )
              .join('\n\n'),
      );
      setExit(
        results.some((r) => r.headroom.unclean.verdict.verdict === 'no')
          ? ExitCode.DATA
          : ExitCode.OK,
      );
    });

  cmd
    .command('agent')
    .description(
      "disk agent for a broker host: samples the broker's log.dirs, keeps their reserve blocks (release at flood, re-arm below low) and publishes usage, headroom and growth to the compacted fleet topic (disk.fleet.topic) every disk.fleet.intervalMs and on every state change; runs until SIGTERM/SIGINT",
    )
    .option('--once', 'one scan and publish, then exit (cron, tests)')
    .option(
      '--kafka-version <version>',
      'broker version, for the default num.recovery.threads.per.data.dir',
    )
    .addHelpText(
      'after',
      '\nUses kafka.* (connection), disk.kafka.serverProperties / disk.kafka.logDirs, disk.kafka.budget, disk.watermarks.*, disk.reserve.* and disk.fleet.*; no archiver, catalog or object store.\n\nExamples:\n  kafka-archive disk agent --config /etc/kafka-archive/agent.yaml\n  kafka-archive disk agent --config /etc/kafka-archive/agent.yaml --once --json\n',
    )
    .action(async (opts: { once?: boolean; kafkaVersion?: string }, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      const handle = await createDiskAgent(ctx.config, ctx.log, {
        ...(opts.kafkaVersion !== undefined ? { kafkaVersion: opts.kafkaVersion } : {}),
      });
      if (opts.once === true) {
        try {
          const records = await handle.once();
          ctx.out(ctx.json ? toJson(records) : fleetRecordsText(records));
        } finally {
          await handle.stop();
        }
        setExit(ExitCode.OK);
        return;
      }
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          ctx.log.info({ signal }, 'disk agent stopping');
          void handle.stop().finally(resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
        handle.start();
      });
      setExit(ExitCode.OK);
    });

  cmd
    .command('report')
    .description(
      'disk report: volumes with usage history and forecast (growth per day, days to high / flood), unclean-restart headroom of Kafka log.dirs, top partitions by growth, index vs log bytes; records a history sample',
    )
    .option('--server-properties <file>', "also report this broker's log.dirs")
    .option('--log-dir <dir...>', 'also report these Kafka log.dirs')
    .option('--html <file>', 'also write a self-contained HTML page with charts (inline SVG)')
    .option('--window <duration>', 'history window for growth rates', '7d')
    .option('--top <n>', 'partitions listed by growth', '10')
    .option('--no-record', 'do not append this run to the history (disk.historyDir)')
    .option('--no-probe-sparse', 'do not probe sparse-file support in the log.dirs')
    .option(
      '--kafka-version <version>',
      'broker version, for the default num.recovery.threads.per.data.dir',
    )
    .option('--topic-configs', 'read per-topic index overrides from Kafka (kafka.brokers)')
    .option(
      '--fleet',
      "the fleet report instead: every broker and log.dir from the disk agents' topic (disk.fleet.topic), brokers without an agent estimated from DescribeLogDirs",
    )
    .addHelpText(
      'after',
      '\nExit code 3 when a Kafka log.dir would not survive an unclean restart even with its reserves released.\n\nExamples:\n  kafka-archive disk report\n  kafka-archive disk report --server-properties /etc/kafka/server.properties --html /var/www/disk.html\n  kafka-archive disk report --window 30d --json\n  kafka-archive disk report --fleet --html /var/www/fleet.html\n',
    )
    .action(
      async (
        opts: HeadroomCliOptions & {
          html?: string;
          window?: string;
          top?: string;
          record?: boolean;
          fleet?: boolean;
        },
        command: Command,
      ) => {
        const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
        if (opts.fleet === true) {
          const fleet = await collectFleetReport(ctx.config, ctx.log);
          const written =
            opts.html !== undefined
              ? await writeFleetReportFile(fleet, opts.html, ctx.config.disk.watermarks)
              : [];
          if (ctx.json) ctx.out(toJson(fleet));
          else
            ctx.out(
              fleetReportText(fleet) +
                (written.length > 0 ? `\n\nHTML report written to ${written.join(', ')}` : ''),
            );
          setExit(
            fleet.entries.some((e) => e.survivesUncleanRestart === false)
              ? ExitCode.DATA
              : ExitCode.OK,
          );
          return;
        }
        const windowMs = parseWindow(opts.window ?? '7d');
        const top = parseCount(opts.top ?? '10', '--top');
        const topics =
          opts.topicConfigs === true
            ? await topicOverridesFromKafka(ctx.config, ctx.log)
            : undefined;
        const report = await collectDiskReport(ctx.config, {
          ...(opts.serverProperties !== undefined
            ? { serverProperties: opts.serverProperties }
            : {}),
          ...(opts.logDir !== undefined ? { logDirs: opts.logDir } : {}),
          ...(opts.kafkaVersion !== undefined ? { kafkaVersion: opts.kafkaVersion } : {}),
          ...(topics !== undefined ? { topics } : {}),
          windowMs,
          top,
          record: opts.record !== false,
          probeSparse: opts.probeSparse !== false,
        });
        const written =
          opts.html !== undefined
            ? await writeDiskReportFiles(report, { htmlFile: opts.html })
            : [];
        if (ctx.json) ctx.out(toJson(report));
        else
          ctx.out(
            renderDiskReportText(report) +
              (written.length > 0 ? `\n\nHTML report written to ${written.join(', ')}` : ''),
          );
        setExit(
          report.volumes.some((v) => v.headroom?.unclean.verdict.verdict === 'no')
            ? ExitCode.DATA
            : ExitCode.OK,
        );
      },
    );
}
