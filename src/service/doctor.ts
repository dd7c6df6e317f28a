/**
 * `kafka-archive doctor`: checks a configuration end to end, each check bounded in time, and
 * says per check what is wrong and how to fix it. It changes nothing but a probe file in each
 * directory and a probe object in the store, both removed at once.
 */
import { randomBytes } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { doctorProbeKey } from '../archive/index.js';
import { resolveTopics } from '../archiver/topic-resolver.js';
import {
  formatBytes,
  restoreTargetKafka,
  kafkaKeysAs,
  type Config,
  type KafkaConfig,
} from '../config/index.js';
import { formatBudget, resolveVolumes, sampleVolume } from '../disk/index.js';
import {
  ArchiveError,
  ErrorCodes,
  errnoCode,
  exitCodeOf,
  ExitCode,
  isArchiveError,
  type ErrorCode,
} from '../errors.js';
import { createKafkaClient, type Admin } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { createObjectStore } from '../storage/index.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  /** Stable name: config, kafka, kafka.topics, kafka.group, storage, dir.data, disk.hot, ... */
  name: string;
  status: CheckStatus;
  /** What was found (or what is wrong). */
  message: string;
  /** How to fix it (warn and fail). */
  fix?: string;
  /** The error code of a failure or warning. */
  code?: ErrorCode;
  ms: number;
}

export interface DoctorReport {
  ok: boolean;
  /** 0 when no check failed, else the exit code of the first failure's error code. */
  exitCode: number;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** Time limit of each check (default 5 s). */
  timeoutMs?: number;
  /** Where the configuration came from, for the config check's message. */
  source?: string;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** The fix of a failure, by code; `kafkaKey` is `kafka` or `restore.target`. */
function fixFor(code: ErrorCode, kafkaKey = 'kafka'): string | undefined {
  switch (code) {
    case ErrorCodes.KAFKA_UNAVAILABLE:
      return `check ${kafkaKey}.brokers (host:port of a listener this host reaches), that the brokers run, and ${kafkaKey}.ssl (a TLS listener needs ssl: true)`;
    case ErrorCodes.KAFKA_TLS_FAILED:
      return `set ${kafkaKey}.tls.caFile to the CA that signed the brokers' certificates; check that the broker host names match them (${kafkaKey}.tls.verifyHostname)`;
    case ErrorCodes.KAFKA_AUTHENTICATION_FAILED:
      return `check ${kafkaKey}.sasl.mechanism, ${kafkaKey}.sasl.username and ${kafkaKey}.sasl.password (SASL) against the users the brokers know`;
    case ErrorCodes.KAFKA_AUTHORIZATION_FAILED:
      return "grant the ACL named above to this client's principal (kafka-acls.sh --add ...)";
    case ErrorCodes.STORAGE_BUCKET_MISSING:
      return 'create the bucket, or fix storage.s3.bucket';
    case ErrorCodes.STORAGE_AUTH:
      return 'check storage.s3.accessKeyId / storage.s3.secretAccessKey and that they may ListBucket, PutObject, GetObject and DeleteObject on the bucket';
    case ErrorCodes.STORAGE_TLS_FAILED:
      return "set storage.s3.caFile to the CA that signed the store's certificate";
    case ErrorCodes.STORAGE_UNAVAILABLE:
      return 'check storage.s3.endpoint (or storage.local.dir) and that the store runs and answers from this host';
    case ErrorCodes.DIR_UNWRITABLE:
      return 'create the directory and give the service user write access (chown / chmod), or point the key at a writable place';
    case ErrorCodes.DISK_FULL:
    case ErrorCodes.DISK_FLOOD:
      return 'free space on the volume (kafka-archive tier --older-than 0 moves sealed segments to the object store), or raise its budget';
    case ErrorCodes.CONFIG_INVALID:
    case ErrorCodes.CONFIG_FILE_UNREADABLE:
      return 'fix the key named above (kafka-archive config check lists every problem)';
    default:
      return undefined;
  }
}

class Timeout extends Error {}

/**
 * `work` or a Timeout after `ms`. Work still running then goes on in the background; `late`
 * cleans up what it resolves with (an admin client connected after the deadline).
 */
async function bounded<T>(work: Promise<T>, ms: number, late?: (v: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new Timeout(`no answer within ${ms} ms`));
    }, ms);
  });
  void work.then(
    (v) => {
      if (timedOut) late?.(v);
    },
    () => undefined,
  );
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A check's outcome from a thrown value: a coded failure; never a stack trace. */
function failure(
  name: string,
  err: unknown,
  t0: number,
  fallback: ErrorCode,
  what: string,
  kafkaKey?: string,
): DoctorCheck {
  let code: ErrorCode;
  let message: string;
  if (err instanceof Timeout) {
    code = fallback;
    message = `${what}: ${err.message}`;
  } else if (isArchiveError(err)) {
    code = err.code;
    message = err.message;
  } else {
    code = fallback;
    message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  }
  const fix = fixFor(code, kafkaKey);
  return {
    name,
    status: 'fail',
    code,
    message: `[${code}] ${message}`,
    ...(fix !== undefined ? { fix } : {}),
    ms: Date.now() - t0,
  };
}

