/**
 * Tiering upload throughput: the product's Tierer next to raw S3 calls on the same bytes, in the
 * same run, against a real S3 server (default: the versitygw of the test setup).
 *
 *   1. N segment files (default 24 x ~32 MiB: random 1 KiB values, so zstd leaves them ~32 MiB)
 *      are written into a temp hot dir with the product's SegmentWriter and registered in a
 *      Catalog.memory() as hot.
 *   2. Each round (default 5, method order rotated per round) measures, over the same files, at
 *      the same concurrency as tiering (default 2), all with requestChecksumCalculation
 *      WHEN_REQUIRED and path-style addressing:
 *        raw PutObject     @aws-sdk/client-s3 PutObjectCommand of readFileSync(file), one request
 *        raw multipart     CreateMultipartUpload + UploadPart (16 MiB parts, in sequence, as the
 *                          product does) + CompleteMultipartUpload
 *        product           Tierer.runOnce({olderThanMs: 0}) with S3ObjectStore (evictHot false,
 *                          storage.s3.checksum --checksum, default auto): LIST of the partition,
 *                          one read of the file into one buffer and one SHA-256 (which signs the
 *                          request and goes as x-amz-checksum-sha256; md5 adds Content-MD5),
 *                          put-if-absent PutObject (multipart above singlePutMaxBytes), the
 *                          server's echo as verification (HEAD + ranged read-back only when the
 *                          server vouched for nothing), catalog mark + fsync, LIST after the put
 *        raw GetObject     whole-object GetObject of the raw-PutObject objects (what the product's
 *                          verification read-back costs at best)
 *      MB/s = file bytes / wall time (1 MB = 10^6 bytes). Every file is read from the page cache.
 *   3. Everything written under the run's unique key prefix is deleted at the end.
 *
 *   npx tsx bench/tiering.ts [--segments 24] [--records-per-segment 32500] [--value-bytes 1024]
 *     [--rounds 5] [--concurrency 2] [--part-mib 16] [--endpoint http://127.0.0.1:35265]
 *     [--bucket kafka-archive-test] [--checksum auto|sha256|md5] [--keep]
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import {
  Catalog,
  createLogger,
  entryFromMeta,
  forEachLimit,
  S3ObjectStore,
  SegmentWriter,
  segmentRelPath,
  Tierer,
  type KafkaRecord,
  type ListedObject,
  type ObjectHead,
  type ObjectStore,
  type PutBody,
  type PutOptions,
  type PutResult,
  type S3ChecksumMode,
  type TieringConfig,
} from '../src/index.js';
import { fmt, intFlag, MB, MiB, parseFlags, table } from './lib/util.js';

const flags = parseFlags(process.argv.slice(2), {
  segments: '24',
  'records-per-segment': '32500',
  'value-bytes': '1024',
  rounds: '5',
  concurrency: '2',
  'part-mib': '16',
  endpoint: process.env.S3_ENDPOINT ?? 'http://127.0.0.1:35265',
  bucket: process.env.S3_BUCKET ?? 'kafka-archive-test',
  region: 'us-east-1',
  'access-key': process.env.S3_ACCESS_KEY ?? 'test-access-key',
  'secret-key': process.env.S3_SECRET_KEY ?? 'test-secret-key',
  checksum: 'auto',
  keep: false,
});
const SEGMENTS = intFlag(flags, 'segments');
const RECORDS = intFlag(flags, 'records-per-segment');
const VALUE_BYTES = intFlag(flags, 'value-bytes');
const ROUNDS = intFlag(flags, 'rounds');
const CONCURRENCY = intFlag(flags, 'concurrency');
const PART = intFlag(flags, 'part-mib') * MiB;
const ENDPOINT = String(flags.endpoint);
const BUCKET = String(flags.bucket);
const REGION = String(flags.region);
const ACCESS_KEY = String(flags['access-key']);
const SECRET_KEY = String(flags['secret-key']);
const CHECKSUM = String(flags.checksum) as S3ChecksumMode;
if (!['auto', 'sha256', 'md5'].includes(CHECKSUM)) {
  throw new Error(
    `--checksum: got ${JSON.stringify(CHECKSUM)}: expected one of: auto, sha256, md5`,
  );
}
const TOPIC = 'bench-tiering';
const RUN_PREFIX = `bench-tiering-${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}/`;

const log = createLogger({ level: 'silent' });
const s3 = new S3Client({
  endpoint: ENDPOINT,
  region: REGION,
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
  credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
});

interface Segment {
  rel: string;
  path: string;
  bytes: number;
  entry: ReturnType<typeof entryFromMeta>;
}

// ---- 1. segments ------------------------------------------------------------------------------

async function writeSegments(hotDir: string): Promise<Segment[]> {
  const writer = new SegmentWriter();
  const out: Segment[] = [];
  const t0 = performance.now();
  const ts0 = BigInt(Date.now() - 3_600_000);
  try {
    for (let s = 0; s < SEGMENTS; s++) {
      const partition = s % 4;
      const first = BigInt(Math.floor(s / 4) * RECORDS);
      const values = randomBytes(RECORDS * VALUE_BYTES);
      const records: KafkaRecord[] = [];
      for (let i = 0; i < RECORDS; i++) {
        records.push({
          offset: first + BigInt(i),
          timestamp: ts0 + BigInt(i),
          timestampType: 0,
          key: Buffer.from(`key-${i % 1000}`),
          value: values.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES),
          headers: [],
        });
      }
      const last = first + BigInt(RECORDS - 1);
      const rel = segmentRelPath(TOPIC, partition, first, last);
      const path = join(hotDir, rel);
      await mkdir(dirname(path), { recursive: true });
      const { meta, bytes } = await writer.write(
        path,
        records,
        {
          topic: TOPIC,
          partition,
          firstOffset: first,
          lastOffset: last,
          rangeStart: first,
          rangeEnd: last,
          minTimestamp: ts0,
          maxTimestamp: ts0 + BigInt(RECORDS - 1),
          recordCount: RECORDS,
        },
        { compression: 'zstd', rowGroupBytes: 4 * MiB },
      );
      out.push({ rel, path, bytes, entry: entryFromMeta(meta, bytes, { hot: true, cold: false }) });
    }
  } finally {
    await writer.close();
  }
  const total = out.reduce((a, s) => a + s.bytes, 0);
  console.error(
    `wrote ${out.length} segments, ${fmt(total / MiB)} MiB (${fmt(total / out.length / MiB, 2)} MiB each) in ${fmt((performance.now() - t0) / 1000)} s`,
  );
  return out;
}

// ---- 2. the methods ---------------------------------------------------------------------------

async function rawPut(segs: Segment[], prefix: string): Promise<void> {
  await forEachLimit(segs, CONCURRENCY, async (s) => {
    const Body = readFileSync(s.path);
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: prefix + s.rel,
        Body,
        ContentLength: Body.length,
        ContentType: 'application/octet-stream',
      }),
    );
  });
}

async function rawMultipart(segs: Segment[], prefix: string): Promise<void> {
  await forEachLimit(segs, CONCURRENCY, async (s) => {
    const Key = prefix + s.rel;
    const buf = readFileSync(s.path);
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        ContentType: 'application/octet-stream',
      }),
    );
    if (UploadId === undefined) throw new Error('no UploadId');
    const Parts: CompletedPart[] = [];
    for (let off = 0, n = 1; off < buf.length; off += PART, n++) {
      const Body = buf.subarray(off, off + PART);
      const r = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key,
          UploadId,
          PartNumber: n,
          Body,
          ContentLength: Body.length,
        }),
      );
      Parts.push({ ETag: r.ETag, PartNumber: n });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: { Parts },
      }),
    );
  });
}

async function rawGet(segs: Segment[], prefix: string): Promise<void> {
  await forEachLimit(segs, CONCURRENCY, async (s) => {
    const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: prefix + s.rel }));
    const bytes = await r.Body!.transformToByteArray();
    if (bytes.byteLength !== s.bytes) {
      throw new Error(`GET ${s.rel}: ${bytes.byteLength} bytes, expected ${s.bytes}`);
    }
  });
}

/** Delegates to the product's store and sums the time spent in each call (over all workers). */
class TimedStore implements ObjectStore {
  readonly ms: Record<'put' | 'head' | 'getRange' | 'other', number> = {
    put: 0,
    head: 0,
    getRange: 0,
    other: 0,
  };
  constructor(private readonly inner: ObjectStore) {}
  get description(): string {
    return this.inner.description;
  }
  private async timed<T>(op: keyof TimedStore['ms'], f: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      this.ms[op] += performance.now() - t0;
    }
  }
  put(key: string, body: PutBody, opts?: PutOptions): Promise<PutResult> {
    return this.timed('put', () => this.inner.put(key, body, opts));
  }
  get(key: string): Promise<Buffer> {
    return this.timed('other', () => this.inner.get(key));
  }
  getRange(key: string, start: number, endInclusive: number): Promise<Buffer> {
    return this.timed('getRange', () => this.inner.getRange(key, start, endInclusive));
  }
  head(key: string): Promise<ObjectHead | null> {
    return this.timed('head', () => this.inner.head(key));
  }
  list(prefix: string): AsyncIterable<ListedObject> {
    return this.inner.list(prefix);
  }
  listDirs(prefix: string): AsyncIterable<string> {
    return this.inner.listDirs(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  checkAccess(): Promise<void> {
    return this.inner.checkAccess();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface ProductRun {
  store: TimedStore;
  wallMs: number;
}

async function product(segs: Segment[], hotDir: string, prefix: string): Promise<ProductRun> {
  const catalog = Catalog.memory();
  for (const s of segs) await catalog.put(s.entry);
  const store = new TimedStore(
    new S3ObjectStore({
      endpoint: ENDPOINT,
      region: REGION,
      bucket: BUCKET,
      prefix,
      forcePathStyle: true,
      accessKeyId: ACCESS_KEY,
      secretAccessKey: SECRET_KEY,
      partSizeBytes: PART,
      checksum: CHECKSUM,
      log,
    }),
  );
  const config: TieringConfig = {
    enabled: true,
    intervalMs: 60_000,
    minAgeMs: 0,
    evictHot: false,
    concurrency: CONCURRENCY,
    maxBytesPerSecond: 0,
    retryInitialMs: 1_000,
    retryMaxMs: 60_000,
    segmentIndex: false,
  };
  const tierer = new Tierer({ catalog, store, hotDir, config, log });
  try {
    const t0 = performance.now();
    const r = await tierer.runOnce({ olderThanMs: 0 });
    const wallMs = performance.now() - t0;
    const want = segs.reduce((a, s) => a + s.bytes, 0);
    if (r.uploaded !== segs.length || r.bytes !== want || r.conflicts.length > 0) {
      throw new Error(
        `tiering round uploaded ${r.uploaded}/${segs.length} (${r.bytes}/${want} bytes), conflicts ${r.conflicts.length}`,
      );
    }
    for (const s of segs) {
      const e = catalog.get(TOPIC, s.entry.partition, s.entry.firstOffset, s.entry.lastOffset);
      if (e?.cold !== true || e.hot !== true) throw new Error(`${s.rel} not marked cold + hot`);
    }
    return { store, wallMs };
  } finally {
    await store.close();
    await catalog.close();
  }
}

// ---- cleanup ----------------------------------------------------------------------------------

async function deletePrefix(prefix: string): Promise<number> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken }),
    );
    for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
    ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (ContinuationToken !== undefined);
  await forEachLimit(keys, 8, async (Key) => {
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key }));
  });
  const mpu = await s3
    .send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: prefix }))
    .catch(() => null);
  for (const u of mpu?.Uploads ?? []) {
    if (u.Key === undefined || u.UploadId === undefined) continue;
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: u.Key, UploadId: u.UploadId }))
      .catch(() => undefined);
  }
  return keys.length;
}

