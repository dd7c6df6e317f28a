// One contract for every ObjectStore backend: the embedded local directory and S3 (the real
// versitygw server of the test bed). Both must behave the same for everything the tiering code
// relies on: exact bytes, ranges, metadata, put-if-absent, listing order and errors.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ArchiveError, type ErrorCode } from '../../src/errors.js';
import {
  LocalObjectStore,
  MemoryObjectStore,
  S3ObjectStore,
  compareKeys,
  type ObjectStore,
} from '../../src/storage/index.js';

const s3 = inject('s3');
const MiB = 2 ** 20;
const runId = `${Date.now()}-${randomBytes(3).toString('hex')}`;

async function codeOf(p: Promise<unknown>): Promise<ArchiveError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ArchiveError);
    return err as ArchiveError;
  }
  throw new Error('expected the call to fail');
}

async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<ArchiveError> {
  const err = await codeOf(p);
  expect(err.code, err.message).toBe(code);
  return err;
}

async function collect(store: ObjectStore, prefix: string) {
  const out: { key: string; size: number }[] = [];
  for await (const o of store.list(prefix)) out.push(o);
  return out;
}

/** A stream that yields `buf` in uneven chunks. */
function chunked(buf: Buffer, chunk = 777_777): () => Readable {
  return () =>
    Readable.from(
      (function* () {
        for (let off = 0; off < buf.length; off += chunk) yield buf.subarray(off, off + chunk);
      })(),
    );
}

const segKey = (topic: string, p: number, first: number, last: number) =>
  `topic=${topic}/partition=${p}/${String(first).padStart(20, '0')}-${String(last).padStart(20, '0')}.parquet`;

interface Backend {
  name: string;
  /** A fresh store whose keys are private to this run. */
  create(): Promise<ObjectStore>;
  cleanup(): Promise<void>;
  /** How many keys the listing test writes (pagination on S3 is forced by a small page size). */
  manyKeys: number;
  /** Whether a 20 MiB body with 5 MiB parts shows up as a multipart ETag ("...-4"). */
  multipartEtag: boolean;
  /** Whether the server checks a digest of every part (put with sha256 says `verified`). */
  serverVerified: boolean;
}

