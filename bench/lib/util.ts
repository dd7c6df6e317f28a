/** Small helpers shared by the benchmarks: CLI flags, formatting, tables. */

/** `--name value` / `--name=value` / `--flag` parsing; unknown flags are an error. */
export function parseFlags(
  argv: string[],
  defaults: Record<string, string | boolean>,
): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!(name in defaults)) {
      throw new Error(`unknown flag --${name}; known: ${Object.keys(defaults).join(', ')}`);
    }
    if (eq >= 0) out[name] = arg.slice(eq + 1);
    else if (typeof defaults[name] === 'boolean') out[name] = true;
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`--${name} needs a value`);
      out[name] = v;
    }
  }
  return out;
}

export function intFlag(flags: Record<string, string | boolean>, name: string): number {
  const v = Number(String(flags[name]).replace(/_/g, ''));
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}

export const MB = 1e6;
export const MiB = 2 ** 20;

export const fmt = (n: number, digits = 1): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : String(n);

/** A Markdown table (also readable as plain text). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [
    line(headers),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
