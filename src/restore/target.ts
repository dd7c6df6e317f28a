import { ArchiveError, ErrorCodes } from '../errors.js';
import type { Admin } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import type { ArchiveAccess } from './access.js';
import type { PartitionPlan, RestoreRequest, RunOptions, TargetPlan } from './types.js';

/** Kafka's default max.message.bytes (1 MiB + the 12-byte log overhead). */
const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * Topic configs not copied from the archive's snapshot when a target is created: the
 * timestamp type is forced to CreateTime (the archived timestamps are written as they are),
 * and timestamp-skew limits would refuse historic records; replica throttles name brokers of
 * the source cluster.
 */
const NOT_COPIED = new Set([
  'message.timestamp.type',
  'message.timestamp.difference.max.ms',
  'message.timestamp.before.max.ms',
  'message.timestamp.after.max.ms',
  'leader.replication.throttled.replicas',
  'follower.replication.throttled.replicas',
]);

export function configsToCopy(snapshot: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(snapshot)) if (!NOT_COPIED.has(k)) out[k] = v;
  out['message.timestamp.type'] = 'CreateTime';
  return out;
}

/**
 * Retries a metadata call on a topic that was just created: its leader may not be known to
 * every broker yet (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION for a moment).
 */
async function settled<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const fatal =
        err instanceof ArchiveError &&
        (err.code === ErrorCodes.KAFKA_AUTHORIZATION_FAILED ||
          err.code === ErrorCodes.KAFKA_AUTHENTICATION_FAILED ||
          err.code === ErrorCodes.KAFKA_UNAVAILABLE);
      if (attempt >= 20 || fatal) throw err;
      await new Promise((r) => setTimeout(r, 100 * Math.min(attempt + 1, 10)));
    }
  }
}

async function maxMessageBytes(admin: Admin, topic: string): Promise<number> {
  const info = await settled(() => admin.describeTopic(topic, { includeDefaults: true }));
  const v = Number(info.configs['max.message.bytes']);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_MAX_MESSAGE_BYTES;
}

/**
 * Checks (and creates) the target topics of a new job: a missing one is created with the
 * archived partition count and configs; an existing one must have enough partitions (unless
 * repartitioning) and be empty (unless --append). Records each partition's high-water mark as
 * where this job's records begin.
 */
export async function prepareTargets(
  admin: Admin,
  access: ArchiveAccess,
  plan: readonly PartitionPlan[],
  r: RestoreRequest,
  opts: RunOptions,
  brokers: string,
  log: Logger,
): Promise<TargetPlan[]> {
  const bySource = new Map<string, string>();
  for (const p of plan) bySource.set(p.topic, p.targetTopic);
  const counts = await admin.partitionCounts([...bySource.values()]);
  const out: TargetPlan[] = [];
  for (const [sourceTopic, topic] of bySource) {
    const planned = plan.filter((p) => p.topic === sourceTopic);
    const needed = Math.max(...planned.map((p) => p.partition)) + 1;
    const snapshot = await access.topicSnapshot(sourceTopic);
    const archivedPartitions = Math.max(
      snapshot?.partitions ?? 0,
      ...access.catalog.partitions(sourceTopic).map((p) => p + 1),
    );
    let partitions = counts.get(topic);
    let create = false;
    let configs: Record<string, string> = {};
    if (partitions === undefined) {
      create = true;
      partitions = archivedPartitions;
      configs = configsToCopy(snapshot?.configs ?? {});
      if (snapshot === null)
        log.warn(
          { topic: sourceTopic },
          'no topic metadata snapshot in the archive (nothing tiered yet): the target is created with the broker default configs',
        );
      await admin.createTopics([
        {
          name: topic,
          partitions,
          ...(opts.replicationFactor !== null ? { replicationFactor: opts.replicationFactor } : {}),
          configs,
        },
      ]);
      log.info(
        {
          topic,
          partitions,
          configs,
          replicationFactor: opts.replicationFactor ?? 'broker default',
        },
        'target topic created',
      );
    } else {
      if (r.repartition === null && partitions < needed) {
        throw new ArchiveError(
          ErrorCodes.RESTORE_TARGET_PARTITIONS,
          `target topic ${topic} on ${brokers} has ${partitions} partition${partitions === 1 ? '' : 's'} but the restore writes to partitions up to ${needed - 1} (${sourceTopic} was archived with ${archivedPartitions}); add partitions, choose another --target-topic, or spread the records with --repartition by-key|round-robin`,
        );
      }
      const offsets = await admin.offsets(topic);
      const nonEmpty = [...offsets].filter(([, o]) => o.high > o.low);
      if (nonEmpty.length > 0 && !opts.append) {
        const held = nonEmpty.reduce((n, [, o]) => n + (o.high - o.low), 0n);
        throw new ArchiveError(
          ErrorCodes.RESTORE_TARGET_NOT_EMPTY,
          `target topic ${topic} on ${brokers} is not empty (${held} offsets in ${nonEmpty.length} partition${nonEmpty.length === 1 ? '' : 's'}); restore into a new or empty topic (--target-topic), or add --append to write after what it holds`,
        );
      }
      const info = await admin.describeTopic(topic);
      if (info.configs['message.timestamp.type'] === 'LogAppendTime')
        log.warn(
          { topic },
          'the target topic uses LogAppendTime: the broker replaces every restored timestamp (verification will report it)',
        );
    }
    const offsets = create ? new Map<number, { high: bigint }>() : await admin.offsets(topic);
    const startOffsets: Record<string, string> = {};
    for (let p = 0; p < partitions; p++)
      startOffsets[String(p)] = (offsets.get(p)?.high ?? 0n).toString();
    out.push({
      topic,
      sourceTopic,
      partitions,
      create,
      configs,
      startOffsets,
      maxMessageBytes: await maxMessageBytes(admin, topic),
    });
  }
  return out;
}

/** A resumed job's targets: they must still exist; their size limit is read again. */
export async function refreshTargets(
  admin: Admin,
  targets: readonly TargetPlan[],
  brokers: string,
): Promise<TargetPlan[]> {
  const counts = await admin.partitionCounts(targets.map((t) => t.topic));
  const out: TargetPlan[] = [];
  for (const t of targets) {
    const n = counts.get(t.topic);
    if (n === undefined) {
      throw new ArchiveError(
        ErrorCodes.KAFKA_TOPIC_UNKNOWN,
        `target topic ${t.topic} of this job no longer exists on ${brokers}; start a new job (another --target-topic or --job)`,
      );
    }
    if (n < t.partitions) {
      throw new ArchiveError(
        ErrorCodes.RESTORE_TARGET_PARTITIONS,
        `target topic ${t.topic} on ${brokers} has ${n} partitions, fewer than the ${t.partitions} this job started with (was it re-created?); start a new job`,
      );
    }
    // The partition count stays the one the job started with: progress keys and
    // --repartition placement depend on it.
    out.push({ ...t, maxMessageBytes: await maxMessageBytes(admin, t.topic) });
  }
  return out;
}
