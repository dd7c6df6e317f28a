import { formatBytes } from '../../config/units.js';
import { forecastDays, formatDays, type DiskReport, type VolumeReport } from './collect.js';
import { barChart, esc, legend, lineChart, REPORT_COLORS as C, type BarRow } from './svg.js';

/**
 * The disk report as one self-contained HTML page: inline CSS and inline SVG charts, no
 * scripts and no external resources (it is written by the service and opened from disk).
 */

const DAY_MS = 86_400_000;
const pct = (n: number) => `${n.toFixed(1)}%`;
const rate = (n: number | null) =>
  n === null ? '-' : `${n < 0 ? '-' : '+'}${formatBytes(Math.round(Math.abs(n)))}/day`;

function timeLabel(t: number, spanMs: number): string {
  const iso = new Date(t).toISOString();
  return spanMs > 3 * DAY_MS ? iso.slice(5, 10) : iso.slice(5, 16).replace('T', ' ');
}

function volumeChart(v: VolumeReport, report: DiskReport): string {
  const now = Date.parse(report.generatedAt);
  const f = v.forecast;
  const wm = v.sample.watermarks;
  const x0 = now - report.windowMs;
  const horizonDays = f.projection[f.projection.length - 1]?.[0] ?? 1;
  const x1 = now + horizonDays * DAY_MS;
  const ticks = Array.from({ length: 5 }, (_, i) => x0 + ((x1 - x0) * i) / 4).map((x) => ({
    x,
    label: timeLabel(x, x1 - x0),
  }));
  const chart = lineChart({
    width: 560,
    height: 230,
    x: [x0, x1],
    y: [0, 100],
    title: `${v.sample.name} — ${v.sample.path}`,
    yTicks: [0, 25, 50, 75, 100].map((y) => ({ y, label: `${y}%` })),
    xTicks: ticks,
    hlines: [
      { y: wm.low, color: C.low, label: `low ${wm.low}%`, at: 0.4 },
      { y: wm.high, color: C.high, label: `high ${wm.high}%`, at: 0.7 },
      { y: wm.flood, color: C.flood, label: `flood ${wm.flood}%` },
    ],
    vlines: [{ x: now, color: C.now, label: 'now' }],
    series: [
      {
        points: f.series.map((p) => [p.t, p.usedPercent]),
        color: C.usage,
        area: 0.15,
        dots: f.series.length <= 30,
        label: 'used',
      },
      {
        points: f.projection.map(([d, p]) => [now + d * DAY_MS, p]),
        color: C.forecast,
        dash: true,
        label: 'forecast',
      },
    ],
  });
  const facts = [
    `used ${pct(v.sample.usedPercent)} (${v.sample.state})`,
    `growth ${rate(f.allocatedBytesPerDay)} (filesystem ${rate(f.fsUsedBytesPerDay)})`,
    `high in ${forecastDays(f, f.daysToHigh)}, flood in ${forecastDays(f, f.daysToFlood)}`,
    `${f.series.length} sample${f.series.length === 1 ? '' : 's'}`,
  ];
  return `<figure class="chart">${chart}<figcaption>${esc(facts.join(' · '))}</figcaption></figure>`;
}

function verdictClass(v: string): string {
  return v === 'yes' ? 'ok' : v === 'only-with-reserves' ? 'warn' : 'bad';
}

