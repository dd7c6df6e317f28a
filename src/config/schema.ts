import { z } from 'zod';
import { parseBytes, parseDurationMs } from './units.js';
import { wholeNameRegex } from '../util/topic-pattern.js';

/**
 * The configuration schema: the single source of truth for keys, types, defaults and the
 * "what is allowed" text in error messages. Every object is strict (unknown keys are errors).
 * Values may come from YAML or from environment variables (always strings), so scalar helpers
 * accept the string forms too.
 */

const int = (what: string, min = 0) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: `expected ${what}` })
      .int({ error: `expected ${what}` })
      .min(min, {
        error: `expected ${what} (>= ${min})`,
      }),
  );

const bool = () =>
  z.preprocess(
    (v) => (v === 'true' ? true : v === 'false' ? false : v),
    z.boolean({ error: 'expected true or false' }),
  );

const bytes = () =>
  z.preprocess(
    (v) => parseBytes(v) ?? v,
    z
      .number({ error: 'expected a byte size such as 134217728, "128MiB" or "1GB"' })
      .int()
      .positive({ error: 'expected a byte size > 0' }),
  );

const duration = () =>
  z.preprocess(
    (v) => parseDurationMs(v) ?? v,
    z
      .number({ error: 'expected a duration such as 1500 (ms), "30s", "10m" or "1h"' })
      .int()
      .positive({ error: 'expected a duration > 0' }),
  );

const stringList = (what: string) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0)
        : v,
    z.array(z.string({ error: `expected ${what}` }), {
      error: `expected a list of ${what} (YAML list or comma-separated string)`,
    }),
  );

const hostPort = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/, { error: 'expected host:port, e.g. 127.0.0.1:9092' });

const brokerList = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
      : v,
  z
    .array(hostPort, { error: 'expected a list of host:port strings, e.g. ["127.0.0.1:9092"]' })
    .min(1, { error: 'expected at least one broker host:port' }),
);

const regexString = z.string().refine((s) => wholeNameRegex(s) !== null, {
  error: 'expected a valid JavaScript regular expression',
});

export const compressionSchema = z.enum(['zstd', 'snappy', 'none'], {
  error: 'expected one of: zstd, snappy, none',
});

const rotationSchema = z
  .strictObject({
    maxRecords: int('a record count', 1).default(5_000_000),
    maxBytes: bytes().default(128 * 2 ** 20),
    maxAgeMs: duration().default(3_600_000),
  })
  .prefault({});

const rotationOverrideSchema = z.strictObject({
  maxRecords: int('a record count', 1).optional(),
  maxBytes: bytes().optional(),
  maxAgeMs: duration().optional(),
});

const logSchema = z
  .strictObject({
    level: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
        error: 'expected one of: trace, debug, info, warn, error, fatal, silent',
      })
      .default('info'),
    pretty: bool().default(false),
  })
  .prefault({});

/** TLS is on (`ssl`) whenever tls.* is used: a set key without it is an error. */
function requireSslForTls(
  k: { ssl: boolean; tls: { verifyHostname: boolean } & Record<string, unknown> },
  ctx: z.RefinementCtx,
): void {
  const set = Object.entries(k.tls).filter(([n, v]) => n !== 'verifyHostname' && v !== undefined);
  if (!k.ssl && (set.length > 0 || !k.tls.verifyHostname)) {
    ctx.addIssue({
      code: 'custom',
      path: ['ssl'],
      input: k.ssl,
      message: 'kafka.tls.* is set: set kafka.ssl: true to use TLS',
    });
  }
}

const kafkaFields = {
  clientId: z.string().min(1).default('kafka-archive'),
  ssl: bool().default(false),
  tls: z
    .strictObject({
      caFile: z.string().min(1).optional(),
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
      keyPassword: z.string().min(1).optional(),
      verifyHostname: bool().default(true),
    })
    .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
      error: 'set both certFile and keyFile (a client certificate), or neither',
    })
    .prefault({}),
  sasl: z
    .strictObject({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512'], {
        error: 'expected one of: plain, scram-sha-256, scram-sha-512',
      }),
      username: z.string({ error: 'expected a string' }),
      password: z.string({ error: 'expected a string' }),
    })
    .optional(),
  connectionTimeoutMs: duration().default(10_000),
  requestTimeoutMs: duration().default(30_000),
};

