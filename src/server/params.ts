import type { ReadRequest } from '../catalog/index.js';
import { parseDurationMs } from '../config/index.js';
import { ArchiveError, ErrorCodes } from '../errors.js';

/**
 * Query-string parsing for the read API: pure functions, every mistake a user-facing USAGE error
 * that names the parameter, the value and what is allowed (the server answers it with 400).
 */

/** Most records one /api/read request returns; page with offset = last offset + 1. */
export const MAX_READ_COUNT = 10_000;

/** Longest accepted parameter value (topic names are at most 249 characters). */
const MAX_VALUE_LENGTH = 1024;

const INT64_MAX = 2n ** 63n - 1n;
const INT32_MAX = 2 ** 31 - 1;

function usage(message: string): ArchiveError {
  return new ArchiveError(ErrorCodes.USAGE, message);
}

const show = (v: string) => JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v);

/**
 * The parameters of a request, one value each. Unknown names (a typo such as `parition`),
 * repeated names and over-long values are errors rather than silently ignored.
 */
export function parseQuery(
  search: URLSearchParams,
  allowed: readonly string[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of search) {
    if (!allowed.includes(name)) {
      throw usage(`unknown parameter ${show(name)}; allowed here: ${allowed.join(', ')}`);
    }
    if (out.has(name)) throw usage(`${name}: given more than once`);
    if (value.length > MAX_VALUE_LENGTH) {
      throw usage(`${name}: longer than ${MAX_VALUE_LENGTH} characters`);
    }
    out.set(name, value);
  }
  return out;
}

export function requireParam(q: Map<string, string>, name: string, what: string): string {
  const v = q.get(name);
  if (v === undefined || v === '') throw usage(`${name}: missing; expected ${what}`);
  return v;
}

/** `true` or `false`. */
export function parseBoolean(name: string, value: string): boolean {
  if (value !== 'true' && value !== 'false') {
    throw usage(`${name}: got ${show(value)}: expected true or false`);
  }
  return value === 'true';
}

/** A whole number in [min, max], as a bigint. */
export function parseWholeNumber(
  name: string,
  value: string,
  min: bigint,
  max: bigint,
  what = 'a whole number',
): bigint {
  if (!/^\d{1,20}$/.test(value) || BigInt(value) < min || BigInt(value) > max) {
    throw usage(`${name}: got ${show(value)}: expected ${what} from ${min} to ${max}`);
  }
  return BigInt(value);
}

export function parsePartition(value: string): number {
  return Number(parseWholeNumber('partition', value, 0n, BigInt(INT32_MAX), 'a partition number'));
}

export function parseOffset(value: string): bigint {
  return parseWholeNumber('offset', value, 0n, INT64_MAX, 'an offset');
}

export function parseCount(value: string, max = MAX_READ_COUNT): number {
  return Number(
    parseWholeNumber('count', value, 1n, BigInt(max), 'a record count (page for more)'),
  );
}

/**
 * A time: milliseconds since the epoch, or an ISO-8601 date-time (the same forms as the CLI).
 * A `+` in a query string decodes to a space, so "...T03:00:00 01:00" is read as "+01:00".
 */
export function parseTime(name: string, raw: string): bigint {
  if (/^-?\d{1,19}$/.test(raw)) {
    const n = BigInt(raw);
    if (n <= INT64_MAX && n >= -INT64_MAX - 1n) return n;
  }
  const value = raw.replace(/(T[\d:.]+) (\d{2}(?::?\d{2})?)$/, '$1+$2');
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw usage(
      `${name}: got ${show(raw)}: expected an ISO-8601 time (e.g. 2026-11-01T03:00:00Z) or milliseconds since the epoch`,
    );
  }
  return BigInt(ms);
}

/** `generation`: a positive number, or `all` where allowed. */
function parseGeneration(raw: string, allowAll: boolean): number | 'all' {
  if (allowAll && raw === 'all') return 'all';
  if (!/^[1-9]\d{0,8}$/.test(raw)) {
    throw usage(
      `generation: got ${show(raw)}: expected a generation number (1, 2, ...)${allowAll ? ' or all' : ''}`,
    );
  }
  return Number(raw);
}

export function parseOffsetsQuery(search: URLSearchParams): {
  topic: string;
  generation?: number | 'all';
} {
  const q = parseQuery(search, ['topic', 'generation']);
  const topic = requireParam(q, 'topic', 'a topic name or regular expression');
  const g = q.get('generation');
  return g === undefined ? { topic } : { topic, generation: parseGeneration(g, true) };
}

export function parseLookupQuery(search: URLSearchParams): {
  topic: string;
  time: bigint;
  generation?: number;
} {
  const q = parseQuery(search, ['topic', 'time', 'generation']);
  const topic = requireParam(q, 'topic', 'an archived topic name');
  const time = parseTime(
    'time',
    requireParam(q, 'time', 'an ISO-8601 time or milliseconds since the epoch'),
  );
  const g = q.get('generation');
  return g === undefined
    ? { topic, time }
    : { topic, time, generation: parseGeneration(g, false) as number };
}

/**
 * /api/read: `topic`, `partition`, and `offset` and/or `from` (time), optionally `to` (time,
 * exclusive) and `count` (1..MAX_READ_COUNT, default MAX_READ_COUNT). The count is always set:
 * a response never holds more than MAX_READ_COUNT records.
 */
export function parseReadQuery(
  search: URLSearchParams,
  maxCount = MAX_READ_COUNT,
): ReadRequest & { count: number } {
  const q = parseQuery(search, [
    'topic',
    'partition',
    'offset',
    'count',
    'from',
    'to',
    'generation',
  ]);
  const topic = requireParam(q, 'topic', 'an archived topic name');
  const partition = parsePartition(requireParam(q, 'partition', 'a partition number'));
  const offset = q.get('offset');
  const from = q.get('from');
  const to = q.get('to');
  const count = q.get('count');
  if (offset === undefined && from === undefined) {
    throw usage('give offset or from (or both); to and count are optional');
  }
  const req: ReadRequest & { count: number } = {
    topic,
    partition,
    count: count === undefined ? maxCount : parseCount(count, maxCount),
  };
  const generation = q.get('generation');
  if (generation !== undefined) req.generation = parseGeneration(generation, false) as number;
  if (offset !== undefined) req.fromOffset = parseOffset(offset);
  if (from !== undefined) req.fromTime = parseTime('from', from);
  if (to !== undefined) req.toTime = parseTime('to', to);
  if (req.fromTime !== undefined && req.toTime !== undefined && req.toTime <= req.fromTime) {
    throw usage(`to: got ${show(to ?? '')}: expected a time after from (to is exclusive)`);
  }
  return req;
}

/** POST /api/tier: `topic` (name or whole-name pattern) and `olderThan` (a duration, 0 = all). */
export function parseTierQuery(search: URLSearchParams): { topic?: string; olderThanMs?: number } {
  const q = parseQuery(search, ['topic', 'olderThan']);
  const out: { topic?: string; olderThanMs?: number } = {};
  const topic = q.get('topic');
  if (topic !== undefined) {
    if (topic === '') throw usage('topic: empty; expected a topic name or pattern');
    out.topic = topic;
  }
  const older = q.get('olderThan');
  if (older !== undefined) {
    const ms = older === '0' ? 0 : parseDurationMs(older);
    if (ms === undefined || !Number.isSafeInteger(ms)) {
      throw usage(`olderThan: got ${show(older)}: expected a duration such as 0, 30m, 24h or 7d`);
    }
    out.olderThanMs = ms;
  }
  return out;
}
