import { groupNameStorable, writeGroupSnapshot, type GroupOffsetRow } from '../archive/index.js';
import { codeOf, describeError, ErrorCodes } from '../errors.js';
import type { Admin, KafkaClient } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/index.js';
import { wholeNameRegex } from '../util/topic-pattern.js';

export interface GroupSnapshotterDeps {
  kafka: KafkaClient;
  store: ObjectStore;
  /** `archiver.groups`: names or whole-name regular expressions (validated by the config). */
  patterns: readonly string[];
  intervalMs: number;
  /** The topics archived now: only their offsets are recorded. */
  topics: () => string[];
  log: Logger;
  now?: () => number;
}

export interface SnapshotRound {
  /** Groups that matched `archiver.groups`. */
  groups: number;
  /** Snapshots written (a group whose positions changed, or unchanged for a day). */
  written: number;
  /** Groups left out: no committed offset on an archived topic, or unchanged. */
  skipped: number;
  /** Groups whose snapshot failed (warned). */
  failed: number;
}

/** How long stop() waits for a round in progress. */
const STOP_WAIT_MS = 5_000;

/** An unchanged group is written again after this long, so a lookup finds it within days. */
const REWRITE_UNCHANGED_MS = 86_400_000;

/** Whether a group matches an `archiver.groups` entry: the same name, or the whole-name regex. */
export function groupMatcher(patterns: readonly string[]): (group: string) => boolean {
  const names = new Set(patterns);
  const regexes = patterns.map(wholeNameRegex).filter((r): r is RegExp => r !== null);
  return (g) => names.has(g) || regexes.some((r) => r.test(g));
}

const fingerprint = (rows: readonly GroupOffsetRow[]) =>
  rows.map((r) => `${r.topic}\u0000${r.partition}\u0000${r.offset}\u0000${r.metadata}`).join('\n');

/**
 * Records the committed offsets of the configured consumer groups in the object store, every
 * `archiver.groupsIntervalMs`, on its own timer: archiving never waits for it. A round lists the
 * cluster's groups, reads each matching group's offsets on the archived topics and writes a
 * snapshot object when they changed since the last one this process wrote (or a day passed).
 * Any failure is one warning (GROUP_SNAPSHOT_FAILED) and the next round tries again.
 */
export class GroupSnapshotter {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<SnapshotRound> | null = null;
  private admin: Admin | null = null;
  private readonly last = new Map<string, { print: string; atMs: number }>();
  private readonly matches: (group: string) => boolean;
  private readonly now: () => number;
  private unstorableWarned = new Set<string>();
  /** Rounds and snapshots so far (for metrics and tests). */
  readonly stats = { rounds: 0, written: 0, failures: 0, lastWrittenAtMs: 0 };

  constructor(private readonly deps: GroupSnapshotterDeps) {
    this.matches = groupMatcher(deps.patterns);
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.timer !== null) return;
    const tick = () => {
      if (this.running === null) void this.runOnce();
    };
    this.timer = setInterval(tick, this.deps.intervalMs);
    this.timer.unref();
    tick();
  }

  /** Stops the timer; a round in progress gets a few seconds (snapshots can be abandoned). */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.running !== null) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([
        this.running.catch(() => undefined),
        new Promise((r) => (t = setTimeout(r, STOP_WAIT_MS))),
      ]);
      clearTimeout(t);
    }
    await this.dropAdmin();
  }

  /** One round now (waits for a round in progress instead of starting another). */
  runOnce(): Promise<SnapshotRound> {
    this.running ??= this.round().finally(() => (this.running = null));
    return this.running;
  }

  private async dropAdmin(): Promise<void> {
    const a = this.admin;
    this.admin = null;
    await a?.disconnect().catch(() => undefined);
  }

  private warn(err: unknown, msg: string, extra: Record<string, unknown> = {}): void {
    this.stats.failures++;
    this.deps.log.warn(
      {
        code: ErrorCodes.GROUP_SNAPSHOT_FAILED,
        cause: codeOf(err),
        err: describeError(err),
        ...extra,
      },
      `${msg}; retrying in ${this.deps.intervalMs} ms`,
    );
  }

  private async round(): Promise<SnapshotRound> {
    this.stats.rounds++;
    const out: SnapshotRound = { groups: 0, written: 0, skipped: 0, failed: 0 };
    const topics = this.deps.topics();
    if (topics.length === 0) return out;
    let admin: Admin;
    let groups: string[];
    try {
      admin = this.admin ??= await this.deps.kafka.admin();
      groups = (await admin.listGroups()).filter(this.matches);
    } catch (err) {
      this.warn(err, 'cannot list the consumer groups to snapshot');
      await this.dropAdmin();
      out.failed++;
      return out;
    }
    out.groups = groups.length;
    for (const group of groups) {
      if (!groupNameStorable(group)) {
        if (!this.unstorableWarned.has(group)) {
          this.unstorableWarned.add(group);
          this.deps.log.warn(
            { code: ErrorCodes.GROUP_SNAPSHOT_FAILED, group },
            'consumer group name too long for an object key; its positions are not archived',
          );
        }
        out.skipped++;
        continue;
      }
      try {
        const at = this.now();
        const byTopic = await admin.groupOffsets(group, topics);
        const rows: GroupOffsetRow[] = [];
        for (const [topic, m] of [...byTopic].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
          for (const [partition, c] of [...m].sort((a, b) => a[0] - b[0]))
            rows.push({ topic, partition, offset: c.offset, metadata: c.metadata });
        const print = fingerprint(rows);
        const prev = this.last.get(group);
        if (
          rows.length === 0 ||
          (prev !== undefined && prev.print === print && at - prev.atMs < REWRITE_UNCHANGED_MS)
        ) {
          out.skipped++;
          continue;
        }
        const w = await writeGroupSnapshot(this.deps.store, group, at, rows);
        this.last.set(group, { print, atMs: at });
        if (w.written) {
          out.written++;
          this.stats.written++;
          this.stats.lastWrittenAtMs = at;
          this.deps.log.debug({ group, key: w.key, partitions: rows.length }, 'group snapshot');
        }
      } catch (err) {
        this.warn(err, `cannot snapshot consumer group ${group}`, { group });
        out.failed++;
        if (codeOf(err).startsWith('KAFKA_')) await this.dropAdmin();
        if (this.admin === null) break; // the rest would fail the same way
      }
    }
    return out;
  }
}