function objectStoreContract(backend: Backend): void {
  describe(`ObjectStore contract: ${backend.name}`, () => {
    let store: ObjectStore;
    beforeAll(async () => {
      store = await backend.create();
      await store.checkAccess();
    });
    afterAll(async () => {
      await store.close();
      await backend.cleanup();
    });

    it('put with sha256 checks the bytes it sent: a mismatch stores nothing', async () => {
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      const small = randomBytes(3000);
      const ok = await store.put('digest/small.bin', small, { sha256: sha(small) });
      expect((await store.get('digest/small.bin')).equals(small)).toBe(true);
      // Only a store whose server checked every part's digest may say it verified the upload.
      expect(ok.verified === true).toBe(backend.serverVerified);
      await expectCode(
        store.put('digest/bad.bin', small, { sha256: sha(Buffer.from('other')) }),
        'STORAGE_UNAVAILABLE',
      );
      expect(await store.head('digest/bad.bin')).toBeNull();
      // Multipart (S3: 12 MiB in 5 MiB parts), streamed.
      const big = randomBytes(12 * MiB);
      const bigOk = await store.put('digest/big.bin', chunked(big), { sha256: sha(big) });
      expect(bigOk.verified === true).toBe(backend.serverVerified);
      await expectCode(
        store.put('digest/big-bad.bin', chunked(big), { sha256: sha(small) }),
        'STORAGE_UNAVAILABLE',
      );
      expect(await store.head('digest/big-bad.bin')).toBeNull();
    });

    it('a file body ({ path }) keeps bytes exact; put reports the SHA-256 of the bytes it read', async () => {
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      const files = mkdtempSync(join(tmpdir(), 'ka-objstore-file-'));
      try {
        // S3 here: 3000 B and 7 MiB are one PutObject (one read into one buffer), 12 MiB is a
        // multipart upload of 5 MiB parts streamed from the file.
        for (const [name, bytes] of [
          ['small', 3000],
          ['seven', 7 * MiB],
          ['twelve', 12 * MiB],
        ] as const) {
          const body = randomBytes(bytes);
          const path = join(files, name);
          writeFileSync(path, body);
          const r = await store.put(`file/${name}.bin`, { path }, { contentLength: bytes });
          expect((await store.get(`file/${name}.bin`)).equals(body)).toBe(true);
          // A multipart upload whose every part the server checked may leave the whole hash out.
          if (r.sha256 !== undefined || bytes < 12 * MiB) expect(r.sha256).toBe(sha(body));
          const asked = await store.put(`file/${name}-asked.bin`, { path }, { sha256: sha(body) });
          expect(asked.sha256).toBe(sha(body));
        }
        await expect(
          store.put('file/missing.bin', { path: join(files, 'missing') }),
        ).rejects.toThrow(/ENOENT|no such file/);
        expect(await store.head('file/missing.bin')).toBeNull();
      } finally {
        rmSync(files, { recursive: true, force: true });
      }
    });

    it('put / get keep bytes exact (small, empty, 20 MiB buffer and stream)', async () => {
      const small = randomBytes(1000);
      const r = await store.put('bytes/small.bin', small);
      expect((await store.get('bytes/small.bin')).equals(small)).toBe(true);
      expect(typeof r.etag).toBe('string');

      await store.put('bytes/empty.bin', Buffer.alloc(0), { metadata: { kind: 'empty' } });
      expect((await store.get('bytes/empty.bin')).length).toBe(0);
      expect(await store.head('bytes/empty.bin')).toMatchObject({
        size: 0,
        metadata: { kind: 'empty' },
      });
      await store.put('bytes/empty-stream.bin', () => Readable.from([]), { contentLength: 0 });
      expect((await store.get('bytes/empty-stream.bin')).length).toBe(0);

      const big = randomBytes(20 * MiB);
      const put = await store.put('bytes/big.bin', big, { metadata: { sha: 'x' } });
      const got = await store.get('bytes/big.bin');
      expect(got.length).toBe(big.length);
      expect(got.equals(big)).toBe(true);
      const head = await store.head('bytes/big.bin');
      expect(head).toMatchObject({ size: big.length, metadata: { sha: 'x' } });
      expect(head?.etag).toBe(put.etag);
      if (backend.multipartEtag) expect(put.etag).toMatch(/-4$/);

      // The same bytes from a stream of uneven chunks, not a multiple of the part size.
      const odd = big.subarray(0, 20 * MiB - 12345);
      await store.put('bytes/stream.bin', chunked(odd), { contentLength: odd.length });
      expect((await store.get('bytes/stream.bin')).equals(odd)).toBe(true);
      // A known length above the part size but within singlePutMaxBytes: one PutObject.
      const seven = big.subarray(0, 7 * MiB);
      const one = await store.put('bytes/seven.bin', chunked(seven), {
        contentLength: seven.length,
      });
      expect((await store.get('bytes/seven.bin')).equals(seven)).toBe(true);
      if (backend.multipartEtag) expect(one.etag).not.toMatch(/-\d+$/);
      // A small stream (below the part size) is one plain put.
      await store.put('bytes/small-stream.bin', chunked(small, 100));
      expect((await store.get('bytes/small-stream.bin')).equals(small)).toBe(true);
    });

    it('a stream shorter than contentLength fails and leaves nothing behind', async () => {
      const body = randomBytes(6 * MiB + 3);
      await codeOf(store.put('bytes/short.bin', chunked(body), { contentLength: body.length + 1 }));
      expect(await store.head('bytes/short.bin')).toBeNull();
      await codeOf(
        store.put('bytes/short2.bin', chunked(body.subarray(0, 10)), { contentLength: 9 }),
      );
      expect(await store.head('bytes/short2.bin')).toBeNull();
      expect((await collect(store, 'bytes/short')).map((o) => o.key)).toEqual([]);
    });

    it('getRange returns first, middle and last bytes; clamps the end; refuses a start past it', async () => {
      const body = randomBytes(11 * MiB + 17);
      await store.put('range/obj.bin', body);
      expect((await store.getRange('range/obj.bin', 0, 0)).equals(body.subarray(0, 1))).toBe(true);
      const mid = 5 * MiB - 3; // across the first part boundary on S3
      expect(
        (await store.getRange('range/obj.bin', mid, mid + 99)).equals(
          body.subarray(mid, mid + 100),
        ),
      ).toBe(true);
      const last = body.length - 1;
      expect((await store.getRange('range/obj.bin', last, last)).equals(body.subarray(last))).toBe(
        true,
      );
      expect(
        (await store.getRange('range/obj.bin', last - 9, last + 1000)).equals(
          body.subarray(last - 9),
        ),
      ).toBe(true);
      await expectCode(
        store.getRange('range/obj.bin', body.length, body.length + 5),
        'OBJECT_RANGE_INVALID',
      );
      await expectCode(store.getRange('range/obj.bin', 5, 4), 'OBJECT_RANGE_INVALID');
      await store.put('range/empty.bin', Buffer.alloc(0));
      await expectCode(store.getRange('range/empty.bin', 0, 0), 'OBJECT_RANGE_INVALID');
      await expectCode(store.getRange('range/missing.bin', 0, 0), 'OBJECT_NOT_FOUND');
    });

    it('head reports size and round-trips metadata; null when missing', async () => {
      const metadata = {
        sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'first-offset': '00000000000000000042',
        'record-count': '7',
        note: 'Mixed Case = value; with spaces',
      };
      await store.put('head/obj.bin', Buffer.from('hello'), { metadata });
      const head = await store.head('head/obj.bin');
      expect(head).not.toBeNull();
      expect(head?.size).toBe(5);
      expect(head?.metadata).toEqual(metadata);
      expect(head?.etag).toBeTypeOf('string');
      expect(await store.head('head/missing.bin')).toBeNull();
      expect(await store.head('head')).toBeNull(); // a "directory" is not an object
      await expectCode(
        store.put('head/bad-meta', Buffer.from('x'), { metadata: { Upper: 'x' } }),
        'STORAGE_KEY_INVALID',
      );
    });

    it('put-if-absent refuses to overwrite and keeps the first content and metadata', async () => {
      const key = segKey('orders', 3, 0, 99);
      await store.put(key, Buffer.from('first'), { ifAbsent: true, metadata: { v: '1' } });
      await expectCode(
        store.put(key, Buffer.from('second'), { ifAbsent: true, metadata: { v: '2' } }),
        'OBJECT_EXISTS',
      );
      // Also for a body that would go multipart, and for a stream body.
      await expectCode(
        store.put(key, randomBytes(6 * MiB), { ifAbsent: true, metadata: { v: '3' } }),
        'OBJECT_EXISTS',
      );
      await expectCode(
        store.put(key, chunked(Buffer.from('fourth')), { ifAbsent: true }),
        'OBJECT_EXISTS',
      );
      expect((await store.get(key)).toString()).toBe('first');
      expect((await store.head(key))?.metadata).toEqual({ v: '1' });

      // A plain put overwrites bytes and metadata together.
      await store.put(key, Buffer.from('replaced'), { metadata: { v: '9' } });
      expect((await store.get(key)).toString()).toBe('replaced');
      expect(await store.head(key)).toMatchObject({ size: 8, metadata: { v: '9' } });
      await store.put(key, Buffer.from('again'));
      expect(await store.head(key)).toMatchObject({ size: 5, metadata: {} });
    });

    it('concurrent put-if-absent: exactly one writer wins, its bytes stay', async () => {
      const key = segKey('race', 0, 100, 199);
      const bodies = Array.from({ length: 6 }, (_, i) => Buffer.from(`writer-${i}-`.repeat(1000)));
      const results = await Promise.allSettled(
        bodies.map((b, i) => store.put(key, b, { ifAbsent: true, metadata: { w: String(i) } })),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect((r.reason as ArchiveError).code).toBe('OBJECT_EXISTS');
      }
      const w = won[0] as number;
      expect((await store.get(key)).equals(bodies[w] as Buffer)).toBe(true);
      expect((await store.head(key))?.metadata).toEqual({ w: String(w) });
    });

    it(`lists ${backend.manyKeys} keys under a prefix in byte order with sizes`, async () => {
      const keys = Array.from({ length: backend.manyKeys }, (_, i) =>
        segKey('many', i % 3, i * 10, i * 10 + 9),
      );
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(
          keys.slice(i, i + 50).map((k, j) => store.put(k, Buffer.alloc((i + j) % 7, 1))),
        );
      }
      const listed = await collect(store, 'topic=many/');
      expect(listed.map((o) => o.key)).toEqual([...keys].sort(compareKeys));
      const sizes = new Map(keys.map((k, i) => [k, i % 7]));
      for (const o of listed) expect(o.size).toBe(sizes.get(o.key));

      // Prefixes are plain string prefixes, not directories.
      expect((await collect(store, 'topic=many/partition=1/')).length).toBe(
        keys.filter((k) => k.includes('partition=1/')).length,
      );
      expect((await collect(store, 'topic=many/partition=')).length).toBe(keys.length);
      expect(await collect(store, 'topic=many/partition=7')).toEqual([]);
      expect(await collect(store, 'topic=nothing-here/')).toEqual([]);
    });

    it('lists in full-key byte order across "/" and "." and partial segments', async () => {
      const keys = ['order/a/b', 'order/a.c', 'order/a-d', 'order/a0', 'order/ab/c', 'order/a'];
      // "a" and "a/b" cannot both be files in a directory tree, so "a" is left out everywhere.
      const usable = keys.filter((k) => k !== 'order/a');
      for (const k of usable) await store.put(k, Buffer.from(k));
      const listed = (await collect(store, 'order/')).map((o) => o.key);
      expect(listed).toEqual([...usable].sort(compareKeys));
      expect((await collect(store, 'order/a')).map((o) => o.key)).toEqual(
        [...usable].sort(compareKeys),
      );
      expect((await collect(store, 'order/a/')).map((o) => o.key)).toEqual(['order/a/b']);
      expect((await collect(store, 'order/ab')).map((o) => o.key)).toEqual(['order/ab/c']);
    });

    it('listDirs: the directories right below a prefix, each once, in byte order', async () => {
      const keys = [
        'dirs/topic=a/partition=0/x',
        'dirs/topic=a/partition=0/y',
        'dirs/topic=a/partition=1/x',
        'dirs/topic=a/partition=10/deep/x',
        'dirs/topic=a/_topic.json',
        'dirs/topic=b/generation=2/partition=0/x',
        'dirs/topic=b.c/x',
        'dirs/file',
      ];
      for (const k of keys) await store.put(k, Buffer.from(k));
      const dirs = async (prefix: string) => {
        const out: string[] = [];
        for await (const d of store.listDirs(prefix)) out.push(d);
        return out;
      };
      expect(await dirs('dirs/')).toEqual(['dirs/topic=a/', 'dirs/topic=b.c/', 'dirs/topic=b/']);
      expect(await dirs('dirs/topic=')).toEqual([
        'dirs/topic=a/',
        'dirs/topic=b.c/',
        'dirs/topic=b/',
      ]);
      expect(await dirs('dirs/topic=a/')).toEqual([
        'dirs/topic=a/partition=0/',
        'dirs/topic=a/partition=1/',
        'dirs/topic=a/partition=10/',
      ]);
      expect(await dirs('dirs/topic=b/')).toEqual(['dirs/topic=b/generation=2/']);
      expect(await dirs('dirs/topic=a/partition=0/')).toEqual([]);
      expect(await dirs('dirs/nothing/')).toEqual([]);
      // A directory whose keys are all deleted is gone (as on S3).
      await store.delete('dirs/topic=b.c/x');
      expect(await dirs('dirs/')).toEqual(['dirs/topic=a/', 'dirs/topic=b/']);
    });

    it('delete removes the object (then get is OBJECT_NOT_FOUND); deleting twice is fine', async () => {
      const key = segKey('gone', 0, 0, 0);
      await store.put(key, Buffer.from('bye'), { metadata: { a: 'b' } });
      await store.delete(key);
      await expectCode(store.get(key), 'OBJECT_NOT_FOUND');
      expect(await store.head(key)).toBeNull();
      await store.delete(key);
      await store.delete('gone/never-existed');
      expect(await collect(store, 'topic=gone/')).toEqual([]);
      // The key can be written again, with put-if-absent, after a delete.
      await store.put(key, Buffer.from('back'), { ifAbsent: true });
      expect((await store.get(key)).toString()).toBe('back');
      expect((await store.head(key))?.metadata).toEqual({});
    });

    it('keeps keys with "=" and "/" (the segment layout) and rejects unsafe keys', async () => {
      const key = segKey('cluster1.ztf_alerts-v2', 11, 12345678901234, 12345678999999);
      expect(key).toBe(
        'topic=cluster1.ztf_alerts-v2/partition=11/00000012345678901234-00000012345678999999.parquet',
      );
      await store.put(key, Buffer.from('parquet bytes'));
      expect((await collect(store, 'topic=cluster1.ztf_alerts-v2/')).map((o) => o.key)).toEqual([
        key,
      ]);
      expect((await store.get(key)).toString()).toBe('parquet bytes');
      for (const bad of ['', '/abs', '../escape', 'a/../b', 'a//b', 'a/', '.hidden', 'a\\b']) {
        await expectCode(store.put(bad, Buffer.from('x')), 'STORAGE_KEY_INVALID');
        await expectCode(store.get(bad), 'STORAGE_KEY_INVALID');
      }
      await expectCode(codeList(store, '../'), 'STORAGE_KEY_INVALID');
    });
  });
}

