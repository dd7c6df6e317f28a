// The server-side check of tiering uploads against the test bed's real versitygw: the Tierer
// hashes each segment once, as it reads it for sending, and versitygw must refuse bytes that do
// not match (x-amz-checksum-sha256, and the payload hash the request is signed with). A body
// damaged after it was hashed, or a checksum that does not match, is refused: nothing is stored,
// nothing is evicted, and a clean round afterwards tiers and evicts the very same bytes.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  Catalog,
  createLogger,
  entryFromMeta,
  S3ObjectStore,
  SegmentWriter,
  segmentKey,
  segmentRelPath,
  Tierer,
  type CatalogEntry,
  type KafkaRecord,
  type S3ChecksumMode,
  type TieringConfig,
} from '../../src/index.js';

const s3 = inject('s3');
const MiB = 2 ** 20;
const log = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'ka-tier-checksum-'));
const runPrefix = `tier-checksum-${Date.now()}-${randomBytes(3).toString('hex')}`;
const config: TieringConfig = {
  enabled: true,
  intervalMs: 60_000,
  minAgeMs: 0,
  evictHot: true,
  concurrency: 2,
  maxBytesPerSecond: 0,
  retryInitialMs: 1_000,
  retryMaxMs: 60_000,
  segmentIndex: false, // the requests counted here are the segments' own
};

/** How the requests of a store are damaged on their way out (after the body was hashed). */
type Damage = 'none' | 'body' | 'checksum';

interface Bed {
  hotDir: string;
  catalog: Catalog;
  store: S3ObjectStore;
  segments: { entry: CatalogEntry; path: string; sha256: string }[];
  setDamage(d: Damage): void;
  refused: string[];
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Two segments of random 1 KiB values: ~2 MiB (one PutObject) and ~7 MiB (a multipart upload of
 * 5 MiB parts, singlePutMaxBytes 5 MiB), hot in a fresh catalog.
 */
async function bed(name: string, checksum: S3ChecksumMode): Promise<Bed> {
  const hotDir = join(dir, name, 'hot');
  const catalog = Catalog.memory();
  const writer = new SegmentWriter();
  const segments: Bed['segments'] = [];
  try {
    for (const [partition, count] of [
      [0, 2_000],
      [1, 7_000],
    ] as const) {
      const values = randomBytes(count * 1024);
      const ts0 = BigInt(Date.now() - 3_600_000);
      const records: KafkaRecord[] = Array.from({ length: count }, (_, i) => ({
        offset: BigInt(i),
        timestamp: ts0 + BigInt(i),
        timestampType: 0,
        key: Buffer.from(`k${i}`),
        value: values.subarray(i * 1024, (i + 1) * 1024),
        headers: [],
      }));
      const last = BigInt(count - 1);
      const path = join(hotDir, segmentRelPath('checksum', partition, 0n, last));
      await mkdir(dirname(path), { recursive: true });
      const { meta, bytes } = await writer.write(
        path,
        records,
        {
          topic: 'checksum',
          partition,
          firstOffset: 0n,
          lastOffset: last,
          rangeStart: 0n,
          rangeEnd: last,
          minTimestamp: ts0,
          maxTimestamp: ts0 + last,
          recordCount: count,
        },
        { compression: 'zstd', rowGroupBytes: 4 * MiB },
      );
      const entry = entryFromMeta(meta, bytes, { hot: true, cold: false });
      await catalog.put(entry);
      segments.push({ entry, path, sha256: sha(readFileSync(path)) });
    }
  } finally {
    await writer.close();
  }
  expect(segments[1]!.entry.bytes).toBeGreaterThan(5 * MiB);
  const store = new S3ObjectStore({
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    prefix: `${runPrefix}/${name}`,
    forcePathStyle: true,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    partSizeBytes: 5 * MiB,
    singlePutMaxBytes: 5 * MiB,
    maxAttempts: 1,
    checksum,
  });
  let damage: Damage = 'none';
  const refused: string[] = [];
  const client = (store as unknown as { client: S3Client }).client;
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { headers: Record<string, string>; body?: unknown };
      if (damage === 'body' && Buffer.isBuffer(req.body) && req.body.length > 0) {
        const copy = Buffer.from(req.body);
        copy[copy.length >> 1] = (copy[copy.length >> 1] as number) ^ 0xff;
        req.body = copy; // one flipped byte in transit: the signature and checksum stay as sent
      }
      if (damage === 'checksum' && req.headers['x-amz-checksum-sha256'] !== undefined) {
        req.headers['x-amz-checksum-sha256'] = createHash('sha256')
          .update('not these bytes')
          .digest('base64');
      }
      try {
        return await next(args);
      } catch (err) {
        refused.push(
          `${(err as Error).name} ${(err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode}`,
        );
        throw err;
      }
    },
    { step: 'build', priority: 'low', name: 'testDamage' },
  );
  return {
    hotDir,
    catalog,
    store,
    segments,
    setDamage: (d) => (damage = d),
    refused,
  };
}