// ---- main -------------------------------------------------------------------------------------

type Method = 'put' | 'multipart' | 'product' | 'get';
const ORDER: Method[] = ['put', 'multipart', 'product', 'get'];
const LABEL: Record<Method, string> = {
  put: 'raw PutObject (1 request/file)',
  multipart: `raw multipart (${PART / MiB} MiB parts)`,
  product: `product: Tierer.runOnce (upload + verify, checksum ${CHECKSUM})`,
  get: 'raw GetObject (read-back baseline)',
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const hotDir = await mkdtemp(join(tmpdir(), 'bench-tiering-'));
  console.error(
    `endpoint ${ENDPOINT} bucket ${BUCKET} prefix ${RUN_PREFIX} hot dir ${hotDir}; ${availableParallelism()} CPUs, node ${process.version}`,
  );
  const results: Record<Method, number[]> = { put: [], multipart: [], product: [], get: [] };
  const shares: Array<Record<string, number>> = [];
  const tStart = performance.now();
  try {
    const segs = await writeSegments(hotDir);
    const total = segs.reduce((a, s) => a + s.bytes, 0);
    // Bring every file into the page cache (and check they hash) before any timing.
    for (const s of segs) createHash('sha256').update(readFileSync(s.path)).digest();
    for (let round = 0; round < ROUNDS; round++) {
      const base = `${RUN_PREFIX}r${round}/`;
      // Rotate the uploads so none always runs first; GET reads the raw-put objects, so last.
      const ups: Method[] = ['put', 'multipart', 'product'];
      const run: Method[] = [...ups.slice(round % 3), ...ups.slice(0, round % 3), 'get'];
      for (const m of run) {
        const t0 = performance.now();
        let wall: number;
        if (m === 'put') {
          await rawPut(segs, `${base}put/`);
          wall = performance.now() - t0;
        } else if (m === 'multipart') {
          await rawMultipart(segs, `${base}mpu/`);
          wall = performance.now() - t0;
        } else if (m === 'get') {
          await rawGet(segs, `${base}put/`);
          wall = performance.now() - t0;
        } else {
          const p = await product(segs, hotDir, `${base}product`);
          wall = p.wallMs;
          const busy = CONCURRENCY * wall;
          const { put, head, getRange } = p.store.ms;
          shares.push({
            put: put / busy,
            head: head / busy,
            getRange: getRange / busy,
            rest: Math.max(0, 1 - (put + head + getRange) / busy),
          });
        }
        const mbps = total / MB / (wall / 1000);
        results[m].push(mbps);
        console.error(
          `round ${round + 1}/${ROUNDS} ${m.padEnd(9)} ${fmt(mbps)} MB/s (load average ${fmt(loadavg()[0] as number, 2)})`,
        );
      }
      const n = await deletePrefix(base);
      console.error(`round ${round + 1}: deleted ${n} objects`);
    }

    const putMed = median(results.put);
    const rows = ORDER.map((m) => {
      const xs = results[m];
      return [
        LABEL[m],
        fmt(median(xs)),
        `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`,
        `${fmt(median(xs) / putMed, 2)}x`,
      ];
    });
    console.log(
      `\n${segs.length} segments, ${fmt(total / MiB)} MiB (${fmt(total / segs.length / MiB, 2)} MiB each, ${RECORDS} records of ${VALUE_BYTES} B random values, zstd), concurrency ${CONCURRENCY}, ${ROUNDS} rounds; MB/s = 10^6 B/s of file bytes, median of rounds\n`,
    );
    console.log(table(['method', 'MB/s (median)', 'min–max', 'vs raw PutObject'], rows));
    // The same ratio per round (product and raw PutObject minutes apart, not the whole run):
    // steadier on a machine whose load changes during the run.
    const perRound = results.product.map((p, i) => p / (results.put[i] as number));
    console.log(
      `\nproduct / raw PutObject per round: ${perRound.map((x) => `${fmt(x, 2)}x`).join(', ')}; median ${fmt(median(perRound), 2)}x`,
    );
    const avg = (k: string) => shares.reduce((a, s) => a + (s[k] ?? 0), 0) / shares.length;
    console.log(
      `\nproduct worker time (${CONCURRENCY} workers x wall), mean over rounds: put ${fmt(100 * avg('put'), 0)}%, HEAD ${fmt(100 * avg('head'), 0)}%, ranged read-back ${fmt(100 * avg('getRange'), 0)}%, rest (local SHA-256, catalog, scheduling) ${fmt(100 * avg('rest'), 0)}%`,
    );
    const l = loadavg();
    console.log(
      `load average at the end (1/5/15 min): ${l.map((x) => fmt(x, 2)).join(' / ')} on ${availableParallelism()} CPUs`,
    );
    console.log(`total bench time ${fmt((performance.now() - tStart) / 1000)} s`);
  } finally {
    if (flags.keep !== true) {
      const n = await deletePrefix(RUN_PREFIX).catch((err: unknown) => {
        console.error(`cleanup of ${RUN_PREFIX} failed: ${String(err)}`);
        return -1;
      });
      if (n > 0) console.error(`deleted ${n} leftover objects under ${RUN_PREFIX}`);
      await rm(hotDir, { recursive: true, force: true });
    }
    s3.destroy();
  }
}

await main();
