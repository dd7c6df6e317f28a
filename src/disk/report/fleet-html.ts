import { formatBytes } from '../../config/units.js';
import type { FleetEntry, FleetReport } from '../fleet/types.js';
import { fleetKey } from '../fleet/record.js';
import type { Watermarks } from '../volume.js';
import { REPORT_CSS } from './html.js';
import { resolve } from 'node:path';
import { barChart, esc, legend, lineChart, REPORT_COLORS as C, type BarRow } from './svg.js';
import { writeFileAtomic } from './write.js';

/**
 * The fleet page: one table row per broker and log.dir (agents, then DescribeLogDirs estimates),
 * the unclean-restart verdicts as bars, and per broker a chart of used % over the records seen
 * in the fleet topic. Self-contained like the disk report (inline CSS and SVG, no scripts).
 */

const DAY_MS = 86_400_000;
const iso = (ms: number | null) =>
  ms === null ? '-' : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const bytesOr = (n: number | null) => (n === null ? '-' : formatBytes(n));
const days = (d: number | null) => (d === null ? '-' : d === 0 ? 'now' : `${d.toFixed(1)} d`);
const rate = (n: number | null) =>
  n === null ? '-' : `${n < 0 ? '-' : '+'}${formatBytes(Math.round(Math.abs(n)))}/day`;

export function survivesText(e: FleetEntry): string {
  if (e.survivesUncleanRestart === null) return 'unknown';
  const yes = e.survivesUncleanRestart ? 'yes' : 'NO';
  return `${yes}, needs ${bytesOr(e.needsBytes)}, has ${bytesOr(e.hasBytes)}`;
}

function rowClass(e: FleetEntry): string {
  if (e.survivesUncleanRestart === false || e.state === 'flood') return 'flood';
  if (e.stale || e.state === 'high') return 'high';
  return e.state === 'unknown' ? 'ok' : e.state;
}

function brokerChart(
  brokerId: number,
  entries: FleetEntry[],
  report: FleetReport,
  wm: Watermarks,
): string {
  const palette = [C.usage, C.forecast, C.growth, C.log, C.indexes, C.reserves];
  // Agents: every record in the topic; estimates: the one value known now.
  const series = entries.map((e, i) => ({
    points:
      e.source === 'agent'
        ? (report.series[fleetKey(e.brokerId, e.logDir)] ?? []).map(
            ([t, , p]) => [t, p] as [number, number],
          )
        : e.usedPercent === null
          ? []
          : [[report.generatedAt, e.usedPercent] as [number, number]],
    color: palette[i % palette.length] as string,
    dots: true,
    label: e.logDir,
  }));
  const all = series.flatMap((s) => s.points.map(([t]) => t));
  const x1 = report.generatedAt;
  const x0 = Math.min(x1 - 3_600_000, ...all);
  const span = x1 - x0;
  const label = (x: number) => {
    const s = new Date(x).toISOString();
    return span > 3 * DAY_MS ? s.slice(5, 10) : s.slice(5, 16).replace('T', ' ');
  };
  const chart = lineChart({
    width: 560,
    height: 230,
    x: [x0, x1],
    y: [0, 100],
    title: `broker ${brokerId}${entries[0]?.host !== null && entries[0]?.host !== undefined ? ` (${entries[0].host})` : ''}`,
    yTicks: [0, 25, 50, 75, 100].map((y) => ({ y, label: `${y}%` })),
    xTicks: Array.from({ length: 5 }, (_, i) => x0 + (span * i) / 4).map((x) => ({
      x,
      label: label(x),
    })),
    hlines: [
      { y: wm.low, color: C.low, label: `low ${wm.low}%`, at: 0.4 },
      { y: wm.high, color: C.high, label: `high ${wm.high}%`, at: 0.7 },
      { y: wm.flood, color: C.flood, label: `flood ${wm.flood}%` },
    ],
    vlines: [{ x: x1, color: C.now, label: 'now' }],
    series,
  });
  const facts = entries.map(
    (e) =>
      `${e.logDir}: ${e.usedPercent === null ? '?' : `${e.usedPercent.toFixed(1)}%`} ${e.state}${e.stale ? ' STALE' : ''}${e.estimate ? ' (estimate)' : ''}, growth ${rate(e.growthBytesPerDay)}, flood in ${days(e.daysToFlood)}`,
  );
  return `<figure class="chart">${chart}<figcaption>${esc(facts.join(' · '))}</figcaption></figure>`;
}

