import { ArchiveError, ErrorCodes } from '../errors.js';

/** A time given on the command line: milliseconds since the epoch, or an ISO-8601 date-time. */
export function parseTimeArg(option: string, value: string): bigint {
  if (/^-?\d+$/.test(value)) return BigInt(value);
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw new ArchiveError(
      ErrorCodes.USAGE,
      `${option}: got ${JSON.stringify(value)}: expected an ISO-8601 time (e.g. 2026-11-01T03:00:00Z) or milliseconds since the epoch`,
    );
  }
  return BigInt(ms);
}

export function parseBigIntArg(option: string, value: string, min = 0n): bigint {
  if (!/^\d+$/.test(value) || BigInt(value) < min) {
    throw new ArchiveError(
      ErrorCodes.USAGE,
      `${option}: got ${JSON.stringify(value)}: expected a whole number >= ${min}`,
    );
  }
  return BigInt(value);
}

/** `--generation N` (a topic's generation, 1 or more), or `all` where `allowAll`. */
export function parseGenerationArg(value: string, allowAll: true): number | 'all';
export function parseGenerationArg(value: string, allowAll?: false): number;
export function parseGenerationArg(value: string, allowAll = false): number | 'all' {
  if (allowAll && value === 'all') return 'all';
  if (!/^[1-9]\d{0,8}$/.test(value)) {
    throw new ArchiveError(
      ErrorCodes.USAGE,
      `--generation: got ${JSON.stringify(value)}: expected a generation number (1, 2, ...)${allowAll ? ' or "all"' : ''}`,
    );
  }
  return Number(value);
}
