import { createHash, randomBytes } from 'node:crypto';
import { ArchiveError, ErrorCodes } from '../errors.js';
import {
  compareKeys,
  digestMismatch,
  exists,
  lengthMismatch,
  notFound,
  rangeError,
  toBuffer,
  validateKey,
  validateMetadata,
  validatePrefix,
  validateRange,
  type ListedObject,
  type ObjectHead,
  type ObjectStore,
  bodySource,
  type PutBody,
  type PutOptions,
  type PutResult,
} from './types.js';

interface Stored {
  body: Buffer;
  metadata: Record<string, string>;
  etag: string;
}

/**
 * An object store in memory: the same contract as the local and S3 backends (it passes the same
 * contract suite), for engine tests that need no server and for embedding. `available = false`
 * makes every call fail with STORAGE_UNAVAILABLE (retryable), like a store that went down.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly description = 'memory';
  private readonly objects = new Map<string, Stored>();
  /** When false, every call fails as an unreachable store would. */
  available = true;
  /** Calls made, by operation (for tests that check what the engines did). */
  readonly calls = { put: 0, get: 0, getRange: 0, head: 0, list: 0, delete: 0 };

  private check(op: string): void {
    if (!this.available) {
      throw new ArchiveError(ErrorCodes.STORAGE_UNAVAILABLE, `${op}: the memory store is down`, {
        retryable: true,
      });
    }
  }

  async put(key: string, input: PutBody, opts: PutOptions = {}): Promise<PutResult> {
    const body = bodySource(input);
    this.calls.put++;
    this.check('put');
    validateKey(key);
    const metadata = validateMetadata(opts.metadata);
    let bytes: Buffer;
    if (Buffer.isBuffer(body)) bytes = Buffer.from(body);
    else {
      const parts: Buffer[] = [];
      for await (const chunk of body()) parts.push(toBuffer(chunk));
      bytes = Buffer.concat(parts);
    }
    if (opts.contentLength !== undefined && opts.contentLength !== bytes.length) {
      throw lengthMismatch(key, opts.contentLength, bytes.length);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (opts.sha256 !== undefined && sha256 !== opts.sha256) {
      throw digestMismatch(key, opts.sha256, sha256);
    }
    this.check('put');
    if (opts.ifAbsent === true && this.objects.has(key)) throw exists(key, this.description);
    const etag = randomBytes(8).toString('hex');
    this.objects.set(key, { body: bytes, metadata, etag });
    return { etag, sha256 };
  }

  async get(key: string): Promise<Buffer> {
    this.calls.get++;
    this.check('get');
    validateKey(key);
    return Buffer.from(this.stored(key).body);
  }

  async getRange(key: string, start: number, endInclusive: number): Promise<Buffer> {
    this.calls.getRange++;
    this.check('getRange');
    validateKey(key);
    validateRange(key, start, endInclusive);
    const { body } = this.stored(key);
    if (start >= body.length) throw rangeError(key, start, endInclusive, body.length);
    return Buffer.from(body.subarray(start, Math.min(endInclusive + 1, body.length)));
  }

  async head(key: string): Promise<ObjectHead | null> {
    this.calls.head++;
    this.check('head');
    validateKey(key);
    const o = this.objects.get(key);
    return o === undefined
      ? null
      : { size: o.body.length, metadata: { ...o.metadata }, etag: o.etag };
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    this.calls.list++;
    this.check('list');
    validatePrefix(prefix);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
    for (const key of keys) {
      const o = this.objects.get(key);
      if (o !== undefined) yield { key, size: o.body.length };
    }
  }

  async *listDirs(prefix: string): AsyncIterable<string> {
    this.calls.list++;
    this.check('list');
    validatePrefix(prefix);
    const dirs = new Set<string>();
    for (const k of this.objects.keys()) {
      if (!k.startsWith(prefix)) continue;
      const slash = k.indexOf('/', prefix.length);
      if (slash >= 0) dirs.add(k.slice(0, slash + 1));
    }
    yield* [...dirs].sort(compareKeys);
  }

  async delete(key: string): Promise<void> {
    this.calls.delete++;
    this.check('delete');
    validateKey(key);
    this.objects.delete(key);
  }

  async checkAccess(): Promise<void> {
    this.check('checkAccess');
  }

  async close(): Promise<void> {}

  /** Replace an object's bytes behind the engines' back (a bit flip, a foreign writer). */
  corrupt(key: string, body: Buffer): void {
    const o = this.stored(key);
    this.objects.set(key, { ...o, body });
  }

  get size(): number {
    return this.objects.size;
  }

  private stored(key: string): Stored {
    const o = this.objects.get(key);
    if (o === undefined) throw notFound(key, this.description);
    return o;
  }
}