export function renderFleetReportHtml(report: FleetReport, watermarks: Watermarks): string {
  const body: string[] = [
    '<h1>kafka-archive disk fleet</h1>',
    `<p class="meta">Generated ${esc(iso(report.generatedAt))} UTC · topic ${esc(report.topic)} · stale after ${Math.round(report.staleAfterMs / 1000)} s${report.malformed > 0 ? ` · ${report.malformed} unreadable record(s) skipped` : ''}</p>`,
  ];
  if (report.entries.length === 0) {
    body.push(
      '<p>No broker reports yet: run <code>kafka-archive disk agent</code> on each broker host.</p>',
    );
  }
  body.push('<h2>Unclean-restart headroom</h2>');
  for (const e of report.entries) {
    const cls =
      e.survivesUncleanRestart === null ? 'warn' : e.survivesUncleanRestart ? 'ok' : 'bad';
    body.push(
      `<div class="verdict ${cls}"><b>broker ${e.brokerId}</b> ${esc(e.logDir)}: survives an unclean restart today: ${esc(survivesText(e))}${e.estimate ? ' <small>(estimate from DescribeLogDirs: log sizes only)</small>' : ''}${e.stale ? ` <small>(STALE: last seen ${esc(iso(e.lastSeen))})</small>` : ''}</div>`,
    );
  }
  const rows: BarRow[] = [];
  for (const e of report.entries) {
    if (e.needsBytes === null || e.hasBytes === null) continue;
    const reserve = e.reserves?.bytes ?? 0;
    rows.push(
      {
        label: `broker ${e.brokerId} ${e.logDir} needs`,
        segments: [{ value: e.needsBytes, color: C.needUnclean, title: formatBytes(e.needsBytes) }],
        note: formatBytes(e.needsBytes),
      },
      {
        label: `broker ${e.brokerId} ${e.logDir} has`,
        segments: [
          { value: Math.max(0, e.hasBytes - reserve), color: C.available, title: 'available' },
          { value: reserve, color: C.reserves, title: 'reserves' },
        ],
        note: `${formatBytes(e.hasBytes)} (${formatBytes(reserve)} reserves)`,
      },
    );
  }
  if (rows.length > 0)
    body.push(
      barChart({ width: 1120, rows, labelWidth: 360 }),
      legend([
        { color: C.needUnclean, label: 'needed after an unclean exit' },
        { color: C.available, label: 'available' },
        { color: C.reserves, label: 'reserve blocks' },
      ]),
    );

  body.push(
    '<h2>Brokers</h2><table><thead><tr><th>broker</th><th>log.dir</th><th>source</th><th>host</th><th>used</th><th>state</th><th>size</th><th>available</th><th>growth</th><th>high in</th><th>flood in</th><th>reserves</th><th>survives unclean restart</th><th>last seen</th></tr></thead><tbody>' +
      report.entries
        .map(
          (e) =>
            `<tr class="${rowClass(e)}"><td>${e.brokerId}</td><td>${esc(e.logDir)}</td><td>${e.estimate ? 'estimate' : 'agent'}</td><td>${esc(e.host ?? '-')}</td><td>${e.usedPercent === null ? formatBytes(e.usedBytes) : `${e.usedPercent.toFixed(1)}%`}</td><td>${esc(e.state)}${e.stale ? ' STALE' : ''}</td><td>${bytesOr(e.sizeBytes)}</td><td>${bytesOr(e.availableBytes)}</td><td>${esc(rate(e.growthBytesPerDay))}</td><td>${days(e.daysToHigh)}</td><td>${days(e.daysToFlood)}</td><td>${e.reserves === null ? '-' : `${e.reserves.armed}/${e.reserves.total}`}</td><td>${esc(survivesText(e))}</td><td>${esc(iso(e.lastSeen))}</td></tr>`,
        )
        .join('') +
      '</tbody></table>',
  );

  const brokers = [...new Set(report.entries.map((e) => e.brokerId))];
  if (brokers.length > 0)
    body.push(
      '<h2>Used % per broker</h2>',
      `<div class="grid">${brokers
        .map((b) =>
          brokerChart(
            b,
            report.entries.filter((e) => e.brokerId === b),
            report,
            watermarks,
          ),
        )
        .join('')}</div>`,
    );

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kafka-archive disk fleet ${esc(iso(report.generatedAt))}</title>
<style>
${REPORT_CSS}</style></head>
<body>
${body.join('\n')}
</body></html>
`;
}

/** Write the fleet page; returns the paths written. */
export async function writeFleetReportFile(
  report: FleetReport,
  file: string,
  watermarks: Watermarks,
): Promise<string[]> {
  await writeFileAtomic(file, renderFleetReportHtml(report, watermarks));
  return [resolve(file)];
}
