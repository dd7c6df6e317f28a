import type { Admin, TopicPartitionOffsetMeta } from '../kafka/index.js';
import { partitionKey } from './offset-map.js';

/**
 * Where a job keeps its progress on the target cluster, atomically with the records: committed
 * offsets of consumer group `kafka-archive-restore.<job>`, written in each transaction
 * (sendOffsets). The value is the next original offset of a source partition. Kafka accepts
 * offsets only for partitions that exist on that cluster, so the key is the target topic and a
 * partition of it: the source partition itself when the target has that many partitions (the
 * usual case, partitions preserved); with --repartition onto fewer partitions, source partition
 * p uses partition p mod n in group `<group>.<p div n>`. The metadata names the source
 * partition, so progress of another job or layout is never mistaken for this one's.
 */
export const groupIdOf = (jobId: string) => `kafka-archive-restore.${jobId}`;

export interface ProgressKey {
  groupId: string;
  topic: string;
  partition: number;
  metadata: string;
}

export function progressKey(
  jobId: string,
  source: { topic: string; partition: number },
  target: { topic: string; partitions: number },
): ProgressKey {
  const lane = Math.floor(source.partition / target.partitions);
  const base = groupIdOf(jobId);
  return {
    groupId: lane === 0 ? base : `${base}.${lane}`,
    topic: target.topic,
    partition: source.partition % target.partitions,
    metadata: JSON.stringify({ job: jobId, source: `${source.topic}/${source.partition}` }),
  };
}

export function progressOffset(key: ProgressKey, next: bigint): TopicPartitionOffsetMeta {
  return { topic: key.topic, partition: key.partition, offset: next, metadata: key.metadata };
}

/** Committed progress of every source partition (absent: nothing committed yet). */
export async function readProgress(
  admin: Admin,
  keys: ReadonlyMap<string, ProgressKey>,
): Promise<Map<string, bigint>> {
  const byGroup = new Map<string, Set<string>>();
  for (const k of keys.values()) {
    const s = byGroup.get(k.groupId) ?? new Set<string>();
    s.add(k.topic);
    byGroup.set(k.groupId, s);
  }
  const committed = new Map<
    string,
    Map<string, Map<number, { offset: bigint; metadata: string | null }>>
  >();
  for (const [group, topics] of byGroup)
    committed.set(group, await admin.groupOffsets(group, [...topics]));
  const out = new Map<string, bigint>();
  for (const [source, k] of keys) {
    const c = committed.get(k.groupId)?.get(k.topic)?.get(k.partition);
    if (c !== undefined && c.metadata === k.metadata) out.set(source, c.offset);
  }
  return out;
}

export { partitionKey };
