import { ArchiveError, ErrorCodes } from '../errors.js';

export const FORMAT_VERSION = 1;
export const KV_PREFIX = 'kafka_archive.';

export type SegmentCompression = 'zstd' | 'snappy' | 'none';

/** What a segment's Parquet footer says about it (key-value metadata `kafka_archive.*`). */
export interface SegmentMeta {
  formatVersion: number;
  writerVersion: string;
  topic: string;
  /**
   * The topic's generation (an incarnation of a topic deleted and re-created under the same
   * name); absent for generation 1, so footers written before generations existed read as 1.
   */
  generation?: number;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
  /**
   * The offset span the consumer covered, [rangeStart, rangeEnd]: offsets inside it that are
   * not in the segment were skipped by Kafka (compaction, transaction markers, aborted records).
   */
  rangeStart: bigint;
  rangeEnd: bigint;
  minTimestamp: bigint;
  maxTimestamp: bigint;
  recordCount: number;
  compression: SegmentCompression;
  /** SHA-256 of the record content (see checksum.ts). */
  sha256: string;
}

export function toKv(meta: SegmentMeta): Record<string, string> {
  const kv: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (v === undefined || (k === 'generation' && v === 1)) continue;
    kv[KV_PREFIX + k] = String(v);
  }
  return kv;
}

function field(kv: Record<string, string>, key: keyof SegmentMeta): string {
  const v = kv[KV_PREFIX + key];
  if (v === undefined) {
    throw new ArchiveError(
      ErrorCodes.SEGMENT_META_INVALID,
      `segment footer lacks ${KV_PREFIX}${key}`,
    );
  }
  return v;
}

function big(kv: Record<string, string>, key: keyof SegmentMeta): bigint {
  const v = field(kv, key);
  if (!/^-?\d+$/.test(v)) {
    throw new ArchiveError(
      ErrorCodes.SEGMENT_META_INVALID,
      `segment footer ${KV_PREFIX}${key} is not an integer: ${v}`,
    );
  }
  return BigInt(v);
}

export function fromKv(kv: Record<string, string>): SegmentMeta {
  const compression = field(kv, 'compression');
  if (compression !== 'zstd' && compression !== 'snappy' && compression !== 'none') {
    throw new ArchiveError(
      ErrorCodes.SEGMENT_META_INVALID,
      `segment footer has unknown compression ${compression}`,
    );
  }
  const sha256 = field(kv, 'sha256');
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new ArchiveError(ErrorCodes.SEGMENT_META_INVALID, `segment footer sha256 is malformed`);
  }
  const generation = kv[KV_PREFIX + 'generation'] === undefined ? 1 : Number(big(kv, 'generation'));
  if (!Number.isSafeInteger(generation) || generation < 1) {
    throw new ArchiveError(
      ErrorCodes.SEGMENT_META_INVALID,
      `segment footer ${KV_PREFIX}generation is not a positive integer: ${generation}`,
    );
  }
  return {
    formatVersion: Number(big(kv, 'formatVersion')),
    writerVersion: field(kv, 'writerVersion'),
    topic: field(kv, 'topic'),
    ...(generation > 1 ? { generation } : {}),
    partition: Number(big(kv, 'partition')),
    firstOffset: big(kv, 'firstOffset'),
    lastOffset: big(kv, 'lastOffset'),
    rangeStart: big(kv, 'rangeStart'),
    rangeEnd: big(kv, 'rangeEnd'),
    minTimestamp: big(kv, 'minTimestamp'),
    maxTimestamp: big(kv, 'maxTimestamp'),
    recordCount: Number(big(kv, 'recordCount')),
    compression,
    sha256,
  };
}
