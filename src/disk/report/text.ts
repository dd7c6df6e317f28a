import { table } from '../../util/table.js';
import { formatBytes } from '../../config/units.js';
import type { LogDirHeadroom, ScenarioHeadroom } from './logdir-state.js';
import { forecastDays, formatDays, type DiskReport } from './collect.js';

/** The terminal form of the disk report (the --json form is the machine interface). */

const pct = (n: number) => `${n.toFixed(1)}%`;
const rate = (n: number | null) =>
  n === null ? '-' : `${n < 0 ? '-' : '+'}${formatBytes(Math.round(Math.abs(n)))}`;

function scenarioLines(s: ScenarioHeadroom): string[] {
  return [
    `  ${s.summary}`,
    `    recovers ${s.segmentsRecovered} segments (${formatBytes(s.logBytesRecovered)} of log) in ${s.partitionsRecovered} of ${s.partitions} partitions: ` +
      `index growth ${formatBytes(s.indexGrowthBytes)}, producer snapshots ${formatBytes(s.snapshotBytes)}, ` +
      `active indexes reset ${formatBytes(s.activeResizeBytes)}, in flight ${formatBytes(s.inFlightExtraBytes)}, allowances ${formatBytes(s.allowanceBytes)}`,
  ];
}

export function headroomText(name: string, h: LogDirHeadroom): string {
  const shutdown = {
    running: 'broker running',
    clean: 'stopped cleanly',
    unclean: 'stopped UNCLEANLY: the next start recovers',
    unknown: 'broker state unknown',
  }[h.lastShutdown];
  return [
    `${name} ${h.logDir} (${h.filesystemType}, ${shutdown}; ${h.sparse ? 'sparse' : 'NO sparse'} files, block ${formatBytes(h.blockBytes)}, ${h.recoveryThreads} recovery thread${h.recoveryThreads === 1 ? '' : 's'}):`,
    ...scenarioLines(h.unclean),
    ...scenarioLines(h.fullRebuild),
    `  assumptions: ${h.assumptions.join('; ')}`,
  ].join('\n');
}

export function renderDiskReportText(report: DiskReport): string {
  const h = report.history;
  const out: string[] = [
    `disk report ${report.generatedAt}: history of ${h.samplesInWindow} sample${h.samplesInWindow === 1 ? '' : 's'} in the last ${formatDays(report.windowMs / 86_400_000)}` +
      `${h.since === null ? '' : ` (kept since ${h.since})`} in ${h.file}${h.recorded ? '' : ' (this run not recorded)'}`,
    '',
    table(
      [
        'volume',
        'kind',
        'path',
        'used',
        'state',
        'allocated',
        'available',
        'growth/day',
        'high in',
        'flood in',
        'reserves',
        'unclean restart',
      ],
      report.volumes.map((v) => {
        const s = v.sample;
        const f = v.forecast;
        return [
          s.name,
          s.kind,
          s.path,
          pct(s.usedPercent),
          s.state,
          formatBytes(s.usage.allocatedBytes),
          formatBytes(s.filesystem.availableBytes),
          rate(f.allocatedBytesPerDay),
          forecastDays(f, f.daysToHigh),
          forecastDays(f, f.daysToFlood),
          s.reserve.count === 0 ? 'off' : `${s.reserve.armed}/${s.reserve.count}`,
          v.headroom !== null
            ? v.headroom.unclean.verdict.verdict
            : v.headroomError !== null
              ? 'unknown'
              : '-',
        ];
      }),
    ),
  ];
  const kafka = report.volumes.filter((v) => v.sample.kind === 'kafka-log-dir');
  if (kafka.length > 0) {
    out.push('', 'Unclean-restart headroom (Kafka log.dirs):');
    for (const v of kafka) {
      if (v.headroom !== null) out.push(headroomText(v.sample.name, v.headroom));
      else
        out.push(
          `${v.sample.name} ${v.sample.path}: no estimate: ${v.headroomError ?? 'not scanned'}`,
        );
    }
  }
  out.push(
    '',
    `Top partitions by growth (least squares over ${formatDays(report.windowMs / 86_400_000)}):`,
  );
  out.push(
    report.topPartitions.length === 0
      ? '  (needs two samples: run the report again later, or let the service sample on disk.reportSchedule)'
      : table(
          [
            'partition',
            'log.dir',
            'growth/day',
            'index growth/day',
            'allocated',
            '.log',
            'indexes',
            'segments',
            'samples',
          ],
          report.topPartitions.map((p) => [
            `${p.topic}-${p.partition}`,
            p.logDir,
            rate(p.bytesPerDay),
            rate(p.indexBytesPerDay),
            formatBytes(p.allocatedBytes),
            formatBytes(p.logBytes),
            formatBytes(p.indexBytes),
            String(p.segments),
            String(p.samples),
          ]),
        ),
  );
  if (report.indexVsLog.length > 0) {
    out.push('', 'Index vs log bytes (.index + .timeindex, apparent / allocated):');
    out.push(
      table(
        [
          'volume',
          'log.dir',
          'partitions',
          'segments',
          '.log',
          'indexes apparent',
          'indexes allocated',
          'allocated/log',
          '.txnindex',
          'other',
        ],
        report.indexVsLog.map((x) => [
          x.volume,
          x.logDir,
          String(x.partitions),
          String(x.segments),
          formatBytes(x.log.allocatedBytes),
          formatBytes(x.indexes.apparentBytes),
          formatBytes(x.indexes.allocatedBytes),
          x.log.allocatedBytes > 0
            ? pct((x.indexes.allocatedBytes / x.log.allocatedBytes) * 100)
            : '-',
          formatBytes(x.txnindex.allocatedBytes),
          formatBytes(x.other.allocatedBytes),
        ]),
      ),
    );
  }
  return out.join('\n');
}
