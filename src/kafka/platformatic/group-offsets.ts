import type { Admin } from '@platformatic/kafka';
import { sleep } from '../../util/backoff.js';
import type { CommittedOffset } from '../types.js';
import { hasApiError } from './errors.js';

/**
 * Partition counts of the topics that exist (fresh metadata, so a re-created topic is seen as it
 * is now); the others are absent.
 */
export async function existingPartitionCounts(
  admin: Admin,
  topics: string[],
): Promise<Map<string, { partitions: number; id: string }>> {
  const out = new Map<string, { partitions: number; id: string }>();
  if (topics.length === 0) return out;
  const existing = new Set(await admin.listTopics());
  const present = [...new Set(topics)].filter((t) => existing.has(t));
  if (present.length === 0) return out;
  const meta = await admin.metadata({ topics: present, forceUpdate: true });
  for (const t of present) {
    const m = meta.topics.get(t);
    if (m !== undefined) out.set(t, { partitions: m.partitionsCount, id: m.id });
  }
  return out;
}

/** Group coordinator answers worth another try (a fresh cluster creates __consumer_offsets). */
const COORDINATOR_ERRORS = [
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  // requireStable: a transaction that committed offsets is still writing its markers.
  'UNSTABLE_OFFSET_COMMIT',
];

/**
 * A group's committed next-offsets with their metadata, for every partition of the existing
 * topics that has one (topics that do not exist are absent; a group that does not exist gives
 * empty maps). Stable offsets only (KIP-447); retried while the group coordinator settles.
 */
export async function readGroupOffsets(
  admin: Admin,
  groupId: string,
  topics: string[],
): Promise<Map<string, Map<number, CommittedOffset>>> {
  const out = new Map<string, Map<number, CommittedOffset>>();
  const counts = await existingPartitionCounts(admin, topics);
  if (counts.size === 0) return out;
  for (const name of counts.keys()) out.set(name, new Map());
  const request = {
    // Offsets committed by a transaction count once it has completed, including one that has
    // just committed (without this the broker answers with the offsets from before it).
    requireStable: true,
    groups: [
      {
        groupId,
        topics: [...counts].map(([name, { partitions }]) => ({
          name,
          partitionIndexes: Array.from({ length: partitions }, (_, i) => i),
        })),
      },
    ],
  };
  let res: Awaited<ReturnType<Admin['listConsumerGroupOffsets']>>;
  for (let attempt = 0; ; attempt++) {
    try {
      res = await admin.listConsumerGroupOffsets(request);
      break;
    } catch (err) {
      if (attempt >= 20 || !COORDINATOR_ERRORS.some((id) => hasApiError(err, id))) throw err;
      await sleep(100 * Math.min(attempt + 1, 10));
    }
  }
  for (const g of res) {
    for (const t of g.topics) {
      const m = out.get(t.name);
      if (m === undefined) continue;
      for (const p of t.partitions) {
        if (p.committedOffset >= 0n) {
          m.set(p.partitionIndex, { offset: p.committedOffset, metadata: p.metadata ?? null });
        }
      }
    }
  }
  return out;
}
