import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { ArchiveError, ErrorCodes, isArchiveError } from '../errors.js';

/**
 * The object-store contract shared by the embedded local backend and S3. Both backends pass the
 * same contract test suite (test/integration/object-store.contract.test.ts).
 *
 * Keys are "/"-separated paths such as `topic=t/partition=0/<first>-<last>.parquet` (see
 * {@link validateKey} for the rules, identical on both backends). Errors are ArchiveErrors:
 *   OBJECT_EXISTS          put with ifAbsent on an existing key (the existing object is untouched)
 *   OBJECT_NOT_FOUND       get / getRange of a missing key
 *   OBJECT_RANGE_INVALID   getRange with start beyond the object's end (or start > end)
 *   STORAGE_KEY_INVALID    a key breaking the rules (or, locally, clashing with a directory)
 *   STORAGE_AUTH           credentials / permissions rejected (kind auth)
 *   STORAGE_BUCKET_MISSING the bucket does not exist (kind config)
 *   STORAGE_UNAVAILABLE    anything else; `retryable` says whether trying again can help
 *   DISK_FULL              (local) no space left; retryable
 */
export interface ObjectStore {
  /** Where the objects live, for logs and messages: never contains credentials. */
  readonly description: string;
  /**
   * Store an object. `body` is a Buffer, or a function returning a fresh stream (called once per
   * attempt; memory use stays bounded by the part size on S3). The object becomes visible whole
   * or not at all. With `ifAbsent`, fails with OBJECT_EXISTS when the key already exists, atomic
   * against concurrent writers. `contentLength`, when given, is checked against the bytes read.
   */
  put(key: string, body: PutBody, opts?: PutOptions): Promise<PutResult>;
  /** The whole object. */
  get(key: string): Promise<Buffer>;
  /**
   * Bytes [start, endInclusive] like an HTTP range: an end past the object's last byte is
   * clamped to it; a start at or past the end is OBJECT_RANGE_INVALID.
   */
  getRange(key: string, start: number, endInclusive: number): Promise<Buffer>;
  /** Size, user metadata and etag of an object, or null when it does not exist. */
  head(key: string): Promise<ObjectHead | null>;
  /** Every key starting with `prefix` (a plain string prefix), in lexicographic byte order. */
  list(prefix: string): AsyncIterable<ListedObject>;
  /**
   * The "directories" right below `prefix` (a plain string prefix): for every key starting with
   * `prefix` that has a "/" after it, the key up to and including that "/"; each once, in
   * lexicographic byte order (S3's CommonPrefixes with Delimiter "/"). Lets a caller list the
   * partitions of a bucket in parallel.
   */
  listDirs(prefix: string): AsyncIterable<string>;
  /** Remove an object; a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** A cheap call proving the store is reachable and the credentials work (fails with codes above). */
  checkAccess(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A Buffer, a function returning a fresh stream (called once per attempt), or a local file by
 * path: S3 reads a file that fits one PutObject with one read into one buffer (no chunk copies),
 * a larger one as a stream.
 */
export type PutBody = Buffer | (() => Readable) | FileBody;

export interface FileBody {
  path: string;
}

/** The body as a buffer or a stream factory (a file body becomes a read stream of the file). */
export function bodySource(body: PutBody): Buffer | (() => Readable) {
  if (Buffer.isBuffer(body) || typeof body === 'function') return body;
  return () => createReadStream(body.path, { highWaterMark: 1 << 20 });
}

export interface PutOptions {
  ifAbsent?: boolean;
  contentLength?: number;
  /**
   * The hex SHA-256 the body must have. The store hashes the bytes it actually sends and fails
   * (STORAGE_UNAVAILABLE, retryable, nothing stored) when they differ.
   */
  sha256?: string;
  /**
   * User metadata. Keys are lower-case (S3 lower-cases them anyway): [a-z0-9-], values printable
   * ASCII; at most 2 KiB in total (the S3 limit).
   */
  metadata?: Record<string, string>;
}

export interface PutResult {
  /** An opaque version tag (S3 ETag without quotes; locally a random token). */
  etag?: string;
  /**
   * The hex SHA-256 of the bytes the store read from the body and sent (or wrote), when it
   * computed one: callers need not hash the source again. S3 leaves it out of a multipart upload
   * whose every part the server checked by SHA-256 (verified) unless `sha256` was asked for.
   */
  sha256?: string;
  /**
   * True when the store proved that it received exactly the bytes it read from the body: the
   * server checked a digest of every request's bytes (S3: x-amz-checksum-sha256 echoed back, or
   * Content-MD5), computed from the very bytes that were read (and hashed to `sha256`). Callers
   * may then skip reading the object back to verify it.
   */
  verified?: boolean;
}

export interface ObjectHead {
  size: number;
  metadata: Record<string, string>;
  etag?: string;
}

export interface ListedObject {
  key: string;
  size: number;
}

const MAX_KEY_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;
/** The last segment leaves room for the local store's sidecar suffix within NAME_MAX (255). */
const MAX_NAME_BYTES = 200;
const MAX_METADATA_BYTES = 2048;
// eslint-disable-next-line no-control-regex
const BAD_CHARS = /[\u0000-\u001f\u007f\\]/;

function invalidKey(key: string, why: string): ArchiveError {
  return new ArchiveError(
    ErrorCodes.STORAGE_KEY_INVALID,
    `invalid object key ${JSON.stringify(key)}: ${why}`,
    { details: { key } },
  );
}

function checkSegments(key: string, segments: string[], allowEmptyLast: boolean): void {
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === '') {
      if (last && allowEmptyLast) return;
      throw invalidKey(key, 'empty path segment (leading, trailing or double "/")');
    }
    if (seg.startsWith('.')) {
      throw invalidKey(
        key,
        'a path segment starts with "." (".", ".." and hidden names are reserved)',
      );
    }
    const bytes = Buffer.byteLength(seg);
    if (bytes > MAX_SEGMENT_BYTES || (last && !allowEmptyLast && bytes > MAX_NAME_BYTES)) {
      throw invalidKey(key, 'a path segment is too long');
    }
  });
}