const kafkaSchema = z
  .strictObject({
    /** The Kafka client library behind src/kafka's interface. */
    client: z
      .enum(['kafkajs', 'platformatic'], { error: 'expected one of: kafkajs, platformatic' })
      .default('kafkajs'),
    brokers: brokerList.default(['127.0.0.1:9092']),
    /**
     * Fetch sizes of this process's consumers, in wire bytes (compressed batches decode to
     * more). Both clients decode a whole response at once on the event loop, so the response
     * is kept small: 4 MiB measured faster than 8 and 16 (bench/RESULTS.md).
     */
    fetch: z
      .strictObject({
        maxBytes: bytes().default(4 * 2 ** 20),
        maxBytesPerPartition: bytes().default(2 ** 20),
      })
      .prefault({}),
    ...kafkaFields,
  })
  .superRefine(requireSslForTls)
  .prefault({});

const produceCompression = z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd'], {
  error: 'expected one of: none, gzip, snappy, lz4, zstd',
});

/**
 * Restore: where job state lives, and the target cluster. `target` is shaped like `kafka`
 * (brokers required there); without it the target is the source cluster (`kafka.*`).
 */
const restoreSchema = z
  .strictObject({
    stateDir: z.string().min(1, { error: 'expected a directory path' }).optional(),
    target: z
      .strictObject({
        brokers: brokerList,
        ...kafkaFields,
      })
      .superRefine(requireSslForTls)
      .optional(),
    compression: produceCompression.default('lz4'),
    concurrency: int('a number of partitions restored at once', 1).default(4),
    batchBytes: bytes().default(16 * 2 ** 20),
    batchRecords: int('a record count', 1).default(50_000),
    transactionTimeoutMs: duration().default(60_000),
    progressIntervalMs: duration().default(10_000),
  })
  .prefault({});

const archiverSchema = z
  .strictObject({
    groupId: z.string().min(1).default('kafka-archive'),
    topics: stringList('topic names').default([]),
    topicPatterns: stringList('regular expressions').pipe(z.array(regexString)).default([]),
    /** Default `<dataDir>/hot`. */
    hotDir: z.string().min(1).optional(),
    compression: compressionSchema.default('zstd'),
    rowGroupBytes: bytes().default(4 * 2 ** 20),
    rotation: rotationSchema,
    topicOverrides: z
      .record(z.string(), z.strictObject({ rotation: rotationOverrideSchema.optional() }))
      .default({}),
    flushIntervalMs: duration().default(60_000),
    sessionTimeoutMs: duration().default(30_000),
    maxBufferedBytes: bytes().default(512 * 2 ** 20),
    metadataRefreshMs: duration().default(30_000),
    sealRetryInitialMs: duration().default(1_000),
    sealRetryMaxMs: duration().default(60_000),
    /** Consumer groups whose positions are archived: names or whole-name regexes. */
    groups: stringList('consumer-group names or regular expressions')
      .pipe(z.array(regexString))
      .default([]),
    groupsIntervalMs: duration().default(60_000),
  })
  .prefault({});

const MiB = 2 ** 20;

/** An S3 key prefix: path segments separated by "/", none empty or starting with ".". */
const s3Prefix = z.string().refine(
  (s) => {
    const trimmed = s.replace(/^\/+|\/+$/g, '');
    if (trimmed === '') return true;
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\\]/.test(trimmed)) return false;
    return trimmed.split('/').every((seg) => seg.length > 0 && !seg.startsWith('.'));
  },
  {
    error:
      'expected a key prefix such as "archive/" (segments separated by "/", none empty or starting with ".")',
  },
);

