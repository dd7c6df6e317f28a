/**
 * The resume rule (invariant 2): a partition newly assigned to this member starts at
 * max(committed offset, archived high-water mark + 1), so a crash between sealing a segment and
 * committing its offset, or a peer that archived further than it committed, never archives a
 * record twice.
 */
export function resumeOffset(committed: bigint, archivedHighWatermark: bigint | null): bigint {
  if (archivedHighWatermark === null) return committed;
  const next = archivedHighWatermark + 1n;
  return next > committed ? next : committed;
}
