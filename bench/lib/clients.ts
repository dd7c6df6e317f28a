/**
 * Candidate Kafka clients for bench/kafka-clients.ts, installed outside the product's
 * package.json: `npm install --prefix <dir> <pkg>@<exact>` into a scratch directory
 * (default .cache/bench-clients) the first time they are needed, then loaded from there with
 * createRequire / dynamic import. Only the narrow slices of their APIs that the benchmark uses
 * are typed here (the packages' own types live in that directory, which typecheck does not see).
 *
 * @confluentinc/kafka-javascript downloads a prebuilt binary from GitHub and otherwise builds
 * from source with node-gyp; here it is built with CKJS_LINKING=dynamic (its bundled librdkafka
 * is compiled as a shared library against the system's OpenSSL, zlib and libzstd; the static
 * default would download those sources) and npm_config_nodedir pointing at the running Node's
 * own headers (node-gyp would otherwise download them from nodejs.org).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

export const PLATFORMATIC = { name: '@platformatic/kafka', version: '2.12.1' } as const;
export const CONFLUENT = { name: '@confluentinc/kafka-javascript', version: '1.10.1' } as const;

const ROOT = resolve(import.meta.dirname, '../..');
export const DEFAULT_CLIENTS_DIR = join(ROOT, '.cache/bench-clients');

export function clientsDir(): string {
  return resolve(process.env.BENCH_CLIENTS_DIR ?? DEFAULT_CLIENTS_DIR);
}

function installedVersion(dir: string, name: string): string | null {
  try {
    const pkg = JSON.parse(
      readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8'),
    ) as { version: string };
    return pkg.version;
  } catch {
    return null;
  }
}

export interface InstallReport {
  name: string;
  version: string;
  /** Seconds the npm install took in this run; null when it was already installed. */
  installSeconds: number | null;
  ok: boolean;
  error?: string;
}

/**
 * Installs `pkg@version` into the clients directory unless that exact version is there.
 * For the confluent client a missing native binding counts as not installed.
 */
export function ensureClient(pkg: { name: string; version: string }): InstallReport {
  const dir = clientsDir();
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'package.json'))) {
    writeFileSync(join(dir, 'package.json'), '{"name":"bench-clients","private":true}\n');
  }
  const nativeOk =
    pkg.name !== CONFLUENT.name ||
    existsSync(
      join(dir, 'node_modules', pkg.name, 'build/Release/confluent-kafka-javascript.node'),
    );
  if (installedVersion(dir, pkg.name) === pkg.version && nativeOk) {
    return { ...pkg, installSeconds: null, ok: true };
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (pkg.name === CONFLUENT.name) {
    env.CKJS_LINKING = 'dynamic';
    // The running Node's own include/node: node-gyp does not have to download headers.
    env.npm_config_nodedir = resolve(dirname(process.execPath), '..');
  }
  console.log(`installing ${pkg.name}@${pkg.version} into ${dir} ...`);
  const t0 = performance.now();
  try {
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        dir,
        '--no-audit',
        '--no-fund',
        '--save-exact',
        '--foreground-scripts',
        `${pkg.name}@${pkg.version}`,
      ],
      { env, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    return { ...pkg, installSeconds: (performance.now() - t0) / 1000, ok: true };
  } catch (err) {
    return {
      ...pkg,
      installSeconds: (performance.now() - t0) / 1000,
      ok: false,
      error: (err as Error).message.slice(0, 2000),
    };
  }
}

// ---- @platformatic/kafka (the slices used) -----------------------------------------------------

export interface PlatMessage {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null | undefined;
  value: Buffer | null | undefined;
  headers: Map<Buffer, Buffer>;
  metadata: Record<string, unknown>;
}

export interface PlatProduceMessage {
  topic: string;
  partition?: number;
  key?: Buffer | null;
  value?: Buffer | null;
  headers?: Map<Buffer, Buffer>;
}

export interface PlatStream {
  on(event: 'data', listener: (m: PlatMessage) => void): PlatStream;
  on(event: 'error', listener: (e: Error) => void): PlatStream;
  close(): Promise<void>;
}

export interface PlatConsumer {
  groupId: string;
  consume(options: Record<string, unknown>): Promise<PlatStream>;
  close(force?: boolean): Promise<void>;
}

