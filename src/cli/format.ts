/** Plain-text table for terminal output (the --json form is the machine interface). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function isoTime(ms: bigint): string {
  const n = Number(ms);
  return Number.isFinite(n) && Math.abs(n) < 8.64e15 ? new Date(n).toISOString() : ms.toString();
}

/** JSON with bigint values written as strings (offsets can exceed 2^53). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}
