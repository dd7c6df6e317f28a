import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetReadObjects,
  type AsyncBuffer,
  type FileMetaData,
} from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { ArchiveError, ErrorCodes } from '../errors.js';
import { fromKv, type SegmentMeta } from './meta.js';
import type { KafkaHeader, KafkaRecord } from '../record.js';

export type { AsyncBuffer };

/**
 * Reads segments with hyparquet, from any byte source (a local file, or later an object-store
 * range reader): the footer first, then only the row groups whose offset statistics overlap the
 * requested range.
 */
export function localFileBuffer(path: string): Promise<AsyncBuffer> {
  return asyncBufferFromFile(path);
}

export interface OpenSegment {
  meta: SegmentMeta;
  parquet: FileMetaData;
  source: AsyncBuffer;
}

export async function openSegment(source: AsyncBuffer): Promise<OpenSegment> {
  let parquet: FileMetaData;
  try {
    parquet = await parquetMetadataAsync(source);
  } catch (err) {
    throw new ArchiveError(
      ErrorCodes.SEGMENT_CORRUPT,
      `not a readable Parquet file: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const kv: Record<string, string> = {};
  for (const e of parquet.key_value_metadata ?? []) if (e.value !== undefined) kv[e.key] = e.value;
  return { meta: fromKv(kv), parquet, source };
}

export async function readSegmentMeta(source: AsyncBuffer): Promise<SegmentMeta> {
  return (await openSegment(source)).meta;
}

const toBuf = (v: unknown): Buffer | null =>
  v === null || v === undefined
    ? null
    : Buffer.from(
        (v as Uint8Array).buffer,
        (v as Uint8Array).byteOffset,
        (v as Uint8Array).byteLength,
      );

const toStr = (v: unknown): string =>
  typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('utf8');

interface Row {
  offset: bigint;
  timestamp: bigint;
  timestamp_type: number;
  key: Uint8Array | null | undefined;
  value: Uint8Array | null | undefined;
  headers: Array<{ key: unknown; value: Uint8Array | null | undefined }> | null | undefined;
}

function toRecord(r: Row): KafkaRecord {
  const headers: KafkaHeader[] = (r.headers ?? []).map((h) => ({
    key: toStr(h.key),
    value: toBuf(h.value),
  }));
  return {
    offset: BigInt(r.offset),
    timestamp: BigInt(r.timestamp),
    timestampType: r.timestamp_type === 1 ? 1 : 0,
    key: toBuf(r.key),
    value: toBuf(r.value),
    headers,
  };
}

export interface ReadRange {
  fromOffset?: bigint;
  toOffset?: bigint;
}

/** Records with fromOffset <= offset <= toOffset, in offset order, one row group at a time. */
export async function* readSegmentRecords(
  seg: OpenSegment,
  range: ReadRange = {},
): AsyncGenerator<KafkaRecord> {
  const from = range.fromOffset ?? -(2n ** 63n);
  const to = range.toOffset ?? 2n ** 63n;
  let rowStart = 0;
  for (const group of seg.parquet.row_groups) {
    const rows = Number(group.num_rows);
    const stats = group.columns[0]?.meta_data?.statistics;
    const min = typeof stats?.min_value === 'bigint' ? stats.min_value : undefined;
    const max = typeof stats?.max_value === 'bigint' ? stats.max_value : undefined;
    const overlaps = min === undefined || max === undefined || (max >= from && min <= to);
    if (overlaps) {
      const objs = (await parquetReadObjects({
        file: seg.source,
        metadata: seg.parquet,
        rowStart,
        rowEnd: rowStart + rows,
        utf8: false,
        compressors,
      })) as unknown as Row[];
      for (const o of objs) {
        const rec = toRecord(o);
        if (rec.offset >= from && rec.offset <= to) yield rec;
      }
    }
    rowStart += rows;
  }
}

/** Only the offset column of a segment (cheap: one column chunk per row group). */
export async function readSegmentOffsets(seg: OpenSegment): Promise<bigint[]> {
  const rows = (await parquetReadObjects({
    file: seg.source,
    metadata: seg.parquet,
    columns: ['offset'],
    compressors,
  })) as unknown as Array<{ offset: bigint }>;
  return rows.map((r) => BigInt(r.offset));
}
