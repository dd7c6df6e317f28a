/**
 * Tiny inline-SVG chart helpers for the HTML disk report: no scripts, no external resources,
 * so the page is one self-contained file that renders anywhere (and in headless Chromium).
 */

/** The report's colours (exported so tests can look for them in a screenshot). */
export const REPORT_COLORS = {
  usage: '#2563eb',
  forecast: '#f97316',
  low: '#94a3b8',
  high: '#eab308',
  flood: '#dc2626',
  now: '#6b7280',
  growth: '#16a34a',
  log: '#0ea5e9',
  indexes: '#a855f7',
  indexesApparent: '#e9d5ff',
  needUnclean: '#e11d48',
  needFull: '#fb7185',
  available: '#15803d',
  reserves: '#84cc16',
  grid: '#e5e7eb',
  text: '#111827',
} as const;

export function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const n2 = (n: number) => (Math.round(n * 100) / 100).toString();

export interface LineSeries {
  points: Array<[number, number]>;
  color: string;
  dash?: boolean;
  width?: number;
  /** Fill the area under the line with the colour at this opacity. */
  area?: number;
  /** Draw a dot on every point. */
  dots?: boolean;
  label?: string;
}

export interface LineChartOptions {
  width: number;
  height: number;
  x: [number, number];
  y: [number, number];
  series: LineSeries[];
  /** `at`: where along the x axis the label ends (0..1, default 1), to keep close lines' labels apart. */
  hlines?: Array<{ y: number; color: string; label: string; at?: number }>;
  vlines?: Array<{ x: number; color: string; label: string }>;
  xTicks?: Array<{ x: number; label: string }>;
  yTicks?: Array<{ y: number; label: string }>;
  title?: string;
}

