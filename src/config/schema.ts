import { z } from 'zod';
import { parseBytes, parseDurationMs } from './units.js';

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

const regexString = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected a valid JavaScript regular expression' },
);

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

const kafkaSchema = z
  .strictObject({
    brokers: brokerList.default(['127.0.0.1:9092']),
    clientId: z.string().min(1).default('kafka-archive'),
    ssl: bool().default(false),
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
  })
  .prefault({});

const archiverSchema = z
  .strictObject({
    groupId: z.string().min(1).default('kafka-archive'),
    topics: stringList('topic names').default([]),
    topicPatterns: stringList('regular expressions').pipe(z.array(regexString)).default([]),
    hotDir: z.string().min(1).default('./kafka-archive-data/hot'),
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
  })
  .prefault({});

export const configSchema = z.strictObject({
  log: logSchema,
  kafka: kafkaSchema,
  archiver: archiverSchema,
});

export type Config = z.infer<typeof configSchema>;
export type ArchiverConfig = Config['archiver'];
export type KafkaConfig = Config['kafka'];
export type RotationPolicy = z.infer<typeof rotationSchema>;
export type Compression = z.infer<typeof compressionSchema>;