const storageSchema = z
  .strictObject({
    type: z.enum(['local', 's3'], { error: 'expected one of: local, s3' }).default('local'),
    local: z
      .strictObject({
        /** Default `<dataDir>/cold`. */
        dir: z.string().min(1).optional(),
      })
      .prefault({}),
    s3: z
      .strictObject({
        endpoint: z
          .url({
            protocol: /^https?$/,
            error: 'expected an http(s) URL, e.g. https://s3.eu-west-1.amazonaws.com',
          })
          .optional(),
        /** PEM CA bundle for an https endpoint signed by a private CA (default: system CAs). */
        caFile: z.string().min(1).optional(),
        region: z.string().min(1).default('us-east-1'),
        bucket: z.string().min(1, { error: 'expected a bucket name' }).optional(),
        prefix: s3Prefix.default(''),
        forcePathStyle: bool().default(true),
        accessKeyId: z.string().min(1).optional(),
        secretAccessKey: z.string().min(1).optional(),
        serverSideEncryption: z
          .enum(['AES256', 'aws:kms'], { error: 'expected one of: AES256, aws:kms' })
          .optional(),
        sseKmsKeyId: z.string().min(1).optional(),
        partSizeBytes: bytes()
          .refine((n) => n >= 5 * MiB, {
            error: 'expected at least 5MiB (the S3 minimum part size)',
          })
          .refine((n) => n <= 5 * 2 ** 30, {
            error: 'expected at most 5GiB (the S3 maximum part size)',
          })
          .default(16 * MiB),
        singlePutMaxBytes: bytes()
          .refine((n) => n <= 5 * 2 ** 30, {
            error: 'expected at most 5GiB (the S3 maximum single PutObject)',
          })
          .default(64 * MiB),
        /**
         * How the server checks each upload's bytes: sha256 (x-amz-checksum-sha256, the hash the
         * request is signed with: one hash on our side), md5 (Content-MD5, a second hash), auto
         * (sha256, falling back to md5 once when the server refuses or ignores it).
         */
        checksum: z
          .enum(['auto', 'sha256', 'md5'], { error: 'expected one of: auto, sha256, md5' })
          .default('auto'),
      })
      .prefault({}),
  })
  .superRefine((s, ctx) => {
    if (s.type === 's3' && s.s3.bucket === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['s3', 'bucket'],
        input: undefined,
        message: 'required when storage.type is s3',
      });
    }
    if ((s.s3.accessKeyId === undefined) !== (s.s3.secretAccessKey === undefined)) {
      const missing = s.s3.accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey';
      ctx.addIssue({
        code: 'custom',
        path: ['s3', missing],
        input: undefined,
        message:
          'set both storage.s3.accessKeyId and storage.s3.secretAccessKey, or neither (then the AWS default credential chain applies)',
      });
    }
    if (s.s3.sseKmsKeyId !== undefined && s.s3.serverSideEncryption !== 'aws:kms') {
      ctx.addIssue({
        code: 'custom',
        path: ['s3', 'sseKmsKeyId'],
        input: s.s3.sseKmsKeyId,
        message: 'sseKmsKeyId needs storage.s3.serverSideEncryption: aws:kms',
      });
    }
  })
  .prefault({});

const catalogSchema = z
  .strictObject({
    /** Default `<dataDir>/catalog`. */
    dir: z.string().min(1).optional(),
  })
  .prefault({});

/** A percentage 0-100 (exclusive of 0): 85 or "85%". */
const percent = () =>
  z.preprocess(
    (v) => {
      const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(v) : null;
      return m ? Number(m[1]) : v;
    },
    z
      .number({ error: 'expected a percentage such as 85 or "85%"' })
      .gt(0, { error: 'expected a percentage > 0' })
      .max(100, { error: 'expected a percentage <= 100' }),
  );

/** A disk budget: bytes ("500GiB", 536870912000) or a percentage of the filesystem ("90%"). */
const budget = () =>
  z.preprocess(
    (v) => {
      const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v) : null;
      if (m) return { percent: Number(m[1]) };
      const b = parseBytes(v);
      return b !== undefined ? { bytes: b } : v;
    },
    z.union(
      [
        z.strictObject({
          percent: z
            .number()
            .gt(0, { error: 'expected a percentage > 0' })
            .max(100, { error: 'expected a percentage <= 100' }),
        }),
        z.strictObject({
          bytes: z.number().int().positive({ error: 'expected a byte size > 0' }),
        }),
      ],
      {
        error:
          'expected a byte size such as "500GiB" or a percentage of the filesystem such as "90%"',
      },
    ),
  );

