import { createHash, type Hash } from 'node:crypto';
import type { KafkaRecord } from '../record.js';
import { packRecords } from './pack.js';

/**
 * SHA-256 over the records of a segment, in offset order, each in the canonical encoding of the
 * archive format (pack.ts). It covers the content, not the Parquet encoding, so any writer or
 * re-compression of the same records gives the same checksum, and a reader can verify what it
 * read.
 */
export class ContentHasher {
  private readonly hash: Hash = createHash('sha256');

  update(r: KafkaRecord): this {
    this.hash.update(packRecords([r]));
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
