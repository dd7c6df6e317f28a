import type { KafkaRecord } from '../record.js';

/*
 * The JSON form of one archived record, shared by `kafka-archive read` and the HTTP API's
 * /api/read: key, value and header values as UTF-8 text when valid, else base64 with an
 * `...Encoding: "base64"` field beside them.
 */

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
export function recordJson(topic: string, partition: number, r: KafkaRecord): string {
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
