import { parseBytes } from '../config/index.js';
import { ArchiveError, ErrorCodes } from '../errors.js';
import { parseBigIntArg, parseTimeArg } from '../util/args.js';
import { isoTime } from '../util/json.js';
import { assertJobName } from './spec.js';
import type { OffsetBound, RestoreRequest, RunOptions } from './types.js';

/**
 * The options of a restore as text, the way `kafka-archive restore` takes them and the HTTP API
 * (POST /api/restores, after its body is turned into these forms) passes them on: one parser for
 * both surfaces, so both accept and refuse the same values with the same messages. Each message
 * names the option as its surface spells it (`label`: `--start-offset` or `startOffset`).
 */
export interface RestoreInput {
  topic: string;
  generation?: string;
  partitions?: string;
  from?: string;
  to?: string;
  startOffset?: string;
  endOffset?: string;
  targetTopic?: string;
  topicMap?: string;
  targetBrokers?: string;
  replicationFactor?: string;
  repartition?: string;
  append?: boolean;
  offsetHeader?: boolean;
  allowGaps?: boolean;
  job?: string;
  dryRun?: boolean;
  verify?: boolean;
  rate?: string;
  rateRecords?: string;
  concurrency?: string;
  compression?: string;
  batchBytes?: string;
  batchRecords?: string;
}

export type OptionName = Exclude<keyof RestoreInput, 'topic'>;
/** How a surface spells an option in its messages. */
export type OptionLabel = (name: OptionName) => string;