async function damagedRoundRefused(b: Bed, expectRefusal: RegExp): Promise<void> {
  const tierer = new Tierer({ catalog: b.catalog, store: b.store, hotDir: b.hotDir, config, log });
  const err = await tierer.runOnce().catch((e: unknown) => e);
  // The refusal is an object-store error: the round stops, the segments stay hot.
  expect(err).toMatchObject({ code: 'STORAGE_UNAVAILABLE', retryable: true });
  expect(b.refused.join(', ')).toMatch(expectRefusal);
  for (const s of b.segments) {
    expect(existsSync(s.path)).toBe(true);
    expect(sha(readFileSync(s.path))).toBe(s.sha256);
    const e = b.catalog.get('checksum', s.entry.partition, 0n, s.entry.lastOffset);
    expect(e).toMatchObject({ hot: true, cold: false });
    expect(await b.store.head(segmentKey(s.entry))).toBeNull();
  }
}

async function cleanRoundTiers(b: Bed): Promise<void> {
  b.setDamage('none');
  const tierer = new Tierer({ catalog: b.catalog, store: b.store, hotDir: b.hotDir, config, log });
  const r = await tierer.runOnce();
  expect(r).toMatchObject({ uploaded: 2, evicted: 2, conflicts: [] });
  for (const s of b.segments) {
    expect(existsSync(s.path)).toBe(false);
    expect(sha(await b.store.get(segmentKey(s.entry)))).toBe(s.sha256);
    const e = b.catalog.get('checksum', s.entry.partition, 0n, s.entry.lastOffset);
    expect(e).toMatchObject({ hot: false, cold: true });
  }
}

describe(`tiering uploads checked by the server (versitygw at ${s3.endpoint})`, () => {
  const beds: Bed[] = [];
  beforeAll(() => undefined);
  afterAll(async () => {
    for (const b of beds) {
      for await (const o of b.store.list('')) await b.store.delete(o.key);
      await b.store.close();
      await b.catalog.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a body damaged after it was hashed is refused (single put and multipart); nothing stored or evicted', async () => {
    const b = await bed('body', 'auto');
    beds.push(b);
    b.setDamage('body');
    // versitygw recomputes the payload's SHA-256 (and the x-amz-checksum-sha256) itself.
    await damagedRoundRefused(b, /(XAmzContentSHA256Mismatch|BadDigest) 400/);
    expect(b.store.checksumMode).toBe('sha256'); // a refusal of bad bytes is no reason for md5
    await cleanRoundTiers(b);
  });

  it('an x-amz-checksum-sha256 that does not match the bytes is BadDigest: the server checks it', async () => {
    const b = await bed('checksum', 'sha256');
    beds.push(b);
    b.setDamage('checksum');
    await damagedRoundRefused(b, /BadDigest 400/);
    await cleanRoundTiers(b);
  });

  it('storage.s3.checksum md5: a damaged body is refused as well (Content-MD5, payload hash)', async () => {
    const b = await bed('md5', 'md5');
    beds.push(b);
    b.setDamage('body');
    await damagedRoundRefused(b, /(XAmzContentSHA256Mismatch|BadDigest) 400/);
    await cleanRoundTiers(b);
  });
});