/**
 * Key rules, the same for every backend so a layout that works locally works on S3 and back:
 * non-empty, at most 1024 UTF-8 bytes, "/"-separated segments that are non-empty, do not start
 * with "." (so "..", "." and the local store's hidden temp / sidecar files are impossible), at
 * most 255 bytes (the last at most 200), and no control characters or backslashes. A leading "/"
 * (an absolute path) is an empty first segment, so it is rejected too.
 */
export function validateKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw invalidKey(String(key), 'empty key');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw invalidKey(key, 'longer than 1024 bytes');
  if (BAD_CHARS.test(key)) throw invalidKey(key, 'control character or backslash');
  checkSegments(key, key.split('/'), false);
}

/** A list prefix: '' or a key's beginning (may end with "/" or in the middle of a segment). */
export function validatePrefix(prefix: string): void {
  if (prefix === '') return;
  if (Buffer.byteLength(prefix) > MAX_KEY_BYTES) throw invalidKey(prefix, 'longer than 1024 bytes');
  if (BAD_CHARS.test(prefix)) throw invalidKey(prefix, 'control character or backslash');
  const segments = prefix.split('/');
  // Segments before the last must be whole; the last is a partial name (maybe empty).
  checkSegments(prefix, segments, true);
}

/** Metadata rules (see PutOptions.metadata); returns a copy. */
export function validateMetadata(
  metadata: Record<string, string> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (metadata === undefined) return out;
  let total = 0;
  for (const [k, v] of Object.entries(metadata)) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(k)) {
      throw new ArchiveError(
        ErrorCodes.STORAGE_KEY_INVALID,
        `invalid object metadata key ${JSON.stringify(k)}: expected lower-case letters, digits and "-"`,
      );
    }
    if (typeof v !== 'string' || !/^[\x20-\x7e]*$/.test(v)) {
      throw new ArchiveError(
        ErrorCodes.STORAGE_KEY_INVALID,
        `invalid object metadata value for ${JSON.stringify(k)}: expected printable ASCII`,
      );
    }
    total += k.length + v.length;
    out[k] = v;
  }
  if (total > MAX_METADATA_BYTES) {
    throw new ArchiveError(
      ErrorCodes.STORAGE_KEY_INVALID,
      `object metadata is ${total} bytes; at most ${MAX_METADATA_BYTES} are allowed`,
    );
  }
  return out;
}

export function validateRange(key: string, start: number, endInclusive: number): void {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(endInclusive) ||
    start < 0 ||
    endInclusive < start
  ) {
    throw rangeError(key, start, endInclusive);
  }
}

export function rangeError(key: string, start: number, endInclusive: number, size?: number) {
  return new ArchiveError(
    ErrorCodes.OBJECT_RANGE_INVALID,
    `invalid byte range ${start}-${endInclusive} of ${key}${size === undefined ? '' : ` (size ${size})`}`,
    { details: { key, start, endInclusive, size } },
  );
}

export function notFound(key: string, where: string): ArchiveError {
  return new ArchiveError(ErrorCodes.OBJECT_NOT_FOUND, `object ${key} not found in ${where}`, {
    details: { key },
  });
}

export function exists(key: string, where: string): ArchiveError {
  return new ArchiveError(ErrorCodes.OBJECT_EXISTS, `object ${key} already exists in ${where}`, {
    details: { key },
  });
}

export function digestMismatch(key: string, expected: string, actual: string): ArchiveError {
  return new ArchiveError(
    ErrorCodes.STORAGE_UNAVAILABLE,
    `put ${key}: the body's SHA-256 is ${actual}, expected ${expected} (the source changed while it was read)`,
    { retryable: true, details: { key, expected, actual } },
  );
}

export function lengthMismatch(key: string, expected: number, actual: number): ArchiveError {
  return new ArchiveError(
    ErrorCodes.STORAGE_UNAVAILABLE,
    `put ${key}: the body had ${actual} bytes, contentLength said ${expected}`,
    { details: { key, expected, actual } },
  );
}

/** Compare keys by UTF-8 bytes, the order S3 lists in. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** A chunk of a body stream as a Buffer. */
export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) {
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  throw new TypeError('a put body stream must yield Buffers, Uint8Arrays or strings');
}

/** The store cannot be used right now (down, refusing our credentials, bucket missing). */
export function isStoreOutage(err: unknown): boolean {
  return (
    isArchiveError(err) &&
    (err.code === ErrorCodes.STORAGE_UNAVAILABLE ||
      err.code === ErrorCodes.STORAGE_AUTH ||
      err.code === ErrorCodes.STORAGE_BUCKET_MISSING)
  );
}