async function codeList(store: ObjectStore, prefix: string): Promise<void> {
  for await (const _ of store.list(prefix)) break;
}

// --- the backends ----------------------------------------------------------------------------

objectStoreContract({
  name: 'memory',
  manyKeys: 1005,
  multipartEtag: false,
  serverVerified: false,
  create: async () => new MemoryObjectStore(),
  cleanup: async () => undefined,
});

const localRoot = mkdtempSync(join(tmpdir(), 'ka-objstore-'));
objectStoreContract({
  name: 'local directory',
  manyKeys: 1005,
  multipartEtag: false,
  serverVerified: false,
  create: async () => new LocalObjectStore({ dir: join(localRoot, 'cold') }),
  cleanup: async () => rmSync(localRoot, { recursive: true, force: true }),
});

const s3Prefix = `contract-${runId}`;
const s3Options = {
  endpoint: s3.endpoint,
  region: s3.region,
  bucket: s3.bucket,
  forcePathStyle: true,
  accessKeyId: s3.accessKeyId,
  secretAccessKey: s3.secretAccessKey,
};
objectStoreContract({
  name: `S3 (versitygw at ${s3.endpoint})`,
  manyKeys: 30,
  multipartEtag: true,
  serverVerified: true,
  create: async () =>
    new S3ObjectStore({
      ...s3Options,
      prefix: s3Prefix,
      partSizeBytes: 5 * MiB,
      singlePutMaxBytes: 8 * MiB,
      listPageSize: 7,
    }),
  cleanup: async () => {
    const store = new S3ObjectStore({ ...s3Options, prefix: s3Prefix });
    try {
      const keys: string[] = [];
      for await (const o of store.list('')) keys.push(o.key);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => store.delete(k)));
      }
    } finally {
      await store.close();
    }
  },
});

