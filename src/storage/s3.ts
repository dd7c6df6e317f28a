import { TLS_TRUST_CODES } from '../util/tls.js';
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { ArchiveError, ErrorCodes, type ErrorCode } from '../errors.js';
import type { Logger } from '../log/index.js';
import {
  exists,
  digestMismatch,
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
  type PutBody,
  type PutOptions,
  type PutResult,
} from './types.js';

const MiB = 2 ** 20;
const MIN_PART_SIZE = 5 * MiB;
const MAX_PARTS = 10_000;

export interface S3ObjectStoreOptions {
  /** S3-compatible endpoint URL; absent: AWS S3 for `region`. */
  endpoint?: string | undefined;
  region: string;
  bucket: string;
  /** Every key is stored under this prefix ("archive" and "archive/" both mean "archive/"). */
  prefix?: string | undefined;
  forcePathStyle?: boolean | undefined;
  /** Both or neither; without them the AWS SDK default credential chain applies. */
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  serverSideEncryption?: 'AES256' | 'aws:kms' | undefined;
  sseKmsKeyId?: string | undefined;
  /** Bodies larger than this go up as a multipart upload of parts this size (>= 5 MiB). */
  partSizeBytes?: number | undefined;
  /**
   * A body of known length (`contentLength`) up to this goes up as one PutObject, whatever
   * partSizeBytes says: one request instead of three or more (default 64 MiB).
   */
  singlePutMaxBytes?: number | undefined;
  /** ListObjectsV2 page size (S3 caps it at 1000); small values exercise pagination in tests. */
  listPageSize?: number | undefined;
  /** SDK attempts per request, including the first (default 3). */
  maxAttempts?: number | undefined;
  connectionTimeoutMs?: number | undefined;
  /** Socket inactivity timeout of one request. */
  requestTimeoutMs?: number | undefined;
  log?: Logger | undefined;
  /** PEM CA bundle that signed an https endpoint's certificate (storage.s3.caFile). */
  caFile?: string | undefined;
}