/** The CLI's spelling: `--start-offset`. */
export const cliLabel: OptionLabel = (n) =>
  `--${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const usage = (message: string) => new ArchiveError(ErrorCodes.USAGE, message);

export const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export const REPARTITION_MODES = ['by-key', 'round-robin'] as const;

/** `0,1,5` or `0-3,7`. */
export function parsePartitions(value: string, option = '--partitions'): number[] {
  const out = new Set<number>();
  for (const part of value.split(',').map((s) => s.trim())) {
    const m = /^(\d{1,10})(?:-(\d{1,10}))?$/.exec(part);
    const a = Number(m?.[1]);
    const b = m?.[2] === undefined ? a : Number(m[2]);
    if (m === null || a > 2 ** 31 - 1 || b > 2 ** 31 - 1 || Math.abs(b - a) > 100_000)
      throw usage(
        `${option}: got ${JSON.stringify(value)}: expected partition numbers such as 0,1,5 or 0-3`,
      );
    for (let p = Math.min(a, b); p <= Math.max(a, b); p++) out.add(p);
  }
  return [...out].sort((x, y) => x - y);
}

/** `1200` (every partition) and/or `P:O` pairs: `0:100,3:250`. */
export function parseOffsetBound(option: string, value: string): OffsetBound {
  const b: OffsetBound = { all: null, byPartition: new Map() };
  for (const part of value.split(',').map((s) => s.trim())) {
    const m = /^(?:(\d{1,10}):)?(\d{1,19})$/.exec(part);
    if (m === null || BigInt(m[2] as string) > 2n ** 63n - 1n)
      throw usage(
        `${option}: got ${JSON.stringify(value)}: expected an offset for every partition (1200) or partition:offset pairs (0:100,3:250)`,
      );
    if (m[1] === undefined) b.all = BigInt(m[2] as string);
    else b.byPartition.set(Number(m[1]), BigInt(m[2] as string));
  }
  return b;
}

export function parseTopicMap(value: string, option = '--topic-map'): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const [a, b, ...rest] = part.split('=');
    if (a === undefined || b === undefined || a === '' || b === '' || rest.length > 0)
      throw usage(
        `${option}: got ${JSON.stringify(part)}: expected source=target pairs, e.g. orders=orders.replay,payments=payments.replay`,
      );
    m.set(a, b);
  }
  return m;
}

export function parseBrokers(value: string, option = '--target-brokers'): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0 || list.some((b) => !/^[^\s:]+:\d{1,5}$/.test(b)))
    throw usage(`${option}: got ${JSON.stringify(value)}: expected host:port[,host:port...]`);
  return list;
}

function parseRate(option: string, value: string): number {
  const n = parseBytes(value.replace(/\/s$/i, ''));
  if (n === undefined || n < 0 || !Number.isFinite(n))
    throw usage(
      `${option}: got ${JSON.stringify(value)}: expected a rate per second such as 10MiB, 500000 or 0 (unlimited)`,
    );
  return n;
}

function positiveInt(option: string, value: string): number {
  const n = parseBigIntArg(option, value, 1n);
  if (n > BigInt(Number.MAX_SAFE_INTEGER))
    throw usage(`${option}: got ${JSON.stringify(value)}: too large`);
  return Number(n);
}

/**
 * What to restore: the job's identity (without the target brokers, which the service adds).
 * Offsets and times may be combined: offsets bound the range, times filter inside it.
 */
export function parseRestoreRequest(
  o: RestoreInput,
  label: OptionLabel = cliLabel,
): Omit<RestoreRequest, 'targetBrokers'> {
  if (o.targetTopic !== undefined && o.topicMap !== undefined)
    throw usage(`give ${label('targetTopic')} or ${label('topicMap')}, not both`);
  if (
    o.repartition !== undefined &&
    !(REPARTITION_MODES as readonly string[]).includes(o.repartition)
  )
    throw usage(
      `${label('repartition')}: got ${JSON.stringify(o.repartition)}: expected by-key or round-robin`,
    );
  const fromTime = o.from !== undefined ? parseTimeArg(label('from'), o.from) : null;
  const toTime = o.to !== undefined ? parseTimeArg(label('to'), o.to) : null;
  if (fromTime !== null && toTime !== null && toTime <= fromTime)
    throw usage(
      `${label('to')} must be later than ${label('from')} (the range is [from, to)): got ${isoTime(fromTime)} .. ${isoTime(toTime)}`,
    );
  if (o.job !== undefined) assertJobName(o.job, label('job'));
  return {
    topic: o.topic,
    ...(o.generation !== undefined
      ? { generation: positiveInt(label('generation'), o.generation) }
      : {}),
    partitions:
      o.partitions !== undefined ? parsePartitions(o.partitions, label('partitions')) : null,
    fromTime,
    toTime,
    startOffset:
      o.startOffset !== undefined ? parseOffsetBound(label('startOffset'), o.startOffset) : null,
    endOffset: o.endOffset !== undefined ? parseOffsetBound(label('endOffset'), o.endOffset) : null,
    targetTopic: o.targetTopic ?? null,
    topicMap:
      o.topicMap !== undefined
        ? parseTopicMap(o.topicMap, label('topicMap'))
        : new Map<string, string>(),
    repartition: (o.repartition ?? null) as RestoreRequest['repartition'],
    offsetHeader: o.offsetHeader === true,
    jobName: o.job ?? null,
  };
}

/** How to run it: the configuration's defaults (RestoreService.defaults) with the options over them. */
export function parseRunOptions(
  o: Omit<RestoreInput, 'topic'>,
  d: RunOptions,
  label: OptionLabel = cliLabel,
): RunOptions {
  if (o.compression !== undefined && !(COMPRESSIONS as readonly string[]).includes(o.compression))
    throw usage(
      `${label('compression')}: got ${JSON.stringify(o.compression)}: expected one of ${COMPRESSIONS.join(', ')}`,
    );
  return {
    ...d,
    append: o.append === true,
    allowGaps: o.allowGaps === true,
    dryRun: o.dryRun === true,
    replicationFactor:
      o.replicationFactor !== undefined
        ? positiveInt(label('replicationFactor'), o.replicationFactor)
        : null,
    bytesPerSecond: o.rate !== undefined ? parseRate(label('rate'), o.rate) : 0,
    recordsPerSecond:
      o.rateRecords !== undefined ? parseRate(label('rateRecords'), o.rateRecords) : 0,
    concurrency:
      o.concurrency !== undefined
        ? positiveInt(label('concurrency'), o.concurrency)
        : d.concurrency,
    compression: (o.compression as RunOptions['compression'] | undefined) ?? d.compression,
    batchBytes:
      o.batchBytes !== undefined
        ? parseRate(label('batchBytes'), o.batchBytes) || d.batchBytes
        : d.batchBytes,
    batchRecords:
      o.batchRecords !== undefined
        ? positiveInt(label('batchRecords'), o.batchRecords)
        : d.batchRecords,
  };
}

/** `targetBrokers`, parsed, or undefined for the configured target. */
export function parseTargetBrokers(
  o: Omit<RestoreInput, 'topic'>,
  label: OptionLabel = cliLabel,
): string[] | undefined {
  return o.targetBrokers !== undefined
    ? parseBrokers(o.targetBrokers, label('targetBrokers'))
    : undefined;
}