describe('S3ObjectStore access errors', () => {
  it('a wrong secret is STORAGE_AUTH naming endpoint and bucket, never the secret', async () => {
    const secret = `wrong-${randomBytes(8).toString('hex')}`;
    const store = new S3ObjectStore({
      ...s3Options,
      secretAccessKey: secret,
      prefix: s3Prefix,
      maxAttempts: 1,
    });
    try {
      const err = await expectCode(store.checkAccess(), 'STORAGE_AUTH');
      expect(err.kind).toBe('auth');
      expect(err.retryable).toBe(false);
      expect(err.message).toContain(s3.endpoint.replace(/\/$/, ''));
      expect(err.message).toContain(s3.bucket);
      expect(err.message).toContain('storage.s3.secretAccessKey');
      expect(err.message).not.toContain(secret);
      expect(JSON.stringify(err.details)).not.toContain(secret);
      expect(store.description).not.toContain(secret);
      // Object operations map the same way (HEAD has no error body: a bare 403).
      await expectCode(store.put('x', Buffer.from('x')), 'STORAGE_AUTH');
      await expectCode(store.head('x'), 'STORAGE_AUTH');
    } finally {
      await store.close();
    }
  });

  it('a missing bucket is STORAGE_BUCKET_MISSING', async () => {
    const bucket = `missing-${runId}`.toLowerCase();
    const store = new S3ObjectStore({ ...s3Options, bucket, maxAttempts: 1 });
    try {
      const err = await expectCode(store.checkAccess(), 'STORAGE_BUCKET_MISSING');
      expect(err.kind).toBe('config');
      expect(err.message).toContain(bucket);
      expect(err.message).toContain('storage.s3.bucket');
      await expectCode(store.put('x', Buffer.from('x')), 'STORAGE_BUCKET_MISSING');
      await expectCode(store.get('x'), 'STORAGE_BUCKET_MISSING');
    } finally {
      await store.close();
    }
  });

  it('an unreachable endpoint is STORAGE_UNAVAILABLE and retryable', async () => {
    const store = new S3ObjectStore({
      ...s3Options,
      endpoint: 'http://127.0.0.1:1',
      maxAttempts: 1,
    });
    try {
      const err = await expectCode(store.checkAccess(), 'STORAGE_UNAVAILABLE');
      expect(err.retryable).toBe(true);
      expect(err.message).toContain('127.0.0.1:1');
      expect(err.message).not.toContain(s3.secretAccessKey);
    } finally {
      await store.close();
    }
  });
});