export function lineChart(o: LineChartOptions): string {
  const m = { l: 44, r: 12, t: o.title === undefined ? 10 : 26, b: 24 };
  const w = o.width - m.l - m.r;
  const h = o.height - m.t - m.b;
  const sx = (x: number) => m.l + ((x - o.x[0]) / (o.x[1] - o.x[0] || 1)) * w;
  const sy = (y: number) =>
    m.t + h - ((Math.min(Math.max(y, o.y[0]), o.y[1]) - o.y[0]) / (o.y[1] - o.y[0] || 1)) * h;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${o.width}" height="${o.height}" viewBox="0 0 ${o.width} ${o.height}" role="img">`,
    `<rect x="0" y="0" width="${o.width}" height="${o.height}" fill="#ffffff"/>`,
  ];
  if (o.title !== undefined)
    parts.push(
      `<text x="${m.l}" y="16" font-size="13" font-weight="600" fill="${REPORT_COLORS.text}">${esc(o.title)}</text>`,
    );
  for (const t of o.yTicks ?? []) {
    parts.push(
      `<line x1="${m.l}" x2="${m.l + w}" y1="${n2(sy(t.y))}" y2="${n2(sy(t.y))}" stroke="${REPORT_COLORS.grid}" stroke-width="1"/>`,
      `<text x="${m.l - 6}" y="${n2(sy(t.y) + 4)}" font-size="10" text-anchor="end" fill="#4b5563">${esc(t.label)}</text>`,
    );
  }
  for (const t of o.xTicks ?? []) {
    parts.push(
      `<text x="${n2(sx(t.x))}" y="${m.t + h + 16}" font-size="10" text-anchor="middle" fill="#4b5563">${esc(t.label)}</text>`,
    );
  }
  parts.push(
    `<rect x="${m.l}" y="${m.t}" width="${w}" height="${h}" fill="none" stroke="#d1d5db" stroke-width="1"/>`,
  );
  for (const l of o.hlines ?? []) {
    parts.push(
      `<line x1="${m.l}" x2="${m.l + w}" y1="${n2(sy(l.y))}" y2="${n2(sy(l.y))}" stroke="${l.color}" stroke-width="2"/>`,
      `<text x="${n2(m.l + w * (l.at ?? 1) - 4)}" y="${n2(sy(l.y) - 3)}" font-size="10" text-anchor="end" fill="${l.color}">${esc(l.label)}</text>`,
    );
  }
  for (const l of o.vlines ?? []) {
    parts.push(
      `<line x1="${n2(sx(l.x))}" x2="${n2(sx(l.x))}" y1="${m.t}" y2="${m.t + h}" stroke="${l.color}" stroke-width="1" stroke-dasharray="3 3"/>`,
      `<text x="${n2(sx(l.x) + 4)}" y="${m.t + 12}" font-size="10" fill="${l.color}">${esc(l.label)}</text>`,
    );
  }
  for (const s of o.series) {
    if (s.points.length === 0) continue;
    const d = s.points
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${n2(sx(x))} ${n2(sy(y))}`)
      .join(' ');
    if (s.area !== undefined && s.points.length > 1) {
      const first = s.points[0] as [number, number];
      const last = s.points[s.points.length - 1] as [number, number];
      parts.push(
        `<path d="${d} L${n2(sx(last[0]))} ${n2(sy(o.y[0]))} L${n2(sx(first[0]))} ${n2(sy(o.y[0]))} Z" fill="${s.color}" fill-opacity="${s.area}" stroke="none"/>`,
      );
    }
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 2.5}"${s.dash === true ? ' stroke-dasharray="7 5"' : ''} stroke-linejoin="round"/>`,
    );
    if (s.dots === true || s.points.length === 1) {
      for (const [x, y] of s.points)
        parts.push(`<circle cx="${n2(sx(x))}" cy="${n2(sy(y))}" r="4" fill="${s.color}"/>`);
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

export interface BarSegment {
  value: number;
  color: string;
  title: string;
}

export interface BarRow {
  label: string;
  segments: BarSegment[];
  /** Text at the end of the bar. */
  note: string;
}

/**
 * Horizontal (stacked) bars on a linear scale up to the largest row total. Non-zero segments
 * are at least 3 px wide so small values stay visible.
 */
export function barChart(o: {
  width: number;
  rows: BarRow[];
  rowHeight?: number;
  labelWidth?: number;
  title?: string;
}): string {
  const rowH = o.rowHeight ?? 22;
  const labelW = o.labelWidth ?? 220;
  const noteW = 190;
  const top = o.title === undefined ? 6 : 26;
  const height = top + o.rows.length * (rowH + 6) + 6;
  const w = o.width - labelW - noteW - 12;
  const max = Math.max(
    1,
    ...o.rows.map((r) => r.segments.reduce((s, g) => s + Math.max(0, g.value), 0)),
  );
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${o.width}" height="${height}" viewBox="0 0 ${o.width} ${height}" role="img">`,
    `<rect x="0" y="0" width="${o.width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (o.title !== undefined)
    parts.push(
      `<text x="4" y="16" font-size="13" font-weight="600" fill="${REPORT_COLORS.text}">${esc(o.title)}</text>`,
    );
  o.rows.forEach((r, i) => {
    const y = top + i * (rowH + 6);
    parts.push(
      `<text x="${labelW - 8}" y="${y + rowH / 2 + 4}" font-size="11" text-anchor="end" fill="${REPORT_COLORS.text}">${esc(r.label)}</text>`,
    );
    let x = labelW;
    for (const g of r.segments) {
      if (!(g.value > 0)) continue;
      const bw = Math.max(3, (g.value / max) * w);
      parts.push(
        `<rect x="${n2(x)}" y="${y}" width="${n2(bw)}" height="${rowH}" fill="${g.color}"><title>${esc(g.title)}</title></rect>`,
      );
      x += bw;
    }
    parts.push(
      `<text x="${n2(x + 6)}" y="${y + rowH / 2 + 4}" font-size="11" fill="#374151">${esc(r.note)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

export function legend(items: Array<{ color: string; label: string; dash?: boolean }>): string {
  return `<div class="legend">${items
    .map(
      (i) =>
        `<span class="item"><svg width="22" height="12" viewBox="0 0 22 12"><rect x="0" y="0" width="22" height="12" fill="${i.dash === true ? '#ffffff' : i.color}"/>${i.dash === true ? `<line x1="0" x2="22" y1="6" y2="6" stroke="${i.color}" stroke-width="3" stroke-dasharray="6 3"/>` : ''}</svg>${esc(i.label)}</span>`,
    )
    .join('')}</div>`;
}