function describeConnection(k: KafkaConfig): string {
  const tls = k.ssl
    ? `TLS${k.tls.caFile !== undefined ? `, CA ${k.tls.caFile}` : ''}`
    : 'plaintext';
  const sasl = k.sasl !== undefined ? `, SASL ${k.sasl.mechanism} as ${k.sasl.username}` : '';
  return `${k.brokers.join(',')} (${k.client}, ${tls}${sasl})`;
}

interface KafkaReach {
  check: DoctorCheck;
  admin: Admin | null;
  topics: string[];
}

/** Connect (bootstrap with the configured TLS/SASL) and list the topics (a metadata request). */
async function reachKafka(
  name: string,
  k: KafkaConfig,
  kafkaKey: string,
  log: Logger,
  ms: number,
): Promise<KafkaReach> {
  const t0 = Date.now();
  let admin: Admin | null = null;
  try {
    const client = createKafkaClient(k, log, { retries: 1 });
    const disconnect = (a: Admin) => void a.disconnect().catch(() => undefined);
    admin = await bounded(client.admin(), ms, disconnect);
    const a = admin;
    const topics = await bounded(a.listTopics(), ms);
    return {
      check: {
        name,
        status: 'ok',
        message: `connected to ${describeConnection(k)}: ${topics.length} topic${topics.length === 1 ? '' : 's'} visible`,
        ms: Date.now() - t0,
      },
      admin,
      topics,
    };
  } catch (err) {
    if (admin !== null) await admin.disconnect().catch(() => undefined);
    const check = failure(
      name,
      err,
      t0,
      ErrorCodes.KAFKA_UNAVAILABLE,
      `Kafka at ${describeConnection(k)}`,
      kafkaKey,
    );
    // The client names kafka.* keys; the restore target's are restore.target.*.
    if (kafkaKey !== 'kafka') check.message = kafkaKeysAs(kafkaKey, check.message);
    return { check, admin: null, topics: [] };
  }
}

const skipped = (name: string, why: string): DoctorCheck => ({
  name,
  status: 'skip',
  message: why,
  ms: 0,
});

