import { createHash, type Hash } from 'node:crypto';
import type { KafkaRecord } from '../record.js';

/**
 * SHA-256 over the records of a segment, in offset order, each encoded canonically
 * (part of the archive format, version 1):
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
 * records gives the same checksum, and a reader can verify what it read.
 */
export class ContentHasher {
  private readonly hash: Hash = createHash('sha256');
  private readonly fixed = Buffer.alloc(17);
  private readonly int = Buffer.alloc(4);

  private writeInt(n: number): void {
    this.int.writeInt32BE(n, 0);
    this.hash.update(this.int);
  }

  private writeBytes(b: Buffer | null): void {
    if (b === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(b.length);
    if (b.length > 0) this.hash.update(b);
  }

  update(r: KafkaRecord): this {
    this.fixed.writeBigInt64BE(r.offset, 0);
    this.fixed.writeBigInt64BE(r.timestamp, 8);
    this.fixed.writeUInt8(r.timestampType, 16);
    this.hash.update(this.fixed);
    this.writeBytes(r.key);
    this.writeBytes(r.value);
    this.writeInt(r.headers.length);
    for (const h of r.headers) {
      this.writeBytes(Buffer.from(h.key, 'utf8'));
      this.writeBytes(h.value);
    }
    return this;
  }

  digestHex(): string {
    return this.hash.digest('hex');
  }
}

export function contentSha256(records: Iterable<KafkaRecord>): string {
  const h = new ContentHasher();
  for (const r of records) h.update(r);
  return h.digestHex();
}
