import { formatBytes } from '../config/index.js';
import { survivesText, type FleetRecord, type FleetReport } from '../disk/index.js';
import { table } from './format.js';

const iso = (ms: number | null) =>
  ms === null ? '-' : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const rate = (n: number | null) =>
  n === null ? '-' : `${n < 0 ? '-' : '+'}${formatBytes(Math.round(Math.abs(n)))}/day`;
const days = (d: number | null) => (d === null ? '-' : d === 0 ? 'now' : `${d.toFixed(1)} d`);

/** What `disk agent --once` published. */
export function fleetRecordsText(records: FleetRecord[]): string {
  return table(
    [
      'broker',
      'log.dir',
      'used',
      'state',
      'available',
      'reserves',
      'partitions',
      'survives',
      'growth',
    ],
    records.map((r) => [
      String(r.brokerId),
      r.logDir,
      `${r.usedPercent.toFixed(1)}%`,
      r.state,
      formatBytes(r.availableBytes),
      `${r.reserves.armed}/${r.reserves.total}`,
      String(r.partitions),
      `${r.headroom.survives ? 'yes' : 'NO'} (needs ${formatBytes(r.headroom.needsBytes)}, has ${formatBytes(r.headroom.hasBytes)})`,
      rate(r.growthBytesPerDay),
    ]),
  );
}

/** `disk report --fleet`: one row per broker and log.dir. */
export function fleetReportText(report: FleetReport): string {
  const head = `disk fleet (topic ${report.topic}, ${report.entries.length} log.dir(s), stale after ${Math.round(report.staleAfterMs / 1000)} s)`;
  if (report.entries.length === 0)
    return `${head}\nno broker reports yet: run \`kafka-archive disk agent\` on each broker host`;
  const rows = table(
    [
      'broker',
      'log.dir',
      'source',
      'used',
      'state',
      'available',
      'growth',
      'high in',
      'flood in',
      'reserves',
      'survives unclean restart',
      'last seen',
    ],
    report.entries.map((e) => [
      String(e.brokerId),
      e.logDir,
      e.estimate ? 'estimate' : 'agent',
      e.usedPercent === null ? formatBytes(e.usedBytes) : `${e.usedPercent.toFixed(1)}%`,
      e.stale ? `${e.state} STALE` : e.state,
      e.availableBytes === null ? '-' : formatBytes(e.availableBytes),
      rate(e.growthBytesPerDay),
      days(e.daysToHigh),
      days(e.daysToFlood),
      e.reserves === null ? '-' : `${e.reserves.armed}/${e.reserves.total}`,
      survivesText(e),
      iso(e.lastSeen),
    ]),
  );
  const notes: string[] = [];
  if (report.entries.some((e) => e.estimate))
    notes.push(
      'estimate: no agent on that broker; DescribeLogDirs log sizes only (indexes estimated)',
    );
  if (report.malformed > 0) notes.push(`${report.malformed} unreadable record(s) skipped`);
  return [head, rows, ...notes].join('\n');
}