/** The CA bundle of storage.s3.caFile; CONFIG_INVALID naming the key when it cannot be read. */
function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ArchiveError(
      ErrorCodes.CONFIG_INVALID,
      `config error: storage.s3.caFile: cannot read ${JSON.stringify(path)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

interface S3ErrorLike {
  name?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/**
 * Objects in an S3 bucket (AWS or S3-compatible: MinIO, Ceph RGW, versitygw, ...).
 *
 * - put: bodies up to partSizeBytes are one PutObject with Content-MD5 (the server verifies the
 *   bytes); larger ones a multipart upload of partSizeBytes parts, each with Content-MD5, aborted
 *   on any failure. A stream body is read one part at a time, so memory stays about one part.
 * - put-if-absent: `If-None-Match: *` on PutObject / CompleteMultipartUpload (412 ->
 *   OBJECT_EXISTS); a multipart put first HEADs the key so a refused upload usually costs nothing.
 * - Checksums: only where the API requires them (requestChecksumCalculation WHEN_REQUIRED), as
 *   most S3-compatible servers do not implement the SDK's newer default CRC trailers.
 * - Credentials are handed to the SDK only; messages name endpoint and bucket, never secrets.
 */
export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  readonly bucket: string;
  /** '' or ending in '/'. */
  readonly prefix: string;
  readonly partSizeBytes: number;
  readonly singlePutMaxBytes: number;
  private readonly endpointDesc: string;
  private readonly client: S3Client;
  private readonly sse: {
    ServerSideEncryption?: 'AES256' | 'aws:kms';
    SSEKMSKeyId?: string;
  };
  private readonly listPageSize: number | undefined;
  private readonly log: Logger | undefined;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    const trimmed = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.prefix = trimmed === '' ? '' : `${trimmed}/`;
    if (this.prefix !== '') validatePrefix(this.prefix);
    this.partSizeBytes = options.partSizeBytes ?? 16 * MiB;
    if (this.partSizeBytes < MIN_PART_SIZE) {
      throw new ArchiveError(
        ErrorCodes.CONFIG_INVALID,
        `storage.s3.partSizeBytes must be at least 5MiB (got ${this.partSizeBytes})`,
      );
    }
    this.singlePutMaxBytes = options.singlePutMaxBytes ?? 64 * MiB;
    this.endpointDesc = describeEndpoint(options.endpoint, options.region);
    this.description = `s3://${this.bucket}/${this.prefix} at ${this.endpointDesc}`;
    this.listPageSize = options.listPageSize;
    this.log = options.log;
    this.sse = {};
    if (options.serverSideEncryption !== undefined) {
      this.sse.ServerSideEncryption = options.serverSideEncryption;
      if (options.sseKmsKeyId !== undefined) this.sse.SSEKMSKeyId = options.sseKmsKeyId;
    }
    const config: S3ClientConfig = {
      region: options.region,
      forcePathStyle: options.forcePathStyle ?? true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: {
        connectionTimeout: options.connectionTimeoutMs ?? 10_000,
        requestTimeout: options.requestTimeoutMs ?? 120_000,
        ...(options.caFile !== undefined
          ? { httpsAgent: new HttpsAgent({ ca: readCa(options.caFile), keepAlive: true }) }
          : {}),
      },
    };
    if (options.endpoint !== undefined) config.endpoint = options.endpoint;
    if (options.accessKeyId !== undefined && options.secretAccessKey !== undefined) {
      config.credentials = {
        accessKeyId: options.accessKeyId,
        secretAccessKey: options.secretAccessKey,
      };
    }
    this.client = new S3Client(config);
  }

  private fullKey(key: string): string {
    validateKey(key);
    return this.prefix + key;
  }

  async put(key: string, body: PutBody, opts: PutOptions = {}): Promise<PutResult> {
    const Key = this.fullKey(key);
    const metadata = validateMetadata(opts.metadata);
    const sent = createHash('sha256');
    // A known length that fits one PutObject is read as one part (the single-request path).
    const single =
      opts.contentLength !== undefined &&
      opts.contentLength > this.partSizeBytes &&
      opts.contentLength <= this.singlePutMaxBytes;
    const parts = hashing(
      partsOf(body, single ? (opts.contentLength as number) : this.partSizeBytes),
      sent,
    );
    const checkDigest = () => {
      if (opts.sha256 === undefined) return;
      const actual = sent.digest('hex');
      if (actual !== opts.sha256) throw digestMismatch(key, opts.sha256, actual);
    };
    try {
      const first = await parts.next();
      const second = first.done === true ? first : await parts.next();
      if (second.done === true) {
        const buf = first.done === true ? Buffer.alloc(0) : first.value;
        if (opts.contentLength !== undefined && buf.length !== opts.contentLength) {
          throw lengthMismatch(key, opts.contentLength, buf.length);
        }
        checkDigest();
        const r = await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: buf,
            ContentLength: buf.length,
            ContentMD5: md5(buf),
            ContentType: 'application/octet-stream',
            Metadata: metadata,
            ...(opts.ifAbsent === true ? { IfNoneMatch: '*' } : {}),
            ...this.sse,
          }),
        );
        return { ...etagResult(r.ETag), verified: opts.sha256 !== undefined };
      }
      if (first.done === true) throw new Error('unreachable');
      if (opts.ifAbsent === true && (await this.head(key)) !== null) {
        throw exists(key, this.description);
      }
      return await this.putMultipart(
        key,
        Key,
        [first.value, second.value],
        parts,
        metadata,
        opts,
        checkDigest,
      );
    } catch (err) {
      throw this.mapError(err, 'put', key);
    } finally {
      // Stops a stream body that was not read to its end (destroys it).
      await parts.return(undefined).catch(() => undefined);
    }
  }

  private async putMultipart(
    key: string,
    Key: string,
    firstParts: Buffer[],
    rest: AsyncIterator<Buffer>,
    metadata: Record<string, string>,
    opts: PutOptions,
    checkDigest: () => void,
  ): Promise<PutResult> {
    const Bucket = this.bucket;
    const created = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket,
        Key,
        ContentType: 'application/octet-stream',
        Metadata: metadata,
        ...this.sse,
      }),
    );
    const UploadId = created.UploadId;
    if (UploadId === undefined) throw new Error('CreateMultipartUpload returned no UploadId');
    try {
      const done: CompletedPart[] = [];
      let total = 0;
      const upload = async (Body: Buffer) => {
        const PartNumber = done.length + 1;
        if (PartNumber > MAX_PARTS) {
          throw new ArchiveError(
            ErrorCodes.STORAGE_UNAVAILABLE,
            `put ${key}: more than ${MAX_PARTS} parts of ${this.partSizeBytes} bytes; raise storage.s3.partSizeBytes`,
          );
        }
        const r = await this.client.send(
          new UploadPartCommand({
            Bucket,
            Key,
            UploadId,
            PartNumber,
            Body,
            ContentLength: Body.length,
            ContentMD5: md5(Body),
          }),
        );
        done.push({ ETag: r.ETag, PartNumber });
        total += Body.length;
      };
      for (const p of firstParts) await upload(p);
      for (let r = await rest.next(); r.done !== true; r = await rest.next()) await upload(r.value);
      if (opts.contentLength !== undefined && total !== opts.contentLength) {
        throw lengthMismatch(key, opts.contentLength, total);
      }
      checkDigest(); // before Complete: a mismatch leaves no object
      const r = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: done },
          ...(opts.ifAbsent === true ? { IfNoneMatch: '*' } : {}),
        }),
      );
      this.log?.debug({ key, parts: done.length, bytes: total }, 'multipart upload complete');
      return { ...etagResult(r.ETag), verified: opts.sha256 !== undefined };
    } catch (err) {
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
      } catch (abortErr) {
        this.log?.warn(
          { key, uploadId: UploadId, err: describe(abortErr) },
          'could not abort a failed multipart upload; its parts stay until a bucket lifecycle rule removes incomplete uploads',
        );
      }
      throw err;
    }
  }

  async get(key: string): Promise<Buffer> {
    const Key = this.fullKey(key);
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      return await bodyBuffer(r.Body);
    } catch (err) {
      throw this.mapError(err, 'get', key);
    }
  }

  async getRange(key: string, start: number, endInclusive: number): Promise<Buffer> {
    const Key = this.fullKey(key);
    validateRange(key, start, endInclusive);
    try {
      const r = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: `bytes=${start}-${endInclusive}` }),
      );
      const buf = await bodyBuffer(r.Body);
      if (r.ContentRange !== undefined) return buf;
      // A server that ignores Range sends the whole object (200): cut the range out here.
      if (start >= buf.length) throw rangeError(key, start, endInclusive, buf.length);
      return buf.subarray(start, Math.min(endInclusive + 1, buf.length));
    } catch (err) {
      const e = err as S3ErrorLike;
      if (e.$metadata?.httpStatusCode === 416 || e.name === 'InvalidRange') {
        throw rangeError(key, start, endInclusive);
      }
      throw this.mapError(err, 'getRange', key);
    }
  }

  async head(key: string): Promise<ObjectHead | null> {
    const Key = this.fullKey(key);
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      const head: ObjectHead = { size: r.ContentLength ?? 0, metadata: lowerKeys(r.Metadata) };
      const etag = unquote(r.ETag);
      if (etag !== undefined) head.etag = etag;
      return head;
    } catch (err) {
      const e = err as S3ErrorLike;
      if (e.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket') return null;
      throw this.mapError(err, 'head', key);
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    validatePrefix(prefix);
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            MaxKeys: this.listPageSize,
            ContinuationToken,
          }),
        );
      } catch (err) {
        throw this.mapError(err, 'list', prefix);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || !o.Key.startsWith(this.prefix)) continue;
        yield { key: o.Key.slice(this.prefix.length), size: o.Size ?? 0 };
      }
      ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (ContinuationToken !== undefined);
  }

  async delete(key: string): Promise<void> {
    const Key = this.fullKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      const e = err as S3ErrorLike;
      if (e.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket') return;
      throw this.mapError(err, 'delete', key);
    }
  }

  /**
   * One ListObjectsV2 with MaxKeys 1 under the prefix: unlike HeadBucket (a HEAD, so no error
   * body) it tells a wrong secret, an unknown key id, a denied policy and a missing bucket apart.
   */
  async checkAccess(): Promise<void> {
    try {
      await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, MaxKeys: 1 }),
      );
    } catch (err) {
      throw this.mapError(err, 'checkAccess', '');
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** An SDK error as an ArchiveError with a clear code; the message never contains secrets. */
  private mapError(err: unknown, op: string, key: string): ArchiveError {
    if (err instanceof ArchiveError) return err;
    const e = (err ?? {}) as S3ErrorLike;
    const name = e.name ?? e.Code ?? 'Error';
    const status = e.$metadata?.httpStatusCode;
    const where = `bucket ${this.bucket} at ${this.endpointDesc}`;
    const what = key === '' ? `${op} on ${where}` : `${op} ${key} (${where})`;
    const reason = `${name}${status === undefined ? '' : ` ${status}`}: ${e.message ?? String(err)}`;
    const details = { op, key, bucket: this.bucket, endpoint: this.endpointDesc, status, name };
    const fail = (code: ErrorCode, message: string, flags: { retryable?: boolean } = {}) =>
      new ArchiveError(code, message, { ...flags, cause: err, details });

    if (
      name === 'CredentialsProviderError' ||
      /could not load credentials/i.test(e.message ?? '')
    ) {
      return fail(
        ErrorCodes.STORAGE_AUTH,
        `no S3 credentials for ${where}: set storage.s3.accessKeyId and storage.s3.secretAccessKey, or provide them through the AWS default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance or pod role)`,
      );
    }
    const tlsCode = (err as { code?: unknown } | null)?.code;
    if (typeof tlsCode === 'string' && TLS_TRUST_CODES.has(tlsCode)) {
      return fail(
        ErrorCodes.STORAGE_TLS_FAILED,
        `TLS to S3 at ${this.endpointDesc} failed: ${e.message ?? tlsCode} (${tlsCode}); set storage.s3.caFile to the CA that signed the endpoint's certificate, and check the endpoint's host name`,
      );
    }
    if (name === 'NoSuchBucket' || (op === 'checkAccess' && status === 404)) {
      return fail(
        ErrorCodes.STORAGE_BUCKET_MISSING,
        `S3 bucket ${this.bucket} does not exist at ${this.endpointDesc} (storage.s3.bucket); create it or fix the name`,
      );
    }
    if (name === 'SignatureDoesNotMatch') {
      return fail(
        ErrorCodes.STORAGE_AUTH,
        `S3 at ${this.endpointDesc} rejected the request signature for bucket ${this.bucket}: the secret access key (storage.s3.secretAccessKey) is wrong for this access key id`,
      );
    }
    if (name === 'InvalidAccessKeyId') {
      return fail(
        ErrorCodes.STORAGE_AUTH,
        `S3 at ${this.endpointDesc} does not know the access key id (storage.s3.accessKeyId) used for bucket ${this.bucket}`,
      );
    }
    if (name === 'RequestTimeTooSkewed') {
      return fail(
        ErrorCodes.STORAGE_AUTH,
        `S3 at ${this.endpointDesc} refused the request for bucket ${this.bucket}: this machine's clock is too far off; sync it (NTP)`,
        { retryable: true },
      );
    }
    if (
      status === 403 ||
      name === 'AccessDenied' ||
      name === 'InvalidToken' ||
      name === 'ExpiredToken'
    ) {
      return fail(
        ErrorCodes.STORAGE_AUTH,
        `access denied by S3 for ${what} (${name}): check the credentials and that they may list, read, write and delete objects in bucket ${this.bucket}`,
      );
    }
    if (
      status === 301 ||
      name === 'PermanentRedirect' ||
      name === 'AuthorizationHeaderMalformed' ||
      name === 'IllegalLocationConstraintException'
    ) {
      return fail(
        ErrorCodes.STORAGE_UNAVAILABLE,
        `S3 ${where} refused the request (${name}): the bucket is probably in another region than storage.s3.region, or storage.s3.endpoint points at the wrong service`,
      );
    }
    if (key !== '' && (name === 'NoSuchKey' || status === 404)) {
      return notFound(key, this.description);
    }
    if (status === 412 || name === 'PreconditionFailed') return exists(key, this.description);
    const retryable =
      status === undefined ||
      status >= 500 ||
      status === 408 ||
      status === 409 ||
      status === 429 ||
      name === 'RequestTimeout' ||
      name === 'SlowDown' ||
      name === 'BadDigest' || // bytes damaged on the way: sending them again can succeed
      name === 'IncompleteBody' ||
      e.$retryable !== undefined;
    return fail(ErrorCodes.STORAGE_UNAVAILABLE, `S3 ${what} failed: ${reason}`, { retryable });
  }
}

