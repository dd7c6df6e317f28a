import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ObjectStore } from '../storage/index.js';

const CHUNK = 8 * 2 ** 20;

/** SHA-256 and size of a local file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, {
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    h.update(chunk);
    size += chunk.length;
  }
  return { sha256: h.digest('hex'), size };
}

/** SHA-256 of an object read back from the store (in ranges, so memory stays small). */
export async function hashObject(store: ObjectStore, key: string, size: number): Promise<string> {
  const h = createHash('sha256');
  for (let pos = 0; pos < size; pos += CHUNK) {
    h.update(await store.getRange(key, pos, Math.min(size, pos + CHUNK) - 1));
  }
  return h.digest('hex');
}