export interface PlatTransaction {
  send(options: { messages: PlatProduceMessage[] }): Promise<unknown>;
  addConsumer(consumer: PlatConsumer): Promise<void>;
  addOffset(message: PlatMessage): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface PlatProducer {
  send(options: { messages: PlatProduceMessage[] }): Promise<unknown>;
  beginTransaction(options?: Record<string, unknown>): Promise<PlatTransaction>;
  close(force?: boolean): Promise<void>;
}

export interface PlatAdmin {
  metadata(options: { topics: string[] }): Promise<{
    topics: Map<string, { id: string; partitionsCount: number }>;
  }>;
  close(): Promise<void>;
}

export interface PlatModule {
  Consumer: new (options: Record<string, unknown>) => PlatConsumer;
  Producer: new (options: Record<string, unknown>) => PlatProducer;
  Admin: new (options: Record<string, unknown>) => PlatAdmin;
  ProduceAcks: { ALL: number };
  FetchIsolationLevels: { READ_UNCOMMITTED: number; READ_COMMITTED: number };
  MessagesStreamModes: { EARLIEST: string };
}

export async function loadPlatformatic(): Promise<PlatModule> {
  const req = createRequire(join(clientsDir(), 'package.json'));
  const entry = req.resolve(PLATFORMATIC.name);
  return (await import(pathToFileURL(entry).href)) as PlatModule;
}

// ---- @confluentinc/kafka-javascript, KafkaJS-compatible API (the slices used) ------------------

export interface CkHeaders {
  [key: string]: Buffer | string | Array<Buffer | string> | undefined;
}

export interface CkMessage {
  key?: Buffer | null;
  value: Buffer | null;
  partition?: number;
  headers?: CkHeaders;
}

export interface CkConsumedMessage {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  headers?: CkHeaders;
}

export interface CkBatch {
  topic: string;
  partition: number;
  messages: CkConsumedMessage[];
}

export interface CkConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(config: {
    eachBatch?: (p: { batch: CkBatch }) => Promise<void>;
    eachMessage?: (p: {
      topic: string;
      partition: number;
      message: CkConsumedMessage;
    }) => Promise<void>;
  }): Promise<void>;
}

export interface CkProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: CkMessage[] }): Promise<unknown>;
  transaction(): Promise<CkProducer>;
  sendOffsets(args: {
    consumer: CkConsumer;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
  }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface CkAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  fetchTopicMetadata(o: { topics: string[] }): Promise<
    Array<{
      name: string;
      /** Typed as { base64str } by the package; the binding sets `base64` (src/common.cc). */
      topicId?: { base64?: string; base64str?: string; mostSignificantBits: bigint };
      partitions: unknown[];
    }>
  >;
}

export interface CkKafka {
  producer(config: Record<string, unknown>): CkProducer;
  consumer(config: Record<string, unknown>): CkConsumer;
  admin(config?: Record<string, unknown>): CkAdmin;
}

/** The lower-level node-rdkafka API the package also exports (callbacks). */
export interface CkRdConsumer {
  connect(options: Record<string, unknown>, cb: (err: Error | null) => void): void;
  assign(assignments: Array<{ topic: string; partition: number; offset: number }>): void;
  subscribe(topics: string[]): void;
  consume(
    n: number,
    cb: (
      err: Error | null,
      messages: Array<{
        partition: number;
        offset: number;
        key?: Buffer | null;
        value: Buffer | null;
        headers?: Array<Record<string, Buffer>>;
      }>,
    ) => void,
  ): void;
  disconnect(cb: () => void): void;
}

export interface CkModule {
  librdkafkaVersion: string;
  features: string[];
  KafkaConsumer: new (
    global: Record<string, unknown>,
    topic?: Record<string, unknown>,
  ) => CkRdConsumer;
  KafkaJS: {
    Kafka: new (config: Record<string, unknown>) => CkKafka;
    CompressionTypes: { LZ4: string; ZSTD: string; None: string };
    logLevel: { NOTHING: number; ERROR: number };
  };
}

export function loadConfluent(): CkModule {
  const req = createRequire(join(clientsDir(), 'package.json'));
  return req(CONFLUENT.name) as CkModule;
}