/** The endpoint without any user:password part, for messages. */
function describeEndpoint(endpoint: string | undefined, region: string): string {
  if (endpoint === undefined) return `AWS S3 (${region})`;
  try {
    const u = new URL(endpoint);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid endpoint URL)';
  }
}

/** The body in parts of exactly `size` bytes (the last may be shorter; none for empty bodies). */
async function* partsOf(body: PutBody, size: number): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(body)) {
    for (let off = 0; off < body.length; off += size) yield body.subarray(off, off + size);
    return;
  }
  const stream: Readable = body();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of stream) {
    let buf = toBuffer(chunk);
    while (pendingBytes + buf.length >= size) {
      const take = size - pendingBytes;
      pending.push(buf.subarray(0, take));
      yield Buffer.concat(pending, size);
      buf = buf.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (buf.length > 0) {
      pending.push(buf);
      pendingBytes += buf.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

async function bodyBuffer(body: { transformToByteArray(): Promise<Uint8Array> } | undefined) {
  if (body === undefined) return Buffer.alloc(0);
  const bytes = await body.transformToByteArray();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The parts, unchanged, each also fed to `hash` (the bytes exactly as sent). */
async function* hashing(parts: AsyncGenerator<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  try {
    for (let r = await parts.next(); r.done !== true; r = await parts.next()) {
      hash.update(r.value);
      yield r.value;
    }
  } finally {
    await parts.return(undefined);
  }
}

function md5(buf: Buffer): string {
  return createHash('md5').update(buf).digest('base64');
}

function unquote(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, '');
}

function etagResult(etag: string | undefined): PutResult {
  const e = unquote(etag);
  return e === undefined ? {} : { etag: e };
}

function lowerKeys(m: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m ?? {})) out[k.toLowerCase()] = v;
  return out;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
