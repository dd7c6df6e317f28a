/**
 * Parsers for human-friendly quantities in config files and environment variables:
 * byte sizes ("128MiB", "1GB", 4096) and durations ("30s", "10m", "1h", 1500 = ms).
 * They return undefined for anything they cannot read, so the schema reports the value.
 */
const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
};

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

function parseQuantity(input: unknown, units: Record<string, number>): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  if (typeof input !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  if (unit === '') return n;
  const mult = units[unit];
  return mult === undefined ? undefined : Math.round(n * mult);
}

export function parseBytes(input: unknown): number | undefined {
  return parseQuantity(input, BYTE_UNITS);
}

export function parseDurationMs(input: unknown): number | undefined {
  return parseQuantity(input, DURATION_UNITS);
}

export function formatBytes(n: number): string {
  const abs = Math.abs(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = abs;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const s = i === 0 ? String(v) : v.toFixed(v >= 100 ? 0 : 1);
  return `${n < 0 ? '-' : ''}${s} ${units[i]}`;
}