function listShort(items: string[], max = 8): string {
  return items.length <= max
    ? items.join(', ')
    : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** The configured topics and patterns, described (partition counts: a metadata request). */
async function topicsCheck(
  config: Config,
  admin: Admin,
  ms: number,
): Promise<{ check: DoctorCheck; found: string[] }> {
  const t0 = Date.now();
  const name = 'kafka.topics';
  const { topics, topicPatterns } = config.archiver;
  if (topics.length === 0 && topicPatterns.length === 0) {
    const check: DoctorCheck = {
      name,
      status: 'warn',
      message: 'no topics configured: `run` would archive nothing',
      fix: 'set archiver.topics (names) or archiver.topicPatterns (regular expressions)',
      ms: 0,
    };
    return { check, found: [] };
  }
  try {
    const counts = await bounded(resolveTopics(admin, topics, topicPatterns), ms);
    const found = [...counts.keys()];
    const missing = topics.filter((t) => !counts.has(t));
    const parts =
      found.length === 0 ? 'none' : listShort(found.map((t) => `${t} (${counts.get(t)})`));
    const message = `${found.length} topic${found.length === 1 ? '' : 's'} to archive (partitions): ${parts}`;
    if (missing.length === 0 && found.length > 0) {
      return { check: { name, status: 'ok', message, ms: Date.now() - t0 }, found };
    }
    const check: DoctorCheck = {
      name,
      status: 'warn',
      message:
        missing.length > 0
          ? `${message}; not in Kafka: ${listShort(missing)} (archived once created)`
          : `${message}: no topic matches archiver.topicPatterns ${topicPatterns.join(', ')}`,
      fix: 'create the topics, or fix archiver.topics / archiver.topicPatterns',
      code: ErrorCodes.KAFKA_TOPIC_UNKNOWN,
      ms: Date.now() - t0,
    };
    return { check, found };
  } catch (err) {
    const check = failure(name, err, t0, ErrorCodes.KAFKA_REQUEST_FAILED, 'describing topics');
    return { check, found: [] };
  }
}

/** The consumer group: its coordinator found and its committed offsets fetched. */
async function groupCheck(
  config: Config,
  admin: Admin,
  topics: string[],
  ms: number,
): Promise<DoctorCheck> {
  const t0 = Date.now();
  const groupId = config.archiver.groupId;
  if (topics.length === 0) {
    return skipped('kafka.group', `group ${groupId}: no existing topic to fetch offsets for`);
  }
  try {
    const offsets = await bounded(admin.groupOffsets(groupId, topics), ms);
    let committed = 0;
    for (const m of offsets.values()) committed += m.size;
    return {
      name: 'kafka.group',
      status: 'ok',
      message:
        committed === 0
          ? `group ${groupId}: coordinator answered; no committed offsets yet (a first run)`
          : `group ${groupId}: coordinator answered; committed offsets for ${committed} partitions`,
      ms: Date.now() - t0,
    };
  } catch (err) {
    return failure(
      'kafka.group',
      err,
      t0,
      ErrorCodes.KAFKA_REQUEST_FAILED,
      `consumer group ${groupId}`,
    );
  }
}

/** Put, read back and delete a small probe object under the reserved probe key. */
async function storageCheck(config: Config, log: Logger, ms: number): Promise<DoctorCheck> {
  const t0 = Date.now();
  let store: ReturnType<typeof createObjectStore> | null = null;
  const key = doctorProbeKey(
    `${hostname()
      .replace(/[^a-zA-Z0-9_-]/g, '_')
      .slice(0, 40)}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  let written = false;
  try {
    store = createObjectStore(config.storage, log);
    const s = store;
    await bounded(s.checkAccess(), ms);
    const body = Buffer.from(`kafka-archive doctor probe ${new Date().toISOString()}\n`);
    await bounded(s.put(key, body, { ifAbsent: true }), ms);
    written = true;
    const back = await bounded(s.get(key), ms);
    if (!back.equals(body)) {
      throw new ArchiveError(
        ErrorCodes.STORAGE_UNAVAILABLE,
        `the probe object ${key} read back differs from what was written (${back.length} of ${body.length} bytes)`,
      );
    }
    await bounded(s.delete(key), ms);
    written = false;
    return {
      name: 'storage',
      status: 'ok',
      message: `${s.description}: wrote, read back and deleted ${key}`,
      ms: Date.now() - t0,
    };
  } catch (err) {
    return failure(
      'storage',
      err,
      t0,
      ErrorCodes.STORAGE_UNAVAILABLE,
      `object store ${store?.description ?? config.storage.type}`,
    );
  } finally {
    if (written) await store?.delete(key).catch(() => undefined);
    await store?.close().catch(() => undefined);
  }
}

/** The nearest existing directory at or above `path`, or null. */
async function nearestExisting(path: string): Promise<{ dir: string; isDir: boolean } | null> {
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      const s = await stat(p);
      return { dir: p, isDir: s.isDirectory() };
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
    }
    if (p === dirname(p)) return null;
  }
}

/** Create and remove a probe file in `dir`. */
async function probeWrite(dir: string): Promise<void> {
  const file = join(dir, `.kafka-archive-doctor-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await open(file, 'wx');
  try {
    await fh.write('probe\n');
    await fh.sync();
  } finally {
    await fh.close();
    await rm(file, { force: true });
  }
}

async function dirCheck(name: string, key: string, path: string, ms: number): Promise<DoctorCheck> {
  const t0 = Date.now();
  const abs = resolve(path);
  const unwritable = (why: string) =>
    new ArchiveError(ErrorCodes.DIR_UNWRITABLE, `${key}: ${abs}: ${why}`);
  try {
    const at = await bounded(nearestExisting(abs), ms);
    if (at === null || !at.isDir) {
      throw unwritable(
        at === null ? 'no existing parent directory' : `${at.dir} is not a directory`,
      );
    }
    try {
      await bounded(probeWrite(at.dir), ms);
    } catch (err) {
      const errno = errnoCode(err);
      if (errno === 'ENOSPC' || errno === 'EDQUOT') {
        throw new ArchiveError(ErrorCodes.DISK_FULL, `${key}: ${abs}: no space left (${errno})`);
      }
      if (err instanceof Timeout) throw err;
      throw unwritable(
        `${at.dir === abs ? 'cannot create a file in it' : `does not exist and its parent ${at.dir} is not writable`}: ${errno ?? (err as Error).message}`,
      );
    }
    return {
      name,
      status: 'ok',
      message:
        at.dir === abs
          ? `${key} ${abs}: writable`
          : `${key} ${abs}: does not exist yet; created at start (its parent ${at.dir} is writable)`,
      ms: Date.now() - t0,
    };
  } catch (err) {
    return failure(name, err, t0, ErrorCodes.DIR_UNWRITABLE, `${key} ${abs}`);
  }
}

/** Free space against the watermarks and the reserves, per configured volume. */
async function diskChecks(config: Config, ms: number): Promise<DoctorCheck[]> {
  const t0 = Date.now();
  let specs: Awaited<ReturnType<typeof resolveVolumes>>;
  try {
    specs = await bounded(resolveVolumes(config), ms);
  } catch (err) {
    return [failure('disk', err, t0, ErrorCodes.CONFIG_INVALID, 'disk volumes')];
  }
  const out: DoctorCheck[] = [];
  for (const spec of specs) {
    const name = `disk.${spec.name}`;
    const t1 = Date.now();
    try {
      const s = await bounded(sampleVolume(spec), ms);
      const w = s.watermarks;
      const used = `${s.usedPercent.toFixed(1)}% used (filesystem ${s.filesystem.usedPercent.toFixed(1)}%, ${formatBytes(s.filesystem.availableBytes)} free; budget ${formatBudget(s.budget)})`;
      const r = s.reserve;
      const reserves =
        r.count === 0
          ? 'reserves off (disk.reserve.count 0)'
          : `reserves ${r.armed}/${r.count} armed (${formatBytes(r.sizeBytes)} each, in ${r.dir})`;
      const message = `${s.path}: ${used}, watermarks ${w.low}/${w.high}/${w.flood}%: ${s.state}; ${reserves}`;
      const problems: string[] = [];
      let status: CheckStatus = 'ok';
      let code: ErrorCode | undefined;
      if (s.state === 'flood') {
        status = 'fail';
        code = ErrorCodes.DISK_FLOOD;
      } else if (s.state !== 'ok') {
        status = 'warn';
        code = ErrorCodes.DISK_FULL;
        problems.push(
          `above the ${s.state} watermark: free space or raise the budget (the service tiers and evicts hot segments from high on, and pauses at flood)`,
        );
      }
      if (r.count > 0 && r.armed < r.count) {
        if (status === 'ok') status = 'warn';
        problems.push(
          `arm the reserves: kafka-archive reserve rearm --volume ${spec.name} (the running service's disk monitor arms them when there is room)`,
        );
      }
      if (!config.disk.monitor.enabled) {
        if (status === 'ok') status = 'warn';
        problems.push('disk.monitor.enabled is false: nothing watches this volume while running');
      }
      const fix = status === 'fail' ? fixFor(ErrorCodes.DISK_FLOOD) : problems.join('; ');
      out.push({
        name,
        status,
        message: code === ErrorCodes.DISK_FLOOD ? `[DISK_FLOOD] ${message}` : message,
        ...(status !== 'ok' && fix !== undefined && fix !== '' ? { fix } : {}),
        ...(code !== undefined ? { code } : {}),
        ms: Date.now() - t1,
      });
    } catch (err) {
      out.push(failure(name, err, t1, ErrorCodes.DISK_FULL, `volume ${spec.name} ${spec.path}`));
    }
  }
  return out;
}

/** The report of a configuration that does not load: the loader's error, nothing else checked. */
export function doctorConfigFailure(err: ArchiveError): DoctorReport {
  const check = failure('config', err, Date.now(), err.code, 'configuration');
  return {
    ok: false,
    exitCode: exitCodeOf(err.code),
    checks: [
      // The loader's message stands alone (it names the key, the value and what is allowed).
      { ...check, message: err.message },
    ],
  };
}

/** Runs every check of a loaded configuration (in order; Kafka's own checks need a connection). */
export async function runDoctor(
  config: Config,
  log: Logger,
  options: DoctorOptions = {},
): Promise<DoctorReport> {
  const ms = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const checks: DoctorCheck[] = [
    {
      name: 'config',
      status: 'ok',
      message: `configuration valid (${options.source ?? 'environment and defaults'})`,
      ms: 0,
    },
  ];

  const kafka = await reachKafka('kafka', config.kafka, 'kafka', log, ms);
  checks.push(kafka.check);
  if (kafka.admin !== null) {
    const topics = await topicsCheck(config, kafka.admin, ms);
    checks.push(topics.check);
    checks.push(await groupCheck(config, kafka.admin, topics.found, ms));
    await kafka.admin.disconnect().catch(() => undefined);
  } else {
    checks.push(skipped('kafka.topics', 'skipped: Kafka not reachable'));
    checks.push(skipped('kafka.group', 'skipped: Kafka not reachable'));
  }

  checks.push(await storageCheck(config, log, ms));
  checks.push(await dirCheck('dir.data', 'dataDir', config.dataDir, ms));
  checks.push(await dirCheck('dir.hot', 'archiver.hotDir', config.archiver.hotDir, ms));
  checks.push(await dirCheck('dir.catalog', 'catalog.dir', config.catalog.dir, ms));
  checks.push(...(await diskChecks(config, ms)));

  if (config.restore.target !== undefined) {
    const target = await reachKafka(
      'restore.target',
      restoreTargetKafka(config),
      'restore.target',
      log,
      ms,
    );
    await target.admin?.disconnect().catch(() => undefined);
    checks.push(target.check);
  } else {
    checks.push(
      skipped('restore.target', 'restore.target not set: restores write to the source cluster'),
    );
  }

  const failed = checks.find((c) => c.status === 'fail');
  return {
    ok: failed === undefined,
    exitCode: failed === undefined ? ExitCode.OK : exitCodeOf(failed.code ?? ErrorCodes.INTERNAL),
    checks,
  };
}
