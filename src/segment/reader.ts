import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetReadObjects,
  type AsyncBuffer,
  type FileMetaData,
} from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { ArchiveError, ErrorCodes, isArchiveError } from '../errors.js';
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

/**
 * The first read from a segment's end when opening it: a segment's footer is a few KiB (about
 * 1 KiB per row group), so this reads it whole with one request; a longer footer costs one more
 * read (hyparquet fetches the rest). hyparquet's own default, 512 KiB, made every footer read of
 * a 32 MiB segment in the object store transfer 512 KiB.
 */
export const FOOTER_FETCH_BYTES = 64 * 1024;

/**
 * Opens a segment: reads its footer. `initialFetchSize` is the size of the first read from
 * the end of the file (default FOOTER_FETCH_BYTES).
 */
export async function openSegment(
  source: AsyncBuffer,
  options: { initialFetchSize?: number } = {},
): Promise<OpenSegment> {
  let parquet: FileMetaData;
  try {
    parquet = await parquetMetadataAsync(source, {
      initialFetchSize: options.initialFetchSize ?? FOOTER_FETCH_BYTES,
    });
  } catch (err) {
    // The byte source's own errors (an object store that is down, an object gone) keep their
    // codes: they say nothing about the file.
    if (isArchiveError(err)) throw err;
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

/** A byte source that reports every byte it hands out (to measure what a read fetched). */
export function countingBuffer(source: AsyncBuffer, onRead: (bytes: number) => void): AsyncBuffer {
  return {
    byteLength: source.byteLength,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const b = await source.slice(start, end);
      onRead(b.byteLength);
      return b;
    },
  };
}

/** What a row group's footer statistics say about it. */
export interface RowGroupInfo {
  index: number;
  /** Row number of its first row in the file. */
  rowStart: number;
  rows: number;
  /** Offset and timestamp bounds (absent when the writer kept no statistics). */
  minOffset?: bigint;
  maxOffset?: bigint;
  minTimestamp?: bigint;
  maxTimestamp?: bigint;
  /** Bytes of its column chunks in the file. */
  compressedBytes: number;
  /** Uncompressed bytes of its key, value and headers columns: about the records' size. */
  recordBytes: number;
}

const bigStat = (v: unknown): bigint | undefined =>
  typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : undefined;

/** The row groups of a segment with their statistics, in file order. */
export function rowGroups(seg: OpenSegment): RowGroupInfo[] {
  const out: RowGroupInfo[] = [];
  let rowStart = 0;
  seg.parquet.row_groups.forEach((g, index) => {
    const info: RowGroupInfo = {
      index,
      rowStart,
      rows: Number(g.num_rows),
      compressedBytes: 0,
      recordBytes: 0,
    };
    for (const c of g.columns) {
      const md = c.meta_data;
      if (md === undefined) continue;
      info.compressedBytes += Number(md.total_compressed_size);
      const name = md.path_in_schema[0];
      if (name === 'key' || name === 'value' || name === 'headers')
        info.recordBytes += Number(md.total_uncompressed_size);
      const min = bigStat(md.statistics?.min_value);
      const max = bigStat(md.statistics?.max_value);
      if (name === 'offset') {
        if (min !== undefined) info.minOffset = min;
        if (max !== undefined) info.maxOffset = max;
      } else if (name === 'timestamp') {
        if (min !== undefined) info.minTimestamp = min;
        if (max !== undefined) info.maxTimestamp = max;
      }
    }
    out.push(info);
    rowStart += info.rows;
  });
  return out;
}

/** Every record of one row group, in offset order. */
export async function readRowGroup(seg: OpenSegment, group: RowGroupInfo): Promise<KafkaRecord[]> {
  const objs = (await parquetReadObjects({
    file: seg.source,
    metadata: seg.parquet,
    rowStart: group.rowStart,
    rowEnd: group.rowStart + group.rows,
    utf8: false,
    compressors,
  })) as unknown as Row[];
  return objs.map(toRecord);
}

/** Only the offset and timestamp of one row group's records (two small column chunks). */
export async function readRowGroupKeys(
  seg: OpenSegment,
  group: RowGroupInfo,
): Promise<Array<{ offset: bigint; timestamp: bigint }>> {
  const objs = (await parquetReadObjects({
    file: seg.source,
    metadata: seg.parquet,
    rowStart: group.rowStart,
    rowEnd: group.rowStart + group.rows,
    columns: ['offset', 'timestamp'],
    compressors,
  })) as unknown as Array<{ offset: bigint; timestamp: bigint }>;
  return objs.map((o) => ({ offset: BigInt(o.offset), timestamp: BigInt(o.timestamp) }));
}
