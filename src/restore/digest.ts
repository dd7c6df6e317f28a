import { createHash, type Hash } from 'node:crypto';
import type { KafkaHeader } from '../record.js';

/** What a restore must keep of a record: everything but its offset (the target assigns new ones). */
export interface RecordContent {
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeader[];
}

/**
 * SHA-256 over records in order, each encoded canonically: timestamp int64 BE; key and value as
 * int32 BE length (-1 for null) + bytes; header count int32 BE; each header int32 BE key length
 * + UTF-8 key, int32 BE value length (-1 for null) + bytes. The same encoding as the segment
 * checksum (src/segment/checksum.ts) without the offset and timestamp type, so an archive and a
 * restored topic can be compared.
 */
export class ContentDigest {
  private readonly hash: Hash = createHash('sha256');
  private readonly ts = Buffer.alloc(8);
  private readonly int = Buffer.alloc(4);
  count = 0;

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

  update(r: RecordContent): this {
    this.ts.writeBigInt64BE(r.timestamp, 0);
    this.hash.update(this.ts);
    this.writeBytes(r.key);
    this.writeBytes(r.value);
    this.writeInt(r.headers.length);
    for (const h of r.headers) {
      this.writeBytes(Buffer.from(h.key, 'utf8'));
      this.writeBytes(h.value);
    }
    this.count++;
    return this;
  }

  digestHex(): string {
    return this.hash.digest('hex');
  }
}