const watermarksOrdered = (w: { low?: number; high?: number; flood?: number }) =>
  w.low === undefined || w.high === undefined || w.flood === undefined
    ? true
    : w.low < w.high && w.high < w.flood;
const watermarksError = { error: 'expected low < high < flood' };

const diskSchema = z
  .strictObject({
    watermarks: z
      .strictObject({
        low: percent().default(85),
        high: percent().default(90),
        flood: percent().default(95),
      })
      .refine(watermarksOrdered, watermarksError)
      .prefault({}),
    monitor: z
      .strictObject({
        enabled: bool().default(true),
        intervalMs: duration().default(10_000),
      })
      .prefault({}),
    reserve: z
      .strictObject({
        count: int('a number of reserve files').default(2),
        size: bytes().default(256 * 2 ** 20),
      })
      .prefault({}),
    hot: z
      .strictObject({
        budget: budget().default({ percent: 100 }),
        reserveDir: z.string().min(1).optional(),
      })
      .prefault({}),
    kafka: z
      .strictObject({
        serverProperties: z.string().min(1).optional(),
        logDirs: stringList('directories').default([]),
        budget: budget().default({ percent: 100 }),
      })
      .prefault({}),
    /**
     * The disk fleet (`disk agent` on each broker host publishes to a compacted topic; the
     * service and `disk report --fleet` read it).
     */
    fleet: z
      .strictObject({
        /** The service (`run`) reads the fleet topic: gauges and GET /api/disk/fleet. */
        enabled: bool().default(false),
        topic: z
          .string()
          .regex(/^[a-zA-Z0-9._-]{1,249}$/, {
            error: 'expected a Kafka topic name (letters, digits, . _ -; at most 249)',
          })
          .default('_kafka-archive.disk'),
        intervalMs: duration().default(60_000),
        /** Default: node.id, else broker.id, of disk.kafka.serverProperties. */
        brokerId: int('a broker id').optional(),
        /** Default 3 × intervalMs. */
        staleAfterMs: duration().optional(),
      })
      .prefault({}),
    /** Default `<dataDir>/disk-history`. */
    historyDir: z.string().min(1).optional(),
    historyMaxAgeMs: duration().default(30 * 86_400_000),
    reportSchedule: z
      .string()
      .regex(/^\s*\S+(\s+\S+){4,5}\s*$/, {
        error: 'expected a cron expression of 5 or 6 fields, e.g. "0 * * * *" (UTC)',
      })
      .default('0 * * * *'),
    volumes: z
      .array(
        z.strictObject({
          name: z
            .string()
            .regex(/^[a-zA-Z0-9._-]+$/, { error: 'expected a name of letters, digits, . _ -' }),
          path: z.string().min(1),
          kind: z
            .enum(['kafka-log-dir', 'other'], { error: 'expected one of: kafka-log-dir, other' })
            .default('other'),
          budget: budget().default({ percent: 100 }),
          watermarks: z
            .strictObject({
              low: percent().optional(),
              high: percent().optional(),
              flood: percent().optional(),
            })
            .optional(),
          reserve: z
            .strictObject({
              count: int('a number of reserve files').optional(),
              size: bytes().optional(),
              dir: z.string().min(1).optional(),
            })
            .optional(),
        }),
      )
      .default([]),
  })
  .prefault({});

const tieringSchema = z
  .strictObject({
    enabled: bool().default(true),
    intervalMs: duration().default(60_000),
    minAgeMs: duration().default(3_600_000),
    evictHot: bool().default(true),
    concurrency: int('a number of parallel uploads', 1).default(2),
    maxBytesPerSecond: z
      .preprocess(
        (v) => parseBytes(v) ?? v,
        z
          .number({
            error: 'expected a byte rate such as "50MiB" (per second), or 0 for unlimited',
          })
          .int()
          .min(0, { error: 'expected a byte rate >= 0' }),
      )
      .default(0),
    retryInitialMs: duration().default(1_000),
    retryMaxMs: duration().default(60_000),
    /** Keep a segment index per partition in the bucket (fast `catalog rebuild`). */
    segmentIndex: bool().default(true),
  })
  .prefault({});