/** The pages' style sheet (the disk report and the fleet page). */
export const REPORT_CSS = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:16px 24px;color:#111827;background:#ffffff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:18px 0 6px}
.meta{color:#4b5563;font-size:12px;margin:0 0 8px}
.verdict{padding:8px 12px;margin:6px 0;border-radius:6px;font-size:14px}
.verdict.ok{background:#dcfce7;border-left:6px solid #15803d}.verdict.warn{background:#fef9c3;border-left:6px solid #ca8a04}.verdict.bad{background:#fee2e2;border-left:6px solid #b91c1c}
table{border-collapse:collapse;font-size:12px}th,td{padding:3px 8px;border-bottom:1px solid #e5e7eb;text-align:right}th:nth-child(-n+4),td:nth-child(-n+4){text-align:left}
tr.high td{background:#fef9c3}tr.flood td{background:#fee2e2}
.grid{display:flex;flex-wrap:wrap;gap:8px}.chart{margin:0}figcaption{font-size:11px;color:#374151;max-width:560px}
.legend{font-size:12px;margin:4px 0}.legend .item{display:inline-flex;align-items:center;gap:4px;margin-right:14px}
`;

export function renderDiskReportHtml(report: DiskReport): string {
  const kafka = report.volumes.filter((v) => v.sample.kind === 'kafka-log-dir');
  const body: string[] = [];
  body.push(
    `<h1>kafka-archive disk report</h1>`,
    `<p class="meta">Generated ${esc(report.generatedAt)} · history: ${report.history.samplesInWindow} sample(s) in the last ${esc(formatDays(report.windowMs / DAY_MS))}${report.history.since === null ? '' : `, kept since ${esc(report.history.since)}`} · ${esc(report.history.file)}</p>`,
  );

  // Verdicts first: the question the page answers.
  body.push('<h2>Unclean-restart headroom</h2>');
  if (kafka.length === 0) {
    body.push(
      '<p>No Kafka log.dir is configured (disk.kafka.serverProperties / disk.kafka.logDirs): no headroom estimate.</p>',
    );
  } else {
    for (const v of kafka) {
      const h = v.headroom;
      if (h === null) {
        body.push(
          `<div class="verdict bad"><b>${esc(v.sample.name)}</b> ${esc(v.sample.path)}: no estimate (${esc(v.headroomError ?? 'not scanned')})</div>`,
        );
        continue;
      }
      body.push(
        `<div class="verdict ${verdictClass(h.unclean.verdict.verdict)}"><b>${esc(v.sample.name)}</b> ${esc(h.logDir)}: ${esc(h.unclean.summary)}` +
          `<br><small>recovers ${h.unclean.segmentsRecovered} segment(s) in ${h.unclean.partitionsRecovered} of ${h.unclean.partitions} partition(s); worst case — ${esc(h.fullRebuild.summary)}</small></div>`,
      );
    }
    const rows: BarRow[] = [];
    for (const v of kafka) {
      const h = v.headroom;
      if (h === null) continue;
      rows.push(
        {
          label: `${v.sample.name} needs (unclean restart)`,
          segments: [
            {
              value: h.unclean.neededBytes,
              color: C.needUnclean,
              title: `needs ${formatBytes(h.unclean.neededBytes)}`,
            },
          ],
          note: formatBytes(h.unclean.neededBytes),
        },
        {
          label: `${v.sample.name} needs (full rebuild)`,
          segments: [
            {
              value: h.fullRebuild.neededBytes,
              color: C.needFull,
              title: `needs ${formatBytes(h.fullRebuild.neededBytes)}`,
            },
          ],
          note: formatBytes(h.fullRebuild.neededBytes),
        },
        {
          label: `${v.sample.name} has`,
          segments: [
            {
              value: h.unclean.verdict.availableBytes,
              color: C.available,
              title: `available ${formatBytes(h.unclean.verdict.availableBytes)}`,
            },
            {
              value: h.unclean.verdict.reserveBytes,
              color: C.reserves,
              title: `reserves ${formatBytes(h.unclean.verdict.reserveBytes)}`,
            },
          ],
          note: `${formatBytes(h.unclean.verdict.availableBytes)} + ${formatBytes(h.unclean.verdict.reserveBytes)} reserves`,
        },
      );
    }
    if (rows.length > 0) {
      body.push(
        barChart({ width: 1120, rows, labelWidth: 260 }),
        legend([
          { color: C.needUnclean, label: 'needed after an unclean exit' },
          { color: C.needFull, label: 'needed if every index is rebuilt' },
          { color: C.available, label: 'available' },
          { color: C.reserves, label: 'reserve blocks' },
        ]),
      );
    }
  }

  body.push('<h2>Volumes</h2>');
  body.push(
    '<table><thead><tr><th>volume</th><th>kind</th><th>path</th><th>fs</th><th>used</th><th>state</th><th>allocated</th><th>available</th><th>growth</th><th>high in</th><th>flood in</th><th>reserves</th></tr></thead><tbody>' +
      report.volumes
        .map((v) => {
          const s = v.sample;
          return `<tr class="${s.state}"><td>${esc(s.name)}</td><td>${esc(s.kind)}</td><td>${esc(s.path)}</td><td>${esc(s.filesystem.type)}</td><td>${pct(s.usedPercent)}</td><td>${esc(s.state)}</td><td>${formatBytes(s.usage.allocatedBytes)}</td><td>${formatBytes(s.filesystem.availableBytes)}</td><td>${esc(rate(v.forecast.allocatedBytesPerDay))}</td><td>${esc(forecastDays(v.forecast, v.forecast.daysToHigh))}</td><td>${esc(forecastDays(v.forecast, v.forecast.daysToFlood))}</td><td>${s.reserve.count === 0 ? 'off' : `${s.reserve.armed}/${s.reserve.count}`}</td></tr>`;
        })
        .join('') +
      '</tbody></table>',
  );
  body.push(
    '<h2>Usage history and forecast</h2>',
    legend([
      { color: C.usage, label: 'used % (history)' },
      { color: C.forecast, label: 'forecast at the current rate', dash: true },
      { color: C.high, label: 'high watermark' },
      { color: C.flood, label: 'flood watermark' },
    ]),
    `<div class="grid">${report.volumes.map((v) => volumeChart(v, report)).join('')}</div>`,
  );

  body.push('<h2>Top partitions by growth</h2>');
  const growing = report.topPartitions.filter((p) => p.bytesPerDay > 0);
  if (growing.length === 0) {
    body.push(
      `<p>${report.topPartitions.length === 0 ? 'Growth needs two samples in the window: run the report again later (the service samples on disk.reportSchedule).' : 'No partition grew in the window.'}</p>`,
    );
  } else {
    body.push(
      barChart({
        width: 1120,
        labelWidth: 300,
        rows: growing.map((p) => ({
          label: `${p.topic}-${p.partition}`,
          segments: [
            {
              value: p.bytesPerDay,
              color: C.growth,
              title: `${p.logDir}: ${rate(p.bytesPerDay)}`,
            },
          ],
          note: `${rate(p.bytesPerDay)} (${formatBytes(p.allocatedBytes)} now)`,
        })),
      }),
    );
  }

  if (report.indexVsLog.length > 0) {
    body.push('<h2>Index vs log bytes</h2>');
    const rows: BarRow[] = [];
    for (const x of report.indexVsLog) {
      rows.push({
        label: `${x.volume} (${x.partitions} partitions)`,
        segments: [
          {
            value: x.log.allocatedBytes,
            color: C.log,
            title: `.log ${formatBytes(x.log.allocatedBytes)}`,
          },
          {
            value: x.indexes.allocatedBytes,
            color: C.indexes,
            title: `indexes ${formatBytes(x.indexes.allocatedBytes)} allocated`,
          },
        ],
        note: `.log ${formatBytes(x.log.allocatedBytes)}, indexes ${formatBytes(x.indexes.allocatedBytes)}`,
      });
      for (const p of x.topPartitions) {
        rows.push({
          label: `${p.topic}-${p.partition}`,
          segments: [
            { value: p.logBytes, color: C.log, title: `.log ${formatBytes(p.logBytes)}` },
            {
              value: p.indexAllocatedBytes,
              color: C.indexes,
              title: `indexes ${formatBytes(p.indexAllocatedBytes)} allocated, ${formatBytes(p.indexApparentBytes)} apparent`,
            },
          ],
          note: `indexes ${formatBytes(p.indexAllocatedBytes)} alloc / ${formatBytes(p.indexApparentBytes)} apparent`,
        });
      }
    }
    body.push(
      legend([
        { color: C.log, label: '.log bytes' },
        { color: C.indexes, label: '.index + .timeindex allocated' },
      ]),
      barChart({ width: 1120, labelWidth: 300, rowHeight: 16, rows }),
    );
  }

  const assumptions = kafka.flatMap((v) => (v.headroom === null ? [] : v.headroom.assumptions));
  if (assumptions.length > 0) {
    body.push(
      '<h2>Model assumptions</h2><ul>' +
        [...new Set(assumptions)].map((a) => `<li>${esc(a)}</li>`).join('') +
        '</ul>',
    );
  }

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kafka-archive disk report ${esc(report.generatedAt)}</title>
<style>
${REPORT_CSS}</style></head>
<body>
${body.join('\n')}
</body></html>
`;
}
