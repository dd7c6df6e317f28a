import type { Admin } from '@platformatic/kafka';

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

/** A group's committed next-offsets (-1 where none) for every partition of the existing topics. */
export async function readGroupOffsets(
  admin: Admin,
  groupId: string,
  topics: string[],
): Promise<Map<string, Map<number, bigint>>> {
  const out = new Map<string, Map<number, bigint>>();
  const counts = await existingPartitionCounts(admin, topics);
  if (counts.size === 0) return out;
  const res = await admin.listConsumerGroupOffsets({
    groups: [
      {
        groupId,
        topics: [...counts].map(([name, { partitions }]) => ({
          name,
          partitionIndexes: Array.from({ length: partitions }, (_, i) => i),
        })),
      },
    ],
  });
  for (const [name, { partitions }] of counts) {
    const m = new Map<number, bigint>();
    for (let i = 0; i < partitions; i++) m.set(i, -1n);
    out.set(name, m);
  }
  for (const g of res) {
    for (const t of g.topics) {
      const m = out.get(t.name);
      if (m === undefined) continue;
      for (const p of t.partitions) m.set(p.partitionIndex, p.committedOffset);
    }
  }
  return out;
}
