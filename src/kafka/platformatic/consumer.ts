import {
  Admin,
  Consumer,
  type ConnectionPool,
  FetchIsolationLevels,
  ListOffsetTimestamps,
  type GroupAssignment,
} from '@platformatic/kafka';
import type { Logger } from '../../log/index.js';
import { ArchiveError, ErrorCodes } from '../../errors.js';
import { backoffMs, sleep } from '../../util/backoff.js';
import type {
  BatchControl,
  ConsumerHandlers,
  FetchSizes,
  GroupConsumer,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.js';
import { describeKafkaError, toArchiveError } from './errors.js';
import { fetchPool, forwardClientEvents, type ClientSettings } from './options.js';
import { FETCH, fetchRound, keyOf, type Requested, type Round } from './fetch-round.js';
import { existingPartitionCounts, readGroupOffsets } from './group-offsets.js';

/** Consecutive failed fetch rounds (with back-off, about a minute) before the consumer gives up. */
const MAX_FETCH_FAILURES = 8;

/**
 * GroupConsumer over @platformatic/kafka. Group membership (join, sync, heartbeats on a timer,
 * rebalances, commits) is the client's Consumer; fetching is this adapter's own loop over
 * Consumer#fetch, on a connection pool of its own, because the client's MessagesStream cannot
 * pause, resume or seek one partition and hides the record-batch facts the interface needs
 * (offsets of skipped control batches, timestamp type).
 *
 *   joinGroup ──join event──> positions := committed (or earliest) ──> onAssignment
 *       │                                                                  │
 *       └── heartbeats on the client's timer (not blocked by onBatch)      v
 *   fetch round (one request per leader) ──> decode ──> onBatch, one at a time, in order
 *        ^  the next round is already in flight while onBatch runs          │
 *        └──────────── positions advance unless a seek/pause/join intervened┘
 */
export class PlatformaticConsumer implements GroupConsumer {
  private consumer: Consumer | null = null;
  private pool: ConnectionPool | null = null;
  private handlers: ConsumerHandlers | null = null;
  private topics: string[] = [];
  private running = false;
  private loop: Promise<void> | null = null;
  private shutdown: Promise<void> | null = null;
  private readonly stopController = new AbortController();
  private readonly stopped: Promise<null> = new Promise((resolve) =>
    this.stopController.signal.addEventListener('abort', () => resolve(null), { once: true }),
  );
  private wake: (() => void) | null = null;
  /** The current assignment and fetch positions (next offset to fetch) per partition. */
  private assigned = new Map<string, TopicPartition>();
  private readonly positions = new Map<string, bigint>();
  private readonly paused = new Set<string>();
  /** Joins seen (from the client's events) and the last one applied to positions. */
  private joinsSeen = 0;
  private generation = 0;
  private pendingAssignment: GroupAssignment[] | null = null;
  /** The client's group generation id when the current assignment was applied. */
  private appliedGenerationId = -1;
  private readonly log: Logger;

  constructor(
    private readonly settings: ClientSettings,
    private readonly groupId: string,
    log: Logger,
    private readonly sizes: FetchSizes,
    private readonly sessionTimeoutMs = 30_000,
  ) {
    this.log = log.child({ groupId });
  }

  async start(topics: string[], handlers: ConsumerHandlers): Promise<void> {
    if (this.consumer !== null) throw new Error('consumer already started');
    this.handlers = handlers;
    this.topics = [...topics];
    const heartbeatInterval = Math.max(100, Math.min(3_000, Math.floor(this.sessionTimeoutMs / 3)));
    const consumer = new Consumer({
      ...this.settings,
      // Group operations and the adapter's fetches retry a few times; the loop backs off itself.
      retries: 3,
      groupId: this.groupId,
      sessionTimeout: this.sessionTimeoutMs,
      rebalanceTimeout: Math.max(60_000, this.sessionTimeoutMs),
      heartbeatInterval,
      // kafkajs' protocol name and version (its RoundRobinAssigner, consumer protocol v0, which
      // both clients encode the same way), so members on either client can share a group: the
      // product can move from one client to the other by a rolling restart.
      protocols: [{ name: 'RoundRobinAssigner', version: 0 }],
      autocommit: false,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      minBytes: 1,
      maxBytes: this.sizes.maxBytes,
      maxWaitTime: FETCH.maxWaitMs,
    });
    this.consumer = consumer;
    forwardClientEvents(consumer, this.log);
    consumer.on('consumer:group:join', (payload) => {
      this.joinsSeen++;
      this.pendingAssignment = payload.assignments ?? [];
      this.wakeUp();
    });
    // Emitted when a rejoin failed after the client's retries: it sends no more heartbeats, the
    // member is gone. Without a listener this 'error' would be thrown.
    consumer.on('error', (err: Error) => this.crash(err));
    this.pool = fetchPool(this.settings, this.log);
    consumer.topics.trackAll(...topics);
    try {
      await consumer.joinGroup({});
    } catch (err) {
      await this.close();
      throw toArchiveError(
        err,
        `cannot join consumer group ${this.groupId} at ${this.settings.bootstrapBrokers.join(',')}`,
        ErrorCodes.KAFKA_UNAVAILABLE,
      );
    }
    this.running = true;
    this.loop = this.run().catch((err: unknown) => this.crash(err));
  }

  async stop(): Promise<void> {
    if (this.consumer === null) return;
    this.running = false;
    this.stopController.abort();
    this.wakeUp();
    await this.loop;
    await this.close();
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    const c = this.consumer;
    if (c === null || offsets.length === 0) return;
    // Commit only for the assignment the caller has seen: after a rejoin the group may have
    // moved these partitions elsewhere.
    if (this.pendingAssignment !== null || c.generationId !== this.appliedGenerationId) {
      throw new ArchiveError(
        ErrorCodes.KAFKA_COMMIT_FAILED,
        'offset commit skipped: the consumer group is rebalancing',
        { retryable: true },
      );
    }
    try {
      await c.commit({
        offsets: offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: o.offset,
          leaderEpoch: -1,
        })),
      });
    } catch (err) {
      throw new ArchiveError(
        ErrorCodes.KAFKA_COMMIT_FAILED,
        `offset commit failed: ${describeKafkaError(err)}`,
        { retryable: true, cause: err },
      );
    }
  }

  seek(p: TopicPartitionOffset): void {
    this.positions.set(keyOf(p.topic, p.partition), p.offset);
    this.wakeUp();
  }

  pause(partitions: TopicPartition[]): void {
    for (const p of partitions) this.paused.add(keyOf(p.topic, p.partition));
  }

  resume(partitions: TopicPartition[]): void {
    for (const p of partitions) this.paused.delete(keyOf(p.topic, p.partition));
    this.wakeUp();
  }

  async committed(topic: string): Promise<Map<number, bigint>> {
    // A short-lived admin: this works before start and after stop, like the kafkajs adapter.
    const admin = new Admin({ ...this.settings });
    try {
      const partitions =
        (await existingPartitionCounts(admin, [topic])).get(topic)?.partitions ?? 0;
      const committed = (await readGroupOffsets(admin, this.groupId, [topic])).get(topic);
      const out = new Map<number, bigint>();
      for (let p = 0; p < partitions; p++) out.set(p, committed?.get(p)?.offset ?? -1n);
      return out;
    } catch (err) {
      throw toArchiveError(err, `cannot read the committed offsets of group ${this.groupId}`);
    } finally {
      await admin.close().catch(() => undefined);
    }
  }

  // ---- the fetch loop -------------------------------------------------------------------------

  private async run(): Promise<void> {
    let inflight: Promise<Round> | null = null;
    let failures = 0;
    while (this.running) {
      if (this.pendingAssignment !== null) {
        inflight = null; // started for the previous assignment: its data is stale
        await this.applyAssignment();
        continue;
      }
      const round = inflight ?? this.startRound(this.wanted());
      inflight = null;
      if (round === null) {
        await this.idle(FETCH.maxWaitMs);
        continue;
      }
      const result = await Promise.race([round, this.stopped]);
      if (result === null || !this.running) break;
      if (result.requests === 0 && result.errors.length === 0) {
        this.consumer?.clearMetadata(); // no partition has a leader right now
        await this.idle(FETCH.maxWaitMs);
        continue;
      }
      if (result.errors.length > 0 && result.batches.length === 0) {
        failures++;
        this.consumer?.clearMetadata();
        if (failures >= MAX_FETCH_FAILURES) {
          throw toArchiveError(result.errors.at(-1), 'fetching from Kafka keeps failing');
        }
        this.log.warn(
          { attempt: failures, err: describeKafkaError(result.errors.at(-1)) },
          'fetch failed; retrying',
        );
        await sleep(backoffMs(failures, 300, 30_000), this.stopController.signal);
        continue;
      }
      failures = 0;
      await this.resetOutOfRange(result);
      // Prefetch: the next round from the positions this round leads to, while it is delivered.
      if (this.pendingAssignment === null) inflight = this.startRound(this.wantedAfter(result));
      await this.deliver(result);
    }
  }

  /** Assigned, unpaused partitions at their current positions. */
  private wanted(): Requested[] {
    const out: Requested[] = [];
    for (const [key, tp] of this.assigned) {
      if (this.paused.has(key)) continue;
      const offset = this.positions.get(key);
      if (offset !== undefined) out.push({ ...tp, offset });
    }
    return out;
  }

  /** As wanted(), with the positions after `round` is delivered (where nothing intervenes). */
  private wantedAfter(round: Round): Requested[] {
    const next = new Map<string, bigint>();
    for (const b of round.batches) next.set(keyOf(b.topic, b.partition), b.nextOffset);
    return this.wanted().map((r) => {
      const key = keyOf(r.topic, r.partition);
      const req = round.requested.get(key);
      const after = next.get(key);
      return req !== undefined && after !== undefined && req.offset === r.offset
        ? { ...r, offset: after }
        : r;
    });
  }

  private startRound(wanted: Requested[]): Promise<Round> | null {
    const consumer = this.consumer;
    const pool = this.pool;
    if (wanted.length === 0 || consumer === null || pool === null) return null;
    return fetchRound(consumer, pool, this.topics, wanted, this.generation, this.sizes);
  }

  /** Hand the round's batches to onBatch, one at a time, where nothing made them stale. */
  private async deliver(round: Round): Promise<void> {
    const handlers = this.handlers;
    if (handlers === null) return;
    for (const batch of round.batches) {
      if (!this.running || this.pendingAssignment !== null) return;
      const key = keyOf(batch.topic, batch.partition);
      const req = round.requested.get(key);
      if (
        req === undefined ||
        round.generation !== this.generation ||
        !this.assigned.has(key) ||
        this.paused.has(key) ||
        this.positions.get(key) !== req.offset
      ) {
        continue; // seeked, paused or reassigned since the fetch: fetched again from the position
      }
      const stale = () =>
        this.pendingAssignment !== null ||
        round.generation !== this.generation ||
        this.positions.get(key) !== req.offset;
      const control: BatchControl = {
        heartbeat: () => Promise.resolve(), // the client heartbeats on its own timer
        isRunning: () => this.running,
        isStale: stale,
      };
      await handlers.onBatch(batch, control);
      if (!stale()) this.positions.set(key, batch.nextOffset);
    }
  }

  private async resetOutOfRange(round: Round): Promise<void> {
    const gone: Array<Requested & { logStartOffset: bigint; highWatermark: bigint }> = [];
    for (const r of round.outOfRange) {
      const key = keyOf(r.topic, r.partition);
      if (round.generation === this.generation && this.positions.get(key) === r.offset)
        gone.push(r);
    }
    if (gone.length === 0) return;
    const earliest = await this.listOffsets(gone, ListOffsetTimestamps.EARLIEST).catch(
      () => new Map<string, bigint>(),
    );
    for (const r of gone) {
      const key = keyOf(r.topic, r.partition);
      const to = earliest.get(key) ?? (r.logStartOffset >= 0n ? r.logStartOffset : undefined);
      if (to === undefined || this.positions.get(key) !== r.offset) continue;
      this.log.warn(
        {
          topic: r.topic,
          partition: r.partition,
          fetchOffset: r.offset.toString(),
          logStartOffset: r.logStartOffset.toString(),
          highWatermark: r.highWatermark.toString(),
          resetTo: to.toString(),
        },
        r.offset < to
          ? 'fetch offset is below the log start (records were deleted before they were consumed); resetting to the log start'
          : 'fetch offset is beyond the log end (topic re-created or log truncated); resetting to the log start',
      );
      this.positions.set(key, to);
    }
  }

  // ---- assignment -----------------------------------------------------------------------------

  /** A join happened: positions from the committed offsets (earliest where none), then notify. */
  private async applyAssignment(): Promise<void> {
    const consumer = this.consumer;
    const handlers = this.handlers;
    if (consumer === null || handlers === null) return;
    for (let attempt = 0; this.running; attempt++) {
      const assignments = this.pendingAssignment ?? [];
      const seen = this.joinsSeen;
      const generationId = consumer.generationId;
      const tps: TopicPartition[] = [];
      for (const a of assignments)
        for (const partition of a.partitions) tps.push({ topic: a.topic, partition });
      let positions: Map<string, bigint>;
      try {
        positions = await this.startPositions(consumer, assignments, tps);
      } catch (err) {
        if (attempt >= MAX_FETCH_FAILURES) throw err;
        this.log.warn(
          { attempt, err: describeKafkaError(err) },
          'cannot read the committed offsets of the new assignment; retrying',
        );
        await sleep(backoffMs(attempt, 300, 10_000), this.stopController.signal);
        continue;
      }
      if (seen !== this.joinsSeen) continue; // joined again meanwhile
      this.pendingAssignment = null;
      this.generation++;
      this.appliedGenerationId = generationId;
      this.assigned = new Map(tps.map((tp) => [keyOf(tp.topic, tp.partition), tp]));
      this.positions.clear();
      for (const [k, v] of positions) this.positions.set(k, v);
      this.log.debug(
        { client: '@platformatic/kafka', generationId, partitions: tps.length },
        'consumer group joined; fetch positions at the committed offsets',
      );
      try {
        await handlers.onAssignment(tps);
      } catch (err) {
        this.log.error({ err }, 'assignment handler failed');
      }
      return;
    }
  }

  private async startPositions(
    consumer: Consumer,
    assignments: GroupAssignment[],
    tps: TopicPartition[],
  ): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    if (tps.length === 0) return out;
    const committed = await consumer.listCommittedOffsets({ topics: assignments });
    const missing: TopicPartition[] = [];
    for (const tp of tps) {
      const c = committed.get(tp.topic)?.[tp.partition];
      if (c !== undefined && c >= 0n) out.set(keyOf(tp.topic, tp.partition), c);
      else missing.push(tp);
    }
    if (missing.length > 0) {
      const earliest = await this.listOffsets(missing, ListOffsetTimestamps.EARLIEST);
      for (const tp of missing) {
        const key = keyOf(tp.topic, tp.partition);
        out.set(key, earliest.get(key) ?? 0n);
      }
    }
    return out;
  }

  private async listOffsets(
    tps: TopicPartition[],
    timestamp: bigint,
  ): Promise<Map<string, bigint>> {
    const consumer = this.consumer;
    const out = new Map<string, bigint>();
    if (consumer === null || tps.length === 0) return out;
    const partitions: Record<string, number[]> = {};
    for (const tp of tps) (partitions[tp.topic] ??= []).push(tp.partition);
    const res = await consumer.listOffsets({
      topics: Object.keys(partitions),
      partitions,
      timestamp,
    });
    for (const tp of tps) {
      const o = res.get(tp.topic)?.[tp.partition];
      if (o !== undefined && o >= 0n) out.set(keyOf(tp.topic, tp.partition), o);
    }
    return out;
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private crash(err: unknown): void {
    if (!this.running) return;
    this.running = false;
    this.stopController.abort();
    this.wakeUp();
    const error = toArchiveError(err, 'Kafka consumer failed', ErrorCodes.KAFKA_UNAVAILABLE);
    this.log.error({ err: error.message }, 'Kafka consumer gave up');
    // Leave the group so the partitions move on; the caller decides whether to restart.
    void this.close();
    this.handlers?.onCrash?.(error);
  }

  private close(): Promise<void> {
    this.shutdown ??= (async () => {
      await this.consumer
        ?.close()
        .catch((err: unknown) =>
          this.log.warn({ err: describeKafkaError(err) }, 'leaving the consumer group failed'),
        );
      await this.consumer?.close(true).catch(() => undefined);
      await this.pool?.close().catch(() => undefined);
    })();
    return this.shutdown;
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
