/**
 * Everything a restore needs, built in one place (the composition root will fold this in):
 * the catalog read-only, segments from both tiers, the object store (for the topic metadata
 * snapshots), and the Kafka client of the target cluster.
 */
import { openCatalogForRead, type Catalog } from '../catalog/index.js';
import {
  restoreStateDir,
  restoreTargetKafka,
  kafkaKeysAs,
  type Config,
  type KafkaConfig,
} from '../config/index.js';
import { ArchiveError, ErrorCodes } from '../errors.js';
import { createKafkaClient, type KafkaClient } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import {
  JobStore,
  loadRuns,
  runRestore,
  translateGroupOffsets,
  verifyJob,
  type ArchiveAccess,
  type JobState,
  type RestoreEvents,
  type RestoreOutcome,
  type RestoreRequest,
  type RunOptions,
  type TopicSnapshot,
  type TranslateReport,
  type VerifyReport,
} from '../restore/index.js';
import { createObjectStore, type ObjectStore } from '../storage/index.js';
import { findGroupSnapshot, tieredBuffer, topicMetaKey } from '../archive/index.js';

export interface RestoreOverrides {
  /** `--target-brokers`: replaces the target cluster's broker list. */
  targetBrokers?: string[];
  /** Replaces `restore.stateDir`. */
  stateDir?: string;
  /** The running service's catalog and object store, shared (not closed by close()). */
  catalog?: Catalog;
  store?: ObjectStore;
  /** Builds the Kafka clients of the target and source clusters (default: `kafka.client`'s). */
  kafkaClient?: (config: KafkaConfig, log: Logger) => KafkaClient;
}

export interface RestoreService {
  readonly stateDir: string;
  readonly targetBrokers: string[];
  readonly catalog: Catalog;
  /** Run options from the configuration, for the caller to override. */
  defaults(): RunOptions;
  run(
    req: Omit<RestoreRequest, 'targetBrokers'>,
    opts: RunOptions,
    events?: RestoreEvents,
    signal?: AbortSignal,
  ): Promise<RestoreOutcome>;
  verify(jobId: string): Promise<VerifyReport>;
  /**
   * `restore translate-offsets`: group G's position on the job's source topics (live from the
   * source cluster `kafka.*`, or the archived snapshot at or before asOfMs) mapped onto the
   * restored topics; with apply, committed for G on the target.
   */
  translateOffsets(
    jobId: string,
    opts: { group: string; asOfMs: number | null; apply: boolean },
  ): Promise<TranslateReport>;
  job(jobId: string): Promise<JobState>;
  jobs(): Promise<JobState[]>;
  close(): Promise<void>;
}

/** Restores connect with fewer retries than the service: an unreachable target fails in seconds. */
const TARGET_RETRIES = 5;

export async function createRestore(
  config: Config,
  log: Logger,
  overrides: RestoreOverrides = {},
): Promise<RestoreService> {
  const rlog = log.child({ component: 'restore' });
  const targetConfig = restoreTargetKafka(config, overrides.targetBrokers);
  const stateDir = overrides.stateDir ?? restoreStateDir(config);
  const store: ObjectStore = overrides.store ?? createObjectStore(config.storage, rlog);
  const catalog =
    overrides.catalog ??
    (await openCatalogForRead(config.catalog.dir, config.archiver.hotDir, rlog));
  const target =
    overrides.kafkaClient?.(targetConfig, rlog) ??
    createKafkaClient(targetConfig, rlog, { retries: TARGET_RETRIES });
  const access: ArchiveAccess = {
    catalog,
    open: (e) => tieredBuffer(config.archiver.hotDir, store, e),
    async topicSnapshot(topic): Promise<TopicSnapshot | null> {
      let body: Buffer;
      try {
        body = await store.get(topicMetaKey(topic));
      } catch (err) {
        if (err instanceof ArchiveError && err.code === ErrorCodes.OBJECT_NOT_FOUND) return null;
        throw err;
      }
      const j = JSON.parse(body.toString('utf8')) as Partial<TopicSnapshot>;
      return {
        name: String(j.name ?? topic),
        partitions: Number(j.partitions ?? 0),
        configs: j.configs ?? {},
        ...(j.capturedAt !== undefined ? { capturedAt: j.capturedAt } : {}),
      };
    },
  };
  const jobs = new JobStore(stateDir);
  const deps = { access, target, stateDir, log: rlog };
  /** Errors of the target cluster name the restore.target.* keys they are about. */
  const targetKeys = <T>(p: Promise<T>): Promise<T> =>
    p.catch((err: unknown) => {
      if (err instanceof ArchiveError && err.code.startsWith('KAFKA_'))
        err.message = kafkaKeysAs(
          config.restore.target !== undefined ? 'restore.target' : 'kafka',
          err.message,
        );
      throw err;
    });
  const r = config.restore;
  return {
    stateDir,
    targetBrokers: targetConfig.brokers,
    catalog,
    defaults: () => ({
      append: false,
      allowGaps: false,
      dryRun: false,
      replicationFactor: null,
      bytesPerSecond: 0,
      recordsPerSecond: 0,
      concurrency: r.concurrency,
      batchBytes: r.batchBytes,
      batchRecords: r.batchRecords,
      compression: r.compression,
      transactionTimeoutMs: r.transactionTimeoutMs,
    }),
    run: (req, opts, events, signal) =>
      targetKeys(
        runRestore(deps, { ...req, targetBrokers: targetConfig.brokers }, opts, events, signal),
      ),
    async verify(id) {
      const state = await jobs.require(id);
      return targetKeys(verifyJob(deps, state, jobs.mapPath(id)));
    },
    async translateOffsets(id, opts) {
      const state = await jobs.require(id);
      const runs = await loadRuns(jobs.mapPath(id));
      return translateGroupOffsets(
        {
          sourceAdmin: () =>
            (
              overrides.kafkaClient?.(config.kafka, rlog) ??
              createKafkaClient(config.kafka, rlog, { retries: TARGET_RETRIES })
            ).admin(),
          targetAdmin: () => target.admin(),
          snapshot: (group, atMs) => findGroupSnapshot(store, group, atMs),
        },
        state,
        runs,
        opts,
      );
    },
    job: (id) => jobs.require(id),
    async jobs() {
      const out: JobState[] = [];
      for (const id of await jobs.list()) out.push(await jobs.require(id));
      return out;
    },
    async close() {
      if (overrides.catalog === undefined) await catalog.close();
      if (overrides.store === undefined) await store.close();
    },
  };
}
