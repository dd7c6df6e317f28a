import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ArchiveError } from '../../src/errors.js';
import { createLogger } from '../../src/log/index.js';
import {
  LocalObjectStore,
  S3ObjectStore,
  createObjectStore,
  validateKey,
  validatePrefix,
} from '../../src/storage/index.js';

const base = mkdtempSync(join(tmpdir(), 'ka-local-store-'));
const root = join(base, 'cold');
const store = new LocalObjectStore({ dir: root });
afterAll(() => rmSync(base, { recursive: true, force: true }));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ArchiveError);
    return (err as ArchiveError).code;
  }
  return undefined;
}

const bad: [string, string][] = [
  ['', 'empty'],
  ['/etc/passwd', 'absolute path'],
  ['../outside', 'parent segment'],
  ['a/../../outside', 'parent segment in the middle'],
  ['a/./b', 'dot segment'],
  ['.hidden', 'hidden name (reserved for temp and sidecar files)'],
  ['a/.x.parquet.meta-1.json', 'sidecar-like name'],
  ['a//b', 'empty segment'],
  ['a/', 'trailing slash'],
  ['a\\b', 'backslash'],
  ['a\0b', 'NUL'],
  ['a\nb', 'newline'],
  [`${'x'.repeat(201)}`, 'last segment over 200 bytes'],
  [`${'d'.repeat(256)}/x`, 'segment over 255 bytes'],
  [`${'d/'.repeat(600)}x`, 'key over 1024 bytes'],
];

const good = [
  'a',
  'topic=orders/partition=0/00000000000000000000-00000000000000000099.parquet',
  `topic=${'t'.repeat(249)}/partition=2147483647/x.parquet`,
  'a=b/c=d/e..f',
  'ünïcödé/キー',
  'with space/and+plus',
];

describe('LocalObjectStore key validation', () => {
  it.each(bad)('rejects %j (%s) with STORAGE_KEY_INVALID before touching the disk', async (key) => {
    expect(codeOf(() => validateKey(key))).toBe('STORAGE_KEY_INVALID');
    expect(codeOf(() => store.pathOf(key))).toBe('STORAGE_KEY_INVALID');
    for (const p of [
      store.put(key, Buffer.from('x')),
      store.get(key),
      store.getRange(key, 0, 0),
      store.head(key),
      store.delete(key),
    ]) {
      await expect(p).rejects.toMatchObject({ code: 'STORAGE_KEY_INVALID' });
    }
    expect(existsSync(join(base, 'outside'))).toBe(false);
  });

  it.each(good)('accepts %j and maps it under the root', async (key) => {
    expect(codeOf(() => validateKey(key))).toBeUndefined();
    const path = store.pathOf(key);
    expect(path.startsWith(`${root}/`)).toBe(true);
    expect(path.slice(root.length + 1)).toBe(key);
    await store.put(key, Buffer.from(key));
    expect((await store.get(key)).toString()).toBe(key);
  });

  it('validates list prefixes: partial segments yes, escapes no', async () => {
    for (const p of ['', 'topic=', 'topic=a/', 'topic=a/partition=1', 'a/b/']) {
      expect(codeOf(() => validatePrefix(p))).toBeUndefined();
    }
    for (const p of ['/', '../', 'a/../', '.', 'a//', '/abs']) {
      expect(
        codeOf(() => validatePrefix(p)),
        p,
      ).toBe('STORAGE_KEY_INVALID');
    }
    const iter = store.list('../')[Symbol.asyncIterator]();
    await expect(iter.next()).rejects.toMatchObject({ code: 'STORAGE_KEY_INVALID' });
  });

  it('hides temp and sidecar files from list and reports a clash with a directory', async () => {
    await store.put('hide/obj.bin', Buffer.from('data'), { metadata: { k: 'v' } });
    writeFileSync(join(root, 'hide', '.obj.bin.tmp-leftover'), 'partial');
    const names = readdirSync(join(root, 'hide')).sort();
    expect(names.some((n) => /^\.obj\.bin\.meta-\d+\.json$/.test(n))).toBe(true);
    const listed: string[] = [];
    for await (const o of store.list('hide/')) listed.push(o.key);
    expect(listed).toEqual(['hide/obj.bin']);
    expect(await store.head('hide/obj.bin')).toMatchObject({ size: 4, metadata: { k: 'v' } });
    // "hide/obj.bin" is a file, so nothing can live under "hide/obj.bin/".
    await expect(store.put('hide/obj.bin/child', Buffer.from('x'))).rejects.toMatchObject({
      code: 'STORAGE_KEY_INVALID',
    });
    // A directory is not an object.
    await expect(store.get('hide')).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
    await expect(store.put('hide', Buffer.from('x'))).rejects.toMatchObject({
      code: 'STORAGE_KEY_INVALID',
    });
  });

  it('a file placed by hand (no sidecar) is an object with empty metadata', async () => {
    await store.put('manual/placeholder', Buffer.from(''));
    writeFileSync(join(root, 'manual', 'by-hand.bin'), 'abc');
    expect(await store.head('manual/by-hand.bin')).toEqual({ size: 3, metadata: {} });
  });
});

describe('createObjectStore', () => {
  const log = createLogger({ level: 'silent', pretty: false });

  it('defaults to the local directory store, no config file needed', async () => {
    const config = loadConfig({ env: {} });
    const s = createObjectStore(config.storage, log);
    expect(s).toBeInstanceOf(LocalObjectStore);
    expect(s.description).toContain('kafka-archive-data/cold');
    await s.close();
  });

  it('builds an S3 store from config; a missing bucket is a clear config error', async () => {
    expect(() => loadConfig({ env: { KAFKA_ARCHIVE_STORAGE__TYPE: 's3' } })).toThrow(
      /storage\.s3\.bucket: missing required key \(required when storage\.type is s3\)/,
    );
    const config = loadConfig({
      env: {
        KAFKA_ARCHIVE_STORAGE__TYPE: 's3',
        KAFKA_ARCHIVE_STORAGE__S3__BUCKET: 'b',
        KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: 'http://user:pw@127.0.0.1:9000',
        KAFKA_ARCHIVE_STORAGE__S3__PREFIX: '/prod/',
        KAFKA_ARCHIVE_STORAGE__S3__ACCESS_KEY_ID: 'id',
        KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: 'sekrit',
      },
    });
    const s = createObjectStore(config.storage, log);
    expect(s).toBeInstanceOf(S3ObjectStore);
    expect(s.description).toBe('s3://b/prod/ at http://127.0.0.1:9000');
    expect((s as S3ObjectStore).partSizeBytes).toBe(16 * 2 ** 20);
    await s.close();
  });
});
