import type { KafkaRecord } from '../record.js';

/**
 * The canonical record encoding of the archive format (version 1). It is the input of a
 * segment's content checksum (SHA-256 over the records in offset order, see checksum.ts) and
 * the form in which records travel to the encoder thread, one contiguous buffer per slice:
 *
 *   offset          int64 big-endian
 *   timestamp       int64 big-endian (ms)
 *   timestamp type  uint8 (0 CreateTime, 1 LogAppendTime)
 *   key             int32 BE length (-1 for null) + bytes
 *   value           int32 BE length (-1 for null) + bytes
 *   header count    int32 BE
 *   each header     int32 BE key length + UTF-8 key bytes, int32 BE value length (-1 null) + bytes
 *
 * It covers the content, not the Parquet encoding, so any writer or re-compression of the same
 * records gives the same checksum. Erasable TypeScript only: the encoder thread runs this file
 * with Node's own type stripping.
 */

/** Bytes of one record in the canonical encoding. */
export function packedSize(r: KafkaRecord): number {
  let n = 17 + 4 + (r.key?.length ?? 0) + 4 + (r.value?.length ?? 0) + 4;
  for (const h of r.headers) n += 8 + Buffer.byteLength(h.key, 'utf8') + (h.value?.length ?? 0);
  return n;
}

function putBytes(buf: Buffer, pos: number, b: Uint8Array | null): number {
  if (b === null) return buf.writeInt32BE(-1, pos);
  pos = buf.writeInt32BE(b.length, pos);
  buf.set(b, pos);
  return pos + b.length;
}

/** Writes `r` in the canonical encoding at `pos` (packedSize(r) bytes); returns the end. */
export function writePacked(buf: Buffer, pos: number, r: KafkaRecord): number {
  pos = buf.writeBigInt64BE(r.offset, pos);
  pos = buf.writeBigInt64BE(r.timestamp, pos);
  pos = buf.writeUInt8(r.timestampType, pos);
  pos = putBytes(buf, pos, r.key);
  pos = putBytes(buf, pos, r.value);
  pos = buf.writeInt32BE(r.headers.length, pos);
  for (const h of r.headers) {
    const keyLen = buf.write(h.key, pos + 4, 'utf8');
    buf.writeInt32BE(keyLen, pos);
    pos = putBytes(buf, pos + 4 + keyLen, h.value);
  }
  return pos;
}

/**
 * Records [start, end) in the canonical encoding, in one buffer that owns its memory (not the
 * shared pool), so it can be transferred to another thread.
 */
export function packRecords(
  records: readonly KafkaRecord[],
  start = 0,
  end = records.length,
): Buffer {
  let size = 0;
  for (let i = start; i < end; i++) size += packedSize(records[i] as KafkaRecord);
  const buf = Buffer.allocUnsafeSlow(size);
  let pos = 0;
  for (let i = start; i < end; i++) pos = writePacked(buf, pos, records[i] as KafkaRecord);
  return buf;
}

/** One record read from a packed buffer. */
export interface PackedRecord {
  offset: bigint;
  timestamp: bigint;
  timestampType: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: Buffer; value: Buffer | null }>;
}

/**
 * The records of a packed buffer, in order: keys, values and header keys (UTF-8 bytes, as the
 * Parquet column holds them) are views into it, no copies.
 */
export function* unpackRecords(buf: Buffer): Generator<PackedRecord> {
  let pos = 0;
  const bytes = (): Buffer | null => {
    const len = buf.readInt32BE(pos);
    pos += 4;
    if (len < 0) return null;
    const b = buf.subarray(pos, pos + len);
    pos += len;
    return b;
  };
  while (pos < buf.length) {
    const offset = buf.readBigInt64BE(pos);
    const timestamp = buf.readBigInt64BE(pos + 8);
    const timestampType = buf.readUInt8(pos + 16);
    pos += 17;
    const key = bytes();
    const value = bytes();
    const count = buf.readInt32BE(pos);
    pos += 4;
    const headers: Array<{ key: Buffer; value: Buffer | null }> = [];
    for (let i = 0; i < count; i++)
      headers.push({ key: bytes() ?? Buffer.alloc(0), value: bytes() });
    yield { offset, timestamp, timestampType, key, value, headers };
  }
}
