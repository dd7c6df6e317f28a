import { ArchiveError, ErrorCodes } from '../errors.js';

/**
 * The archive's key layout, owned here and nowhere else:
 *   topic=<topic>/partition=<partition>/<first offset, 20 digits>-<last offset, 20 digits>.parquet
 * Hive-style so query engines see topic and partition as columns; zero-padded so names sort by
 * offset.
 */
const TOPIC_RE = /^[a-zA-Z0-9._-]{1,249}$/;
const NAME_RE = /^(\d{20})-(\d{20})\.parquet$/;

export function assertTopicName(topic: string): void {
  if (!TOPIC_RE.test(topic)) {
    throw new ArchiveError(ErrorCodes.USAGE, `invalid Kafka topic name: ${JSON.stringify(topic)}`, {
      userFacing: true,
    });
  }
}

export function segmentFileName(first: bigint, last: bigint): string {
  return `${first.toString().padStart(20, '0')}-${last.toString().padStart(20, '0')}.parquet`;
}

export function partitionRelDir(topic: string, partition: number): string {
  assertTopicName(topic);
  return `topic=${topic}/partition=${partition}`;
}

export function segmentRelPath(
  topic: string,
  partition: number,
  first: bigint,
  last: bigint,
): string {
  return `${partitionRelDir(topic, partition)}/${segmentFileName(first, last)}`;
}

export function parseSegmentFileName(
  name: string,
): { firstOffset: bigint; lastOffset: bigint } | null {
  const m = NAME_RE.exec(name);
  if (m === null) return null;
  return { firstOffset: BigInt(m[1] as string), lastOffset: BigInt(m[2] as string) };
}
