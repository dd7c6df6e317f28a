import type { ArchiveRecord } from '../segment/index.js';

/*
 * JSON forms shared with the CLI. Copies of `toJson` (src/cli/format.ts) and `recordJson`
 * (src/cli/commands/read.ts): the server must not depend on the CLI layer. Keep them identical
 * (test/unit/server-params.test.ts checks it) until both move to one shared module.
 */

/** JSON with bigint values written as strings (offsets can exceed 2^53). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Text when the bytes are valid UTF-8, else base64; the encoding is said beside it. */
function bytesField(b: Buffer | null): { v: string | null; enc?: 'base64' } {
  if (b === null) return { v: null };
  try {
    return { v: utf8.decode(b) };
  } catch {
    return { v: b.toString('base64'), enc: 'base64' };
  }
}

/** One record as the `read` command prints it (one JSON line). */
export function recordJson(topic: string, partition: number, r: ArchiveRecord): string {
  const key = bytesField(r.key);
  const value = bytesField(r.value);
  return JSON.stringify({
    topic,
    partition,
    offset: r.offset.toString(),
    timestamp: r.timestamp.toString(),
    timestampType: r.timestampType === 1 ? 'LogAppendTime' : 'CreateTime',
    key: key.v,
    ...(key.enc ? { keyEncoding: key.enc } : {}),
    value: value.v,
    ...(value.enc ? { valueEncoding: value.enc } : {}),
    headers: r.headers.map((h) => {
      const v = bytesField(h.value);
      return { key: h.key, value: v.v, ...(v.enc ? { valueEncoding: v.enc } : {}) };
    }),
  });
}
