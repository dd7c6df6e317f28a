import { ArchiveError, ErrorCodes } from '../errors.js';

/**
 * The archive's key layout, owned here and nowhere else (hot directory and object store alike):
 *
 *   topic=<topic>/_topic.json                                         topic metadata snapshot
 *   topic=<topic>/partition=<p>/<first, 20 digits>-<last, 20 digits>.parquet   one segment
 *   _doctor/probe-<id>                                                `doctor`'s probe object
 *
 * Hive-style so query engines see topic and partition as columns; zero-padded so names sort by
 * offset.
 */
const TOPIC_RE = /^[a-zA-Z0-9._-]{1,249}$/;
const NAME_RE = /^(\d{20})-(\d{20})\.parquet$/;
const TOPIC_DIR = 'topic=';
const PARTITION_DIR = 'partition=';
const PARTITION_DIR_RE = /^partition=(\d+)$/;

/** Where a segment sits in the archive: its partition and offset span. */
export interface SegmentLocation {
  topic: string;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

export function assertTopicName(topic: string): void {
  if (!TOPIC_RE.test(topic)) {
    throw new ArchiveError(ErrorCodes.USAGE, `invalid Kafka topic name: ${JSON.stringify(topic)}`);
  }
}

/** The prefix under which every topic lives (for listing a bucket). */
export const TOPICS_PREFIX = TOPIC_DIR;

export function topicRelDir(topic: string): string {
  assertTopicName(topic);
  return `${TOPIC_DIR}${topic}`;
}

/** The topic of a `topic=<t>` directory name, or null for any other name. */
export function parseTopicDir(name: string): string | null {
  return name.startsWith(TOPIC_DIR) ? name.slice(TOPIC_DIR.length) : null;
}

/** The partition of a `partition=<p>` directory name, or null for any other name. */
export function parsePartitionDir(name: string): number | null {
  const m = PARTITION_DIR_RE.exec(name);
  return m === null ? null : Number(m[1]);
}

export function segmentFileName(first: bigint, last: bigint): string {
  return `${first.toString().padStart(20, '0')}-${last.toString().padStart(20, '0')}.parquet`;
}

export function partitionRelDir(topic: string, partition: number): string {
  return `${topicRelDir(topic)}/${PARTITION_DIR}${partition}`;
}

export function segmentRelPath(
  topic: string,
  partition: number,
  first: bigint,
  last: bigint,
): string {
  return `${partitionRelDir(topic, partition)}/${segmentFileName(first, last)}`;
}

/** The key of a segment, relative to the hot directory or the object store's prefix. */
export function segmentKey(s: SegmentLocation): string {
  return segmentRelPath(s.topic, s.partition, s.firstOffset, s.lastOffset);
}

/** The key of a topic's metadata snapshot (partitions, configs, topic id). */
export function topicMetaKey(topic: string): string {
  return `${topicRelDir(topic)}/_topic.json`;
}

/**
 * The reserved key of a `doctor` probe object (written, read back and deleted at once). It lies
 * outside every `topic=` prefix, so listings of the archive never see it.
 */
export function doctorProbeKey(id: string): string {
  if (!/^[a-zA-Z0-9_-]{1,100}$/.test(id)) {
    throw new ArchiveError(
      ErrorCodes.STORAGE_KEY_INVALID,
      `invalid probe id ${JSON.stringify(id)}`,
    );
  }
  return `_doctor/probe-${id}`;
}

export function parseSegmentFileName(
  name: string,
): { firstOffset: bigint; lastOffset: bigint } | null {
  const m = NAME_RE.exec(name);
  if (m === null) return null;
  return { firstOffset: BigInt(m[1] as string), lastOffset: BigInt(m[2] as string) };
}

/** The location a segment key names, or null when the key is not a segment's. */
export function parseSegmentKey(key: string): SegmentLocation | null {
  const parts = key.split('/');
  if (parts.length !== 3) return null;
  const topic = parseTopicDir(parts[0] as string);
  const partition = parsePartitionDir(parts[1] as string);
  const span = parseSegmentFileName(parts[2] as string);
  if (topic === null || partition === null || span === null || !TOPIC_RE.test(topic)) return null;
  return { topic, partition, ...span };
}
