import { TLS_TRUST_CODES } from '../util/tls.js';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Agent as HttpsAgent } from 'node:https';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { ArchiveError, ErrorCodes, type ErrorCode } from '../errors.js';
import type { Logger } from '../log/index.js';
import {
  bodySource,
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

export type S3ChecksumMode = 'auto' | 'sha256' | 'md5';

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
  /**
   * How the server checks the bytes of each upload (storage.s3.checksum): 'sha256' sends
   * x-amz-checksum-sha256, 'md5' Content-MD5, 'auto' (default) tries sha256 on the first upload
   * and keeps md5 for this store when the server refuses or ignores the checksum.
   */
  checksum?: S3ChecksumMode | undefined;
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
 * - put: bodies up to partSizeBytes (or, of known length, singlePutMaxBytes) are one PutObject;
 *   larger ones a multipart upload of partSizeBytes parts, aborted on any failure. A stream body
 *   is read one part at a time, so memory stays about one part; a file body that fits one
 *   PutObject is read with one read into one buffer. Each request's bytes are hashed once
 *   (SHA-256): the hash signs it (x-amz-content-sha256) and, per storage.s3.checksum, goes as
 *   x-amz-checksum-sha256 (the server must echo it) or is joined by a Content-MD5.
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
  /** 'auto' until the first upload tells which the server checks. */
  private checksum: S3ChecksumMode;

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
    this.checksum = options.checksum ?? 'auto';
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

  /**
   * How the server is asked to check each request's bytes: 'sha256' sends the SHA-256 we compute
   * for signing also as x-amz-checksum-sha256 (one hash per byte on our side); 'md5' adds a
   * Content-MD5 (a second hash). With storage.s3.checksum auto the first put tries sha256 and
   * falls back to md5, for the life of this store, when the server refuses or ignores it.
   */
  get checksumMode(): 'sha256' | 'md5' {
    return this.checksum === 'md5' ? 'md5' : 'sha256';
  }

  async put(key: string, body: PutBody, opts: PutOptions = {}): Promise<PutResult> {
    const Key = this.fullKey(key);
    const metadata = validateMetadata(opts.metadata);
    const mode = this.checksumMode;
    // A known length that fits one PutObject is read as one part (the single-request path).
    const single =
      opts.contentLength !== undefined &&
      opts.contentLength > this.partSizeBytes &&
      opts.contentLength <= this.singlePutMaxBytes;
    const parts = partsOf(
      body,
      single ? (opts.contentLength as number) : this.partSizeBytes,
      single ? (opts.contentLength as number) : this.partSizeBytes,
    );
    try {
      const first = await parts.next();
      const second = first.done === true ? first : await parts.next();
      if (second.done === true) {
        const buf = first.done === true ? Buffer.alloc(0) : first.value;
        if (opts.contentLength !== undefined && buf.length !== opts.contentLength) {
          throw lengthMismatch(key, opts.contentLength, buf.length);
        }
        // The one hash of these bytes: it signs the request, is the digest the caller checks,
        // and (sha256 mode) the checksum the server verifies before it stores anything.
        const digest = sha256(buf);
        const hex = digest.toString('hex');
        if (opts.sha256 !== undefined && hex !== opts.sha256) {
          throw digestMismatch(key, opts.sha256, hex);
        }
        const b64 = digest.toString('base64');
        const command = new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: buf,
          ContentLength: buf.length,
          ...(mode === 'sha256' ? { ChecksumSHA256: b64 } : { ContentMD5: md5(buf) }),
          ContentType: 'application/octet-stream',
          Metadata: metadata,
          ...(opts.ifAbsent === true ? { IfNoneMatch: '*' } : {}),
          ...this.sse,
        });
        presetPayloadHash(command, hex);
        let r;
        try {
          r = await this.client.send(command);
        } catch (err) {
          if (this.fallBack(mode, err)) return await this.put(key, body, opts);
          throw err;
        }
        const verified = mode === 'md5' || this.echoed(b64, r.ChecksumSHA256);
        return { ...etagResult(r.ETag), sha256: hex, verified };
      }
      if (first.done === true) throw new Error('unreachable');
      if (opts.ifAbsent === true && (await this.head(key)) !== null) {
        throw exists(key, this.description);
      }
      return await this.putMultipart(key, Key, [first.value, second.value], parts, metadata, opts);
    } catch (err) {
      if (err instanceof FellBack) return await this.put(key, body, opts);
      throw this.mapError(err, 'put', key);
    } finally {
      // Stops a stream body that was not read to its end (destroys it).
      await parts.return(undefined).catch(() => undefined);
    }
  }

  /**
   * auto: a server that refuses the checksum header (400/501 other than BadDigest) is asked
   * with Content-MD5 from now on; true when the put should be tried again that way.
   */
  private fallBack(mode: 'sha256' | 'md5', err: unknown): boolean {
    if (this.checksum !== 'auto' || mode !== 'sha256') return false;
    const e = (err ?? {}) as S3ErrorLike;
    const status = e.$metadata?.httpStatusCode;
    const name = e.name ?? e.Code ?? '';
    const refused =
      name === 'NotImplemented' ||
      status === 501 ||
      (status === 400 &&
        ['InvalidArgument', 'InvalidRequest'].includes(name) &&
        /checksum|sha256/i.test(e.message ?? ''));
    if (!refused) return false;
    this.checksum = 'md5';
    this.log?.info(
      { store: this.description, refusal: `${name} ${status}` },
      'the S3 server refused x-amz-checksum-sha256; uploads carry Content-MD5 instead (storage.s3.checksum auto)',
    );
    return true;
  }

  /**
   * sha256 mode: the server proves it checked our checksum by echoing it. A server that ignores
   * it (no echo) did not verify the bytes: under auto, later puts use Content-MD5.
   */
  private echoed(sent: string, got: string | undefined): boolean {
    if (got === sent) {
      if (this.checksum === 'auto') this.checksum = 'sha256';
      return true;
    }
    if (this.checksum === 'auto') {
      this.checksum = 'md5';
      this.log?.info(
        { store: this.description },
        'the S3 server does not echo x-amz-checksum-sha256 (it ignores it); uploads carry Content-MD5 instead (storage.s3.checksum auto)',
      );
    } else {
      this.log?.warn(
        { store: this.description },
        'storage.s3.checksum is sha256 but the S3 server did not echo x-amz-checksum-sha256, so it did not check the bytes; the object is read back to verify it',
      );
    }
    return false;
  }

  private async putMultipart(
    key: string,
    Key: string,
    firstParts: Buffer[],
    rest: AsyncIterator<Buffer>,
    metadata: Record<string, string>,
    opts: PutOptions,
  ): Promise<PutResult> {
    const Bucket = this.bucket;
    const mode = this.checksumMode;
    // The whole body's SHA-256 is a second hash per byte: only when a caller asks for it or the
    // server cannot vouch for every part (md5 mode still checks each part's Content-MD5).
    const whole = opts.sha256 !== undefined || mode === 'md5' ? createHash('sha256') : null;
    let created;
    try {
      created = await this.client.send(
        new CreateMultipartUploadCommand({
          Bucket,
          Key,
          ContentType: 'application/octet-stream',
          Metadata: metadata,
          ...(mode === 'sha256' ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
          ...this.sse,
        }),
      );
    } catch (err) {
      if (this.fallBack(mode, err)) throw new FellBack();
      throw err;
    }
    const UploadId = created.UploadId;
    if (UploadId === undefined) throw new Error('CreateMultipartUpload returned no UploadId');
    try {
      const done: CompletedPart[] = [];
      let total = 0;
      let verified = true;
      const upload = async (Body: Buffer) => {
        const PartNumber = done.length + 1;
        if (PartNumber > MAX_PARTS) {
          throw new ArchiveError(
            ErrorCodes.STORAGE_UNAVAILABLE,
            `put ${key}: more than ${MAX_PARTS} parts of ${this.partSizeBytes} bytes; raise storage.s3.partSizeBytes`,
          );
        }
        whole?.update(Body);
        const digest = sha256(Body);
        const b64 = digest.toString('base64');
        const command = new UploadPartCommand({
          Bucket,
          Key,
          UploadId,
          PartNumber,
          Body,
          ContentLength: Body.length,
          ...(mode === 'sha256' ? { ChecksumSHA256: b64 } : { ContentMD5: md5(Body) }),
        });
        presetPayloadHash(command, digest.toString('hex'));
        const r = await this.client.send(command);
        if (mode === 'sha256') {
          if (verified && !this.echoed(b64, r.ChecksumSHA256)) verified = false;
          done.push({ ETag: r.ETag, PartNumber, ChecksumSHA256: b64 });
        } else done.push({ ETag: r.ETag, PartNumber });
        total += Body.length;
      };
      for (const p of firstParts) await upload(p);
      for (let r = await rest.next(); r.done !== true; r = await rest.next()) await upload(r.value);
      if (opts.contentLength !== undefined && total !== opts.contentLength) {
        throw lengthMismatch(key, opts.contentLength, total);
      }
      const hex = whole?.digest('hex');
      // Before Complete: a mismatch leaves no object.
      if (opts.sha256 !== undefined && hex !== opts.sha256) {
        throw digestMismatch(key, opts.sha256, hex ?? '');
      }
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
      return { ...etagResult(r.ETag), ...(hex !== undefined ? { sha256: hex } : {}), verified };
    } catch (err) {
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
      } catch (abortErr) {
        this.log?.warn(
          { key, uploadId: UploadId, err: describe(abortErr) },
          'could not abort a failed multipart upload; its parts stay until a bucket lifecycle rule removes incomplete uploads',
        );
      }
      if (this.fallBack(mode, err)) throw new FellBack();
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
    for await (const page of this.listPages(prefix)) {
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || !o.Key.startsWith(this.prefix)) continue;
        yield { key: o.Key.slice(this.prefix.length), size: o.Size ?? 0 };
      }
    }
  }

  async *listDirs(prefix: string): AsyncIterable<string> {
    for await (const page of this.listPages(prefix, '/')) {
      for (const c of page.CommonPrefixes ?? []) {
        if (c.Prefix === undefined || !c.Prefix.startsWith(this.prefix)) continue;
        yield c.Prefix.slice(this.prefix.length);
      }
    }
  }

  /** The ListObjectsV2 pages under a prefix (with a delimiter: one level, as CommonPrefixes). */
  private async *listPages(
    prefix: string,
    Delimiter?: string,
  ): AsyncGenerator<ListObjectsV2CommandOutput> {
    validatePrefix(prefix);
    let ContinuationToken: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(Delimiter !== undefined ? { Delimiter } : {}),
            MaxKeys: this.listPageSize,
            ContinuationToken,
          }),
        );
      } catch (err) {
        throw this.mapError(err, 'list', prefix);
      }
      yield page;
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
      name === 'XAmzContentSHA256Mismatch' ||
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
async function* partsOf(input: PutBody, size: number, fileMax: number): AsyncGenerator<Buffer> {
  if (!Buffer.isBuffer(input) && typeof input !== 'function') {
    // A file that fits one request: one read into one buffer (no chunk buffers, no concat).
    const fh = await open(input.path, 'r');
    try {
      const { size: bytes } = await fh.stat();
      if (bytes <= fileMax) {
        const buf = Buffer.allocUnsafe(bytes);
        let off = 0;
        while (off < bytes) {
          const { bytesRead } = await fh.read(buf, off, bytes - off, off);
          if (bytesRead === 0) break;
          off += bytesRead;
        }
        yield* partsOf(buf.subarray(0, off), size, 0);
        return;
      }
    } finally {
      await fh.close();
    }
  }
  const body = bodySource(input);
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

/** Thrown inside put when auto mode switched to md5 and the put should start again. */
class FellBack extends Error {}

function sha256(buf: Buffer): Buffer {
  return createHash('sha256').update(buf).digest();
}

/**
 * Signs the request with the payload hash we already computed (x-amz-content-sha256), so the
 * SDK's signer does not hash the body a second time; the server checks it as well.
 */
function presetPayloadHash(command: PutObjectCommand | UploadPartCommand, hex: string): void {
  const stack = command.middlewareStack as unknown as BuildStack;
  stack.add(
    (next) => (args) => {
      const req = args.request as { headers?: Record<string, string> };
      if (req.headers !== undefined) req.headers['x-amz-content-sha256'] = hex;
      return next(args);
    },
    { step: 'build', name: 'kafkaArchivePayloadHash' },
  );
}

/** The part of the SDK's middleware stack presetPayloadHash uses. */
interface BuildStack {
  add(
    middleware: (
      next: (args: { request: unknown }) => Promise<unknown>,
    ) => (args: { request: unknown }) => Promise<unknown>,
    options: { step: 'build'; name: string },
  ): void;
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