/** API bearer tokens: long random strings (`openssl rand -hex 32`), never short passwords. */
const tokenList = stringList('tokens').pipe(
  z.array(
    z
      .string()
      .min(16, { error: 'expected tokens of at least 16 characters (e.g. `openssl rand -hex 32`)' })
      .regex(/^[\x21-\x7e]+$/, { error: 'expected tokens of printable ASCII without spaces' }),
  ),
);

/** Addresses that only this host reaches. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const serverSchema = z
  .strictObject({
    enabled: bool().default(true),
    host: z.string().min(1, { error: 'expected a host name or IP address' }).default('127.0.0.1'),
    port: int('a TCP port (0 = any free port)')
      .refine((n) => n <= 65_535, { error: 'expected a TCP port 0-65535 (0 = any free port)' })
      .default(9464),
    /** Serve without tokens on an address other hosts reach (behind a proxy that authenticates). */
    allowUnauthenticated: bool().default(false),
    auth: z
      .strictObject({
        /** Tokens of role `read`: queries, reports, metrics. */
        readTokens: tokenList.default([]),
        /** Tokens of role `admin`: everything `read` may, and actions (tiering now). */
        adminTokens: tokenList.default([]),
        /** /metrics without a token (for scrapers that cannot send one). */
        openMetrics: bool().default(false),
      })
      .prefault({}),
    tls: z
      .strictObject({
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
      })
      .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
        error: 'set both certFile and keyFile (HTTPS), or neither (HTTP)',
      })
      .prefault({}),
  })
  .superRefine((s, ctx) => {
    const tokens = s.auth.readTokens.length + s.auth.adminTokens.length;
    if (s.enabled && tokens === 0 && !isLoopbackHost(s.host) && !s.allowUnauthenticated) {
      ctx.addIssue({
        code: 'custom',
        path: ['host'],
        input: s.host,
        message:
          'the API would serve archived records to the network without authentication: set server.auth.readTokens / server.auth.adminTokens, or server.allowUnauthenticated: true (behind a proxy that authenticates), or a loopback server.host',
      });
    }
  })
  .prefault({});

/** The one data root: every directory the service writes defaults to a place under it. */
export const DEFAULT_DATA_DIR = './kafka-archive-data';

const under = (root: string, name: string) => `${root.replace(/\/+$/, '') || '/'}/${name}`;

export const configSchema = z
  .strictObject({
    /** Where the service writes: the hot tier, catalog, local cold tier and disk history. */
    dataDir: z.string().min(1, { error: 'expected a directory path' }).default(DEFAULT_DATA_DIR),
    log: logSchema,
    kafka: kafkaSchema,
    archiver: archiverSchema,
    catalog: catalogSchema,
    storage: storageSchema,
    tiering: tieringSchema,
    disk: diskSchema,
    restore: restoreSchema,
    /** The HTTP server of `run`: health, readiness, Prometheus metrics and the read API. */
    server: serverSchema,
  })
  // Directories left unset go under dataDir; an explicit key still wins.
  .transform((c) => ({
    ...c,
    archiver: { ...c.archiver, hotDir: c.archiver.hotDir ?? under(c.dataDir, 'hot') },
    catalog: { ...c.catalog, dir: c.catalog.dir ?? under(c.dataDir, 'catalog') },
    storage: {
      ...c.storage,
      local: { ...c.storage.local, dir: c.storage.local.dir ?? under(c.dataDir, 'cold') },
    },
    disk: { ...c.disk, historyDir: c.disk.historyDir ?? under(c.dataDir, 'disk-history') },
  }));

export type Config = z.infer<typeof configSchema>;
export type ArchiverConfig = Config['archiver'];
export type KafkaConfig = Config['kafka'];
export type KafkaClientKind = KafkaConfig['client'];
export type RotationPolicy = z.infer<typeof rotationSchema>;
export type Compression = z.infer<typeof compressionSchema>;
export type StorageConfig = Config['storage'];
export type S3StorageConfig = StorageConfig['s3'];
export type TieringConfig = Config['tiering'];
export type RestoreConfig = Config['restore'];
export type ProduceCompressionName = z.infer<typeof produceCompression>;
