import type { Admin } from '../kafka/index.js';
import { wholeNameRegex } from '../util/topic-pattern.js';

/**
 * Which topics the archiver follows: the configured names that exist, plus every existing topic
 * whose whole name matches one of the patterns (like Kafka's pattern subscription). Internal
 * topics (names starting with "__") only when named explicitly.
 * Returns topic -> partition count, so added partitions are noticed too.
 */
export async function resolveTopics(
  admin: Admin,
  names: readonly string[],
  patterns: readonly string[],
): Promise<Map<string, number>> {
  const all = await admin.listTopics();
  // Patterns are validated with the configuration (config/schema.ts): none is null here.
  const regexes = patterns.map(wholeNameRegex).filter((r): r is RegExp => r !== null);
  const wanted = new Set<string>();
  const named = new Set(names);
  for (const t of all) {
    if (named.has(t)) wanted.add(t);
    else if (!t.startsWith('__') && regexes.some((r) => r.test(t))) wanted.add(t);
  }
  return admin.partitionCounts([...wanted].sort());
}

export function sameTopics(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [t, n] of a) if (b.get(t) !== n) return false;
  return true;
}
