import { createHash } from 'node:crypto';
import { parseStream } from '../archive/index.js';
import { ArchiveError, ErrorCodes } from '../errors.js';
import type { OffsetBound, RestoreRequest } from './types.js';

/**
 * A job's identity: the request in a canonical JSON form (sorted lists and maps, bigints as
 * decimal strings). The same command gives the same id, so running it again resumes the job.
 */
export interface CanonicalSpec {
  version: 1;
  topic: string;
  /** Present only when given, so the ids of jobs from before generations stay the same. */
  generation?: number;
  partitions: number[] | null;
  fromTime: string | null;
  toTime: string | null;
  startOffset: CanonicalBound | null;
  endOffset: CanonicalBound | null;
  targetTopic: string | null;
  topicMap: Array<[string, string]>;
  repartition: string | null;
  offsetHeader: boolean;
  targetBrokers: string[];
}

interface CanonicalBound {
  all: string | null;
  byPartition: Array<[number, string]>;
}

const bound = (b: OffsetBound | null): CanonicalBound | null =>
  b === null
    ? null
    : {
        all: b.all?.toString() ?? null,
        byPartition: [...b.byPartition]
          .sort((x, y) => x[0] - y[0])
          .map(([p, o]) => [p, o.toString()] as [number, string]),
      };

export function canonicalSpec(r: RestoreRequest): CanonicalSpec {
  return {
    version: 1,
    topic: r.topic,
    ...(r.generation !== undefined ? { generation: r.generation } : {}),
    partitions: r.partitions === null ? null : [...new Set(r.partitions)].sort((a, b) => a - b),
    fromTime: r.fromTime?.toString() ?? null,
    toTime: r.toTime?.toString() ?? null,
    startOffset: bound(r.startOffset),
    endOffset: bound(r.endOffset),
    targetTopic: r.targetTopic,
    topicMap: [...r.topicMap].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    repartition: r.repartition,
    offsetHeader: r.offsetHeader,
    targetBrokers: [...new Set(r.targetBrokers)].sort(),
  };
}

const unbound = (b: CanonicalBound | null): OffsetBound | null =>
  b === null
    ? null
    : {
        all: b.all === null ? null : BigInt(b.all),
        byPartition: new Map(b.byPartition.map(([p, o]) => [p, BigInt(o)])),
      };

export function requestFromSpec(s: CanonicalSpec, jobName: string | null): RestoreRequest {
  return {
    topic: s.topic,
    ...(s.generation !== undefined ? { generation: s.generation } : {}),
    partitions: s.partitions,
    fromTime: s.fromTime === null ? null : BigInt(s.fromTime),
    toTime: s.toTime === null ? null : BigInt(s.toTime),
    startOffset: unbound(s.startOffset),
    endOffset: unbound(s.endOffset),
    targetTopic: s.targetTopic,
    topicMap: new Map(s.topicMap),
    repartition: s.repartition as RestoreRequest['repartition'],
    offsetHeader: s.offsetHeader,
    targetBrokers: s.targetBrokers,
    jobName,
  };
}

const JOB_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/;

export function assertJobName(name: string, option = '--job'): void {
  if (!JOB_NAME.test(name)) {
    throw new ArchiveError(
      ErrorCodes.USAGE,
      `${option}: got ${JSON.stringify(name)}: expected 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
}

/** `--job NAME`, else `<topic>-<10 hex digits of the spec's SHA-256>`. */
export function jobId(r: RestoreRequest): string {
  if (r.jobName !== null) {
    assertJobName(r.jobName);
    return r.jobName;
  }
  const hash = createHash('sha256')
    .update(JSON.stringify(canonicalSpec(r)))
    .digest('hex')
    .slice(0, 10);
  const prefix = r.topic.replace(/[^a-zA-Z0-9._-]+/g, '_').slice(0, 60) || 'topics';
  return `${prefix}-${hash}`;
}

export function sameSpec(a: CanonicalSpec, b: CanonicalSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The target topic of a source topic: the topic map, `--target-topic`, or `<topic>.restored`. */
export function targetTopicOf(r: RestoreRequest, source: string): string {
  const topic = parseStream(source)?.topic ?? source; // a generation's stream: its topic
  return r.topicMap.get(topic) ?? r.targetTopic ?? `${topic}.restored`;
}

/** The bound for a partition: its own offset, else the all-partitions one. */
export function boundFor(b: OffsetBound | null, partition: number): bigint | null {
  if (b === null) return null;
  return b.byPartition.get(partition) ?? b.all;
}
