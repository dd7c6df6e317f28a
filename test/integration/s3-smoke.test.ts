// Smoke test of the real S3-compatible server from the test bed (versitygw) through
// @aws-sdk/client-s3: the operations the tiering code relies on.
import { randomBytes } from 'node:crypto';
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
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const s3 = inject('s3');

function client(secretAccessKey = s3.secretAccessKey): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey },
    // versitygw and most S3-compatible servers do not implement the newer default CRC checksums
    // on every operation; only send them where the API requires one.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function errorOf(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3ServiceException) return err;
    throw err;
  }
  throw new Error('expected the S3 call to fail');
}

describe(`S3 smoke (versitygw at ${s3.endpoint})`, () => {
  const c = client();
  const Bucket = s3.bucket;
  const prefix = `smoke-${Date.now()}/`;

  beforeAll(() => {
    console.log(`[s3 smoke] S3 server ${s3.endpoint}, bucket ${Bucket}`);
  });
  afterAll(() => c.destroy());

  it('put, head, get, range get and delete keep bytes exact', async () => {
    const Key = `${prefix}object.bin`;
    const body = randomBytes(256 * 1024 + 7);
    await c.send(new PutObjectCommand({ Bucket, Key, Body: body, Metadata: { sha256: 'abc' } }));

    const head = await c.send(new HeadObjectCommand({ Bucket, Key }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.Metadata?.sha256).toBe('abc');

    const got = await c.send(new GetObjectCommand({ Bucket, Key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);

    const range = await c.send(new GetObjectCommand({ Bucket, Key, Range: 'bytes=1000-1999' }));
    expect(range.ContentRange).toBe(`bytes 1000-1999/${body.length}`);
    const part = Buffer.from(await range.Body!.transformToByteArray());
    expect(part.equals(body.subarray(1000, 2000))).toBe(true);

    const suffix = await c.send(new GetObjectCommand({ Bucket, Key, Range: 'bytes=-8' }));
    const tail = Buffer.from(await suffix.Body!.transformToByteArray());
    expect(tail.equals(body.subarray(body.length - 8))).toBe(true);

    await c.send(new DeleteObjectCommand({ Bucket, Key }));
    const missing = await errorOf(c.send(new HeadObjectCommand({ Bucket, Key })));
    expect(missing.$metadata.httpStatusCode).toBe(404);
  });

  it('lists with prefix, delimiter and pagination', async () => {
    const keys = Array.from({ length: 7 }, (_, i) => `${prefix}list/p=${i % 2}/k${i}`);
    for (const Key of keys) await c.send(new PutObjectCommand({ Bucket, Key, Body: Key }));

    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    let pages = 0;
    do {
      const page = await c.send(
        new ListObjectsV2Command({
          Bucket,
          Prefix: `${prefix}list/`,
          MaxKeys: 3,
          ContinuationToken,
        }),
      );
      pages++;
      for (const o of page.Contents ?? []) seen.push(o.Key!);
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...keys].sort());

    const dirs = await c.send(
      new ListObjectsV2Command({ Bucket, Prefix: `${prefix}list/`, Delimiter: '/' }),
    );
    expect((dirs.CommonPrefixes ?? []).map((p) => p.Prefix).sort()).toEqual([
      `${prefix}list/p=0/`,
      `${prefix}list/p=1/`,
    ]);
  });

  it('conditional put (If-None-Match: *) refuses to overwrite', async () => {
    const Key = `${prefix}once`;
    await c.send(new PutObjectCommand({ Bucket, Key, Body: 'first', IfNoneMatch: '*' }));
    const err = await errorOf(
      c.send(new PutObjectCommand({ Bucket, Key, Body: 'second', IfNoneMatch: '*' })),
    );
    expect(err.$metadata.httpStatusCode).toBe(412);
    const got = await c.send(new GetObjectCommand({ Bucket, Key }));
    expect(await got.Body!.transformToString()).toBe('first');
  });

  it('multipart upload assembles parts in order', async () => {
    const Key = `${prefix}multipart.bin`;
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(1234)];
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const etags: { ETag: string; PartNumber: number }[] = [];
    for (const [i, Body] of parts.entries()) {
      const r = await c.send(
        new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }),
      );
      etags.push({ ETag: r.ETag!, PartNumber: i + 1 });
    }
    await c.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: etags },
      }),
    );
    const head = await c.send(new HeadObjectCommand({ Bucket, Key }));
    const whole = Buffer.concat(parts);
    expect(head.ContentLength).toBe(whole.length);
    const got = await c.send(new GetObjectCommand({ Bucket, Key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(whole)).toBe(true);

    // An aborted upload leaves no object behind.
    const aborted = await c.send(
      new CreateMultipartUploadCommand({ Bucket, Key: `${Key}.aborted` }),
    );
    await c.send(
      new UploadPartCommand({
        Bucket,
        Key: `${Key}.aborted`,
        UploadId: aborted.UploadId,
        PartNumber: 1,
        Body: parts[2],
      }),
    );
    await c.send(
      new AbortMultipartUploadCommand({
        Bucket,
        Key: `${Key}.aborted`,
        UploadId: aborted.UploadId,
      }),
    );
    const gone = await errorOf(c.send(new HeadObjectCommand({ Bucket, Key: `${Key}.aborted` })));
    expect(gone.$metadata.httpStatusCode).toBe(404);
  });

  it('wrong credentials fail with a signature error, not a hang', async () => {
    const bad = client('not-the-secret');
    try {
      const err = await errorOf(
        bad.send(new PutObjectCommand({ Bucket, Key: `${prefix}denied`, Body: 'x' })),
      );
      expect(err.$metadata.httpStatusCode).toBe(403);
      expect(err.name).toMatch(/SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId/);
    } finally {
      bad.destroy();
    }
  });
});
