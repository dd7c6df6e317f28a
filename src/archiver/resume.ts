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

/** What the partition's log in Kafka says about the resume offset. */
export type LogCheck =
  | { kind: 'ok'; resumeAt: bigint }
  /** Retention (or DeleteRecords) removed records before they were archived: skip to the log start. */
  | { kind: 'lost'; resumeAt: bigint; from: bigint; to: bigint; count: bigint }
  /**
   * The log ends before what is already archived (or committed): the topic was deleted and
   * re-created, or the partition truncated. Its records must not be mixed into the archive.
   */
  | { kind: 'diverged'; logEnd: bigint; expected: bigint };

/**
 * `resume` is where the partition resumes (resumeOffset); `archivedHighWatermark` the archive's
 * last offset of it. The Kafka client may already have reset an out-of-range committed offset to
 * the log start, so the archive's end, not the fetch position, tells what went missing.
 */
export function checkLog(
  resume: bigint,
  archivedHighWatermark: bigint | null,
  log: { low: bigint; high: bigint } | undefined,
): LogCheck {
  if (log === undefined) return { kind: 'ok', resumeAt: resume };
  if (log.high < resume) return { kind: 'diverged', logEnd: log.high, expected: resume };
  const expected = archivedHighWatermark === null ? resume : archivedHighWatermark + 1n;
  if (expected < log.low) {
    return {
      kind: 'lost',
      resumeAt: resume > log.low ? resume : log.low,
      from: expected,
      to: log.low - 1n,
      count: log.low - expected,
    };
  }
  return { kind: 'ok', resumeAt: resume };
}
