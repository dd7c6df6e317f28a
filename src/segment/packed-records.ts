import { ArchiveError, ErrorCodes } from '../errors.js';
import type { KafkaRecord } from '../record.js';
import { packedSize, writePacked } from './pack.js';

/**
 * A new chunk holds a quarter of what is already held, at least MIN_CHUNK and at most MAX_CHUNK
 * (a larger record gets a chunk of its own size): the unused end of the last chunk stays under
 * a quarter of the bytes held plus MIN_CHUNK, however records arrive.
 */
const MIN_CHUNK = 4 * 1024;
/** The largest chunk: also the largest slice a segment's records travel in to the encoder. */
const MAX_CHUNK = 4 * 2 ** 20;

/** Records [i, j) of a PackedRecords: what a segment is written from. */
export interface PackedRange {
  /** The records in the canonical encoding, in offset order: views, no copies. */
  slices: Buffer[];
  count: number;
  /** Bytes of the slices. */
  bytes: number;
  firstOffset: bigint;
  lastOffset: bigint;
  minTimestamp: bigint;
  maxTimestamp: bigint;
}

/**
 * Records of one partition held in the canonical encoding (pack.ts) as they arrive, in offset
 * order: one copy of their bytes and no object per record, so what is held is what the buffer
 * budget counts (the client's fetch responses and record objects are garbage as soon as the
 * batch is added). The bytes live in chunks on SharedArrayBuffers: the encoder thread reads a
 * segment's slices without a copy, and they stay readable here for a seal that is retried.
 * Offsets and timestamps are kept beside them, 24 bytes per record, for cutting ranges.
 */
export class PackedRecords {
  private readonly chunks: Buffer[] = [];
  /** Position (in the bytes of all chunks, as filled) of each chunk's first byte. */
  private readonly chunkStarts: number[] = [];
  private fill = 0;
  private offsets = new BigInt64Array(16);
  private timestamps = new BigInt64Array(16);
  /** starts[i]: position of record i; starts[count]: the end. */
  private starts = new Float64Array(17);
  private n = 0;
  private size = 0;

  get count(): number {
    return this.n;
  }

  /** Bytes of the records held. */
  get bytes(): number {
    return this.size;
  }

  offsetAt(i: number): bigint {
    return this.offsets[i] as bigint;
  }

  timestampAt(i: number): bigint {
    return this.timestamps[i] as bigint;
  }

  append(r: KafkaRecord): void {
    if (this.n > 0 && r.offset <= (this.offsets[this.n - 1] as bigint)) {
      throw new ArchiveError(
        ErrorCodes.INTERNAL,
        `records out of offset order at ${r.offset} (after ${this.offsets[this.n - 1]})`,
      );
    }
    const len = packedSize(r);
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || this.fill + len > chunk.length) {
      const next = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, Math.floor(this.size / 4)));
      chunk = Buffer.from(new SharedArrayBuffer(Math.max(len, next)));
      this.chunks.push(chunk);
      this.chunkStarts.push(this.size);
      this.fill = 0;
    }
    this.fill = writePacked(chunk, this.fill, r);
    if (this.n + 1 === this.offsets.length) this.grow();
    this.offsets[this.n] = r.offset;
    this.timestamps[this.n] = r.timestamp;
    this.starts[this.n] = this.size;
    this.size += len;
    this.n++;
    this.starts[this.n] = this.size;
  }

  /** The index of the first record whose offset is >= `offset` (count when none is). */
  lowerBound(offset: bigint): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.offsets[mid] as bigint) < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Records [i, j); null when the range is empty. */
  range(i = 0, j = this.n): PackedRange | null {
    if (i < 0 || j > this.n || i >= j) return null;
    const from = this.starts[i] as number;
    const to = this.starts[j] as number;
    const slices: Buffer[] = [];
    for (let k = 0; k < this.chunks.length; k++) {
      const start = this.chunkStarts[k] as number;
      const end = (this.chunkStarts[k + 1] as number | undefined) ?? this.size;
      if (end <= from || start >= to) continue;
      slices.push(
        (this.chunks[k] as Buffer).subarray(
          Math.max(from, start) - start,
          Math.min(to, end) - start,
        ),
      );
    }
    let minTimestamp = this.timestamps[i] as bigint;
    let maxTimestamp = minTimestamp;
    for (let x = i + 1; x < j; x++) {
      const t = this.timestamps[x] as bigint;
      if (t < minTimestamp) minTimestamp = t;
      if (t > maxTimestamp) maxTimestamp = t;
    }
    return {
      slices,
      count: j - i,
      bytes: to - from,
      firstOffset: this.offsets[i] as bigint,
      lastOffset: this.offsets[j - 1] as bigint,
      minTimestamp,
      maxTimestamp,
    };
  }

  private grow(): void {
    const cap = this.offsets.length * 2;
    const offsets = new BigInt64Array(cap);
    offsets.set(this.offsets);
    const timestamps = new BigInt64Array(cap);
    timestamps.set(this.timestamps);
    const starts = new Float64Array(cap + 1);
    starts.set(this.starts);
    this.offsets = offsets;
    this.timestamps = timestamps;
    this.starts = starts;
  }
}
