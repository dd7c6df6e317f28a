import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiverConfig, RotationPolicy } from '../config/index.js';
import { ErrorCodes, errnoCode, describeError, isArchiveError } from '../errors.js';
import type { Logger } from '../log/index.js';
import type {
  Admin,
  BatchControl,
  GroupConsumer,
  KafkaClient,
  PartitionBatch,
  TopicPartition,
} from '../kafka/index.js';
import type { ArchivedHighWatermark } from '../catalog/index.js';
import type { KafkaRecord } from '../record.js';
import { parseStream, segmentRelPath } from '../archive/index.js';
import type { SegmentMeta, SegmentWriter } from '../segment/index.js';
import { backoffMs, sleep } from '../util/backoff.js';
import { PartitionBuffer, recordSize, unarchivedContent } from './partition-buffer.js';
import { checkLog, resumeOffset, type LogCheck } from './resume.js';
import type { GenerationResolver } from './generations.js';
import { classify, TopicIdentityWatch, type IdentityAnswer } from './identity.js';
import { resolveTopics, sameTopics } from './topic-resolver.js';

export interface ArchiverDeps {
  kafka: KafkaClient;
  config: ArchiverConfig;
  writer: Pick<SegmentWriter, 'write'>;
  /** The archive's highest offset per partition (resume point and overlap trimming). */
  index: ArchivedHighWatermark;
  /**
   * Records a sealed segment in the catalog. Awaited before the segment's offset is committed:
   * an offset is committed only once its segment is durable and catalogued. When it fails, that
   * commit is skipped (the next seal's commit covers it; the catalog check repairs the entry).
   */
  recordSealed?: (e: SealedSegmentEvent) => Promise<void>;
  /**
   * Maps a topic's current incarnation to its generation (archive/generations.ts). Without it
   * every topic is generation 1 (the offset check still refuses a re-created topic).
   */
  generations?: Pick<GenerationResolver, 'streamOf'>;
  log: Logger;
}

export interface SealedSegmentEvent {
  /** The stream (the topic for generation 1, `<topic>~<n>` for generation n). */
  topic: string;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
  records: number;
  bytes: number;
  path: string;
  /** The footer facts of the sealed segment. */
  meta: SegmentMeta;
}

export interface ArchiverStats {
  recordsArchived: number;
  segmentsSealed: number;
  bytesWritten: number;
  sealFailures: number;
  commitFailures: number;
  /** Records removed from Kafka (retention, DeleteRecords) before they were archived. */
  lostRecords: number;
  /** The same, per partition (the partitions with any). */
  lostRecordsByPartition?: Array<{ topic: string; partition: number; records: number }>;
  /** Partitions whose log ends before the archive does (re-created topics), not archived. */
  divergedPartitions: number;
  pausedPartitions: number;
  bufferedBytes: number;
  assignedPartitions: number;
  topics: string[];
  /** Why Kafka cannot be used right now ("[CODE] cause"), while the archiver retries. */
  kafkaProblem?: string;
}

/** While Kafka stays unusable, the same problem is logged again at most this often. */
const KAFKA_WARN_WINDOW_MS = 60_000;

/** The longest stretch a batch is worked through without letting the event loop turn. */
const BATCH_SLICE_MS = 10;

interface PartitionState {
  tp: TopicPartition;
  key: string;
  /** Where its segments go: the stream of the topic's current generation. */
  stream: string;
  generation: number;
  owned: boolean;
  /** The next offset this archiver expects; records below it are already held or archived. */
  nextOffset: bigint;
  buffer: PartitionBuffer;
  /** Seals run one after another per partition, so commits move forward in order. */
  chain: Promise<void>;
  sealingBytes: number;
  failing: boolean;
  /** The log in Kafka ends before the archive does (re-created topic): nothing is archived. */
  diverged: boolean;
  /** Kafka's topic id of the incarnation archived (its generation record's), if known. */
  topicId: string | null;
  /**
   * Records below this offset were fetched before an identity check found the topic unchanged
   * (or already deleted): they are of the incarnation archived (archiver/identity.ts).
   */
  verifiedOffset: bigint;
  /** A fetch did not start where this partition expected: check the topic's identity soon. */
  suspect: boolean;
  /** The topic was re-created under this state: nothing more is appended or committed. */
  recreated: boolean;
  /** What the check that last moved verifiedOffset found. */
  verifiedBy: 'start' | 'same' | 'missing';
}

/** How often the identity of topics with unverified records is checked. */
const IDENTITY_CHECK_MS = 1_000;

interface TopicGeneration {
  stream: string;
  generation: number;
  topicId: string | null;
}

const keyOf = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

/**
 * The archiver service: follows topics (names and patterns) in a consumer group and writes every
 * record into per-partition Parquet segments on the hot tier.
 *
 *   Kafka --fetch--> onBatch --append--> PartitionBuffer --rotate--> seal chain (per partition)
 *                                                                      |  write temp, fsync,
 *                                                                      |  rename, fsync dir
 *                                                                      v
 *                                                       commit offset (only if still owned)
 *
 * Invariants: an offset is committed only after the segment holding every record below it is
 * durable; on assignment a partition resumes at max(committed, archived high-water mark + 1);
 * a failing seal (disk full, permissions) pauses that partition and retries with back-off, the
 * process never exits for it.
 */
export class Archiver {
  private consumer: GroupConsumer | null = null;
  private admin: Admin | null = null;
  private readonly states = new Map<string, PartitionState>();
  /** Seal chains of partitions that were revoked: a re-assignment waits for them. */
  private readonly retiring = new Map<string, Promise<void>>();
  private inits = new Map<string, Promise<PartitionState>>();
  private topics = new Map<string, number>();
  private stopping = false;
  private running = false;
  private timers: NodeJS.Timeout[] = [];
  private refreshing: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private readonly stats = {
    recordsArchived: 0,
    segmentsSealed: 0,
    bytesWritten: 0,
    sealFailures: 0,
    commitFailures: 0,
  };
  /** Records lost before they were archived, per `topic/partition` (stats' lostRecords). */
  private readonly lostByPartition = new Map<
    string,
    { topic: string; partition: number; records: number }
  >();
  /** Log start/end per topic, fetched once per assignment for the partitions resumed in it. */
  private logRanges = new Map<string, Promise<Map<number, { low: bigint; high: bigint }> | null>>();
  /** The generation of each topic, resolved once per assignment. */
  private generationsByTopic = new Map<string, Promise<TopicGeneration>>();
  /** The last generation resolved per topic: the answer while the object store is unreachable. */
  private readonly lastGeneration = new Map<string, TopicGeneration>();
  /** Topic ids now against the generations' (re-creation while archiving). */
  private readonly identity = new TopicIdentityWatch((topics) =>
    this.admin === null
      ? Promise.reject(new Error('no admin client'))
      : this.admin.topicIds(topics),
  );
  /** A re-created topic was found: the next refresh restarts the consumer. */
  private restartRequested = false;
  /** Topics this member found re-created while it archived them. */
  private readonly recreatedWhileArchiving = new Set<string>();
  private readonly listeners: Array<(e: SealedSegmentEvent) => void> = [];
  private pausedReason: string | null = null;
  private joinedGroup = false;
  /** Kafka connection attempts failed in a row at start (0 once connected). */
  private kafkaFailures = 0;
  private kafkaProblem: string | null = null;
  private kafkaProblemLoggedAt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private startAborted: () => void = () => undefined;

  /** This member has joined the consumer group (received an assignment) and not left it. */
  get joined(): boolean {
    return this.joinedGroup && !this.stopping;
  }

  constructor(private readonly deps: ArchiverDeps) {}

  /**
   * This member is in the group and assigned the partition now (the tierer uploads a partition's
   * new segments only from its owner: README "Archive format").
   */
  owns(stream: string, partition: number): boolean {
    if (!this.joined) return false;
    const parsed = parseStream(stream);
    if (parsed === null) return false;
    const current = this.lastGeneration.get(parsed.topic);
    // A past generation of a re-created topic: no member archives into it any more.
    if (current !== undefined && parsed.generation < current.generation) return true;
    const s = this.states.get(keyOf({ topic: parsed.topic, partition }));
    return s?.owned === true && s.stream === stream;
  }

  onSealed(listener: (e: SealedSegmentEvent) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Starts archiving. Kafka being unreachable or refusing the credentials does not fail the
   * start: the archiver stays up (not ready, `kafkaProblem` says why), logs the problem once
   * per window, and keeps connecting with back-off, so a supervisor sees no crash loop.
   */
  async start(): Promise<void> {
    const { config, log } = this.deps;
    await mkdir(config.hotDir, { recursive: true });
    this.running = true;
    // The first attempt is awaited (so callers find the archiver subscribed when Kafka answers),
    // but a stop() meanwhile ends the wait: a stop request during start-up is honoured at once.
    await Promise.race([
      this.connect(),
      new Promise<void>((resolve) => (this.startAborted = resolve)),
    ]);
    this.timers.push(
      setInterval(() => void this.refreshTopicsOnce(), config.metadataRefreshMs),
      setInterval(() => this.checkIdentities(), IDENTITY_CHECK_MS),
      setInterval(
        () => this.flushIdle(),
        Math.min(1000, Math.max(100, config.flushIntervalMs / 4)),
      ),
    );
    log.info(
      {
        groupId: config.groupId,
        topics: config.topics,
        topicPatterns: config.topicPatterns,
        hotDir: config.hotDir,
      },
      'archiver started',
    );
  }

  /** One attempt to connect the admin client and subscribe; on failure, the next is scheduled. */
  private async connect(): Promise<void> {
    this.reconnectTimer = null;
    if (this.stopping) return;
    const { log } = this.deps;
    try {
      if (this.admin === null) {
        const admin = await this.deps.kafka.admin();
        if (this.stopping) {
          await admin.disconnect().catch(() => undefined);
          return;
        }
        this.admin = admin;
      }
      await this.refreshTopics();
      if (this.kafkaFailures > 0) {
        log.info({ attempts: this.kafkaFailures + 1 }, 'Kafka reachable again');
      }
      this.kafkaFailures = 0;
      this.kafkaProblem = null;
    } catch (err) {
      const code = isArchiveError(err) ? err.code : ErrorCodes.KAFKA_UNAVAILABLE;
      const problem = `[${code}] ${describeError(err)}`;
      const delayMs = Math.round(backoffMs(this.kafkaFailures, 1_000, 30_000));
      this.kafkaFailures++;
      const now = Date.now();
      if (
        problem !== this.kafkaProblem ||
        now - this.kafkaProblemLoggedAt >= KAFKA_WARN_WINDOW_MS
      ) {
        this.kafkaProblemLoggedAt = now;
        log.warn(
          { code, err: describeError(err), attempts: this.kafkaFailures, retryInMs: delayMs },
          'cannot use Kafka; retrying with back-off (not ready until it answers)',
        );
      }
      this.kafkaProblem = problem;
      if (!this.stopping) {
        this.reconnectTimer = setTimeout(() => void this.connect(), delayMs);
      }
    }
  }

  /** Graceful stop: seal every open segment, commit, leave the group. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.running = false;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.startAborted(); // a start() still connecting returns now
    this.reconnectTimer = null;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.refreshing?.catch(() => undefined);
    const drained = await this.drainAll(timeoutMs);
    if (!drained) {
      this.deps.log.warn(
        { timeoutMs },
        'some open segments could not be sealed before the stop deadline; their records are not committed and will be consumed again',
      );
    }
    this.abort.abort();
    await this.consumer
      ?.stop()
      .catch((err: unknown) => this.deps.log.warn({ err }, 'consumer stop failed'));
    this.consumer = null;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = null;
    this.deps.log.info(this.getStats(), 'archiver stopped');
  }

  /**
   * Stop fetching every partition (the hot tier's disk reached its flood watermark). Records
   * already fetched are kept and sealed; nothing is skipped: consumption continues from the same
   * offsets after resumeAll().
   */
  pauseAll(reason: string): void {
    if (this.pausedReason !== null) return;
    this.pausedReason = reason;
    const tps = [...this.states.values()].map((s) => s.tp);
    if (tps.length > 0) this.consumer?.pause(tps);
    this.deps.log.warn({ reason, partitions: tps.length }, 'consumption paused');
  }

  resumeAll(): void {
    if (this.pausedReason === null) return;
    const reason = this.pausedReason;
    this.pausedReason = null;
    const tps = [...this.states.values()].filter((s) => !s.failing).map((s) => s.tp);
    if (tps.length > 0) this.consumer?.resume(tps);
    this.deps.log.info({ reason, partitions: tps.length }, 'consumption resumed');
  }

  get paused(): boolean {
    return this.pausedReason !== null;
  }

  getStats(): ArchiverStats {
    let buffered = 0;
    let paused = 0;
    let diverged = 0;
    for (const s of this.states.values()) {
      buffered += s.buffer.bytes + s.sealingBytes;
      if (s.failing || this.pausedReason !== null) paused++;
      if (s.diverged) diverged++;
    }
    const lost = [...this.lostByPartition.values()].map((l) => ({ ...l }));
    return {
      ...this.stats,
      lostRecords: lost.reduce((n, l) => n + l.records, 0),
      lostRecordsByPartition: lost,
      divergedPartitions: diverged,
      pausedPartitions: paused,
      bufferedBytes: buffered,
      assignedPartitions: this.states.size,
      topics: [...this.topics.keys()],
      ...(this.kafkaProblem !== null
        ? { kafkaProblem: `${this.kafkaProblem} (${this.kafkaFailures} failed attempts; retrying)` }
        : {}),
    };
  }

  private policyFor(topic: string): RotationPolicy {
    const { rotation, topicOverrides } = this.deps.config;
    const o = topicOverrides[topic]?.rotation;
    return {
      maxRecords: o?.maxRecords ?? rotation.maxRecords,
      maxBytes: o?.maxBytes ?? rotation.maxBytes,
      maxAgeMs: o?.maxAgeMs ?? rotation.maxAgeMs,
    };
  }

  // ---- subscription -------------------------------------------------------------------------

  private refreshTopicsOnce(): Promise<void> {
    if (this.refreshing !== null || this.stopping) return this.refreshing ?? Promise.resolve();
    // While the first connection is still being retried, that loop owns the subscription.
    if (this.reconnectTimer !== null) return Promise.resolve();
    this.refreshing = this.refreshTopics()
      .catch((err: unknown) => {
        this.deps.log.warn(
          {
            code: isArchiveError(err) ? err.code : ErrorCodes.KAFKA_UNAVAILABLE,
            err: describeError(err),
          },
          'topic refresh failed; will retry',
        );
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  private async refreshTopics(): Promise<void> {
    const admin = this.admin;
    if (admin === null || this.stopping) return;
    const { config, log } = this.deps;
    const found = await resolveTopics(admin, config.topics, config.topicPatterns);
    const restart = this.restartRequested;
    this.restartRequested = false;
    if (
      !restart &&
      sameTopics(found, this.topics) &&
      (this.consumer !== null || found.size === 0)
    ) {
      return;
    }
    const missing = config.topics.filter((t) => !found.has(t));
    if (missing.length > 0)
      log.warn(
        { missing },
        'configured topics do not exist yet; they will be picked up when created',
      );
    log.info(
      { topics: Object.fromEntries(found) },
      'subscription changed; (re)starting the consumer',
    );
    await this.restartConsumer(found);
  }

  private async restartConsumer(topics: Map<string, number>): Promise<void> {
    if (this.consumer !== null) {
      await this.drainAll(60_000);
      await this.consumer
        .stop()
        .catch((err: unknown) =>
          this.deps.log.warn({ err: describeError(err) }, 'consumer stop failed'),
        );
      this.consumer = null;
      for (const s of this.states.values()) this.retire(s);
    }
    this.topics = topics;
    this.joinedGroup = false;
    if (topics.size === 0 || this.stopping) return;
    const consumer = this.deps.kafka.consumer({
      groupId: this.deps.config.groupId,
      sessionTimeoutMs: this.deps.config.sessionTimeoutMs,
    });
    this.consumer = consumer;
    try {
      await this.startConsumer(consumer, topics);
    } catch (err) {
      // Leave no half-started consumer behind: the next refresh starts a new one.
      this.consumer = null;
      this.topics = new Map();
      await consumer.stop().catch(() => undefined);
      throw err;
    }
  }

  private async startConsumer(consumer: GroupConsumer, topics: Map<string, number>): Promise<void> {
    await consumer.start([...topics.keys()], {
      onBatch: (batch, control) => this.onBatch(batch, control),
      onAssignment: (assignment) => this.onAssignment(assignment),
      onCrash: (error) => {
        this.deps.log.error(
          { code: ErrorCodes.KAFKA_UNAVAILABLE, err: error.message },
          'Kafka consumer crashed; restarting it',
        );
        this.topics = new Map();
        this.joinedGroup = false;
        void sleep(2000, this.abort.signal).then(() => this.refreshTopicsOnce());
      },
    });
  }

  // ---- assignment ---------------------------------------------------------------------------

  private onAssignment(assignment: TopicPartition[]): void {
    this.joinedGroup = true;
    this.logRanges = new Map();
    this.generationsByTopic = new Map();
    const keep = new Set(assignment.map(keyOf));
    for (const s of [...this.states.values()]) {
      if (!keep.has(s.key)) this.retire(s);
    }
    // Kafka resets fetch positions to the committed offsets after every rebalance; partitions
    // we kept continue where our own buffer ends.
    for (const s of this.states.values()) this.consumer?.seek({ ...s.tp, offset: s.nextOffset });
    this.deps.log.info(
      { assigned: assignment.length, revoked: [...this.retiring.keys()].length },
      'partitions assigned',
    );
  }

  /** The partition left this member: seal what it holds (without committing) and forget it. */
  private retire(s: PartitionState): void {
    s.owned = false;
    this.states.delete(s.key);
    this.inits.delete(s.key);
    if (!s.buffer.isEmpty) this.sealBuffer(s);
    const done = s.chain.finally(() => {
      if (this.retiring.get(s.key) === done) this.retiring.delete(s.key);
    });
    this.retiring.set(s.key, done);
  }

  private stateFor(batch: PartitionBatch): Promise<PartitionState> {
    const tp = { topic: batch.topic, partition: batch.partition };
    const key = keyOf(tp);
    const existing = this.states.get(key);
    if (existing !== undefined) return Promise.resolve(existing);
    let init = this.inits.get(key);
    if (init === undefined) {
      init = (async () => {
        await this.retiring.get(key);
        const { stream, generation, topicId } = await this.generationOf(tp.topic);
        const hwm = await this.deps.index.highWatermark(stream, tp.partition);
        const logRange = (await this.logRange(tp.topic))?.get(tp.partition);
        let check = checkLog(resumeOffset(batch.fetchedOffset, hwm), hwm, logRange);
        if (
          this.recreatedWhileArchiving.has(tp.topic) &&
          generation > 1 &&
          hwm === null &&
          logRange !== undefined &&
          check.kind === 'ok' &&
          check.resumeAt !== logRange.low
        ) {
          // This member saw the topic re-created while archiving it: the new generation starts
          // at its log start, as a commit on the name may be the old incarnation's (made while
          // the topic was being replaced).
          this.deps.log.info(
            {
              topic: tp.topic,
              generation,
              partition: tp.partition,
              committed: batch.fetchedOffset.toString(),
              logStartOffset: logRange.low.toString(),
            },
            'nothing of this generation is archived of the partition: archiving it from the log start',
          );
          check = { kind: 'ok', resumeAt: logRange.low };
        }
        if (check.kind === 'diverged' && hwm === null && logRange !== undefined) {
          // Nothing of this generation is archived: the commit is the previous incarnation's.
          this.deps.log.warn(
            {
              topic: tp.topic,
              generation,
              partition: tp.partition,
              committed: batch.fetchedOffset.toString(),
              logStartOffset: logRange.low.toString(),
              logEndOffset: logRange.high.toString(),
            },
            'the committed offset lies past the log end and this generation has nothing archived of the partition: archiving from the log start',
          );
          check = { kind: 'ok', resumeAt: logRange.low };
        }
        const resume = check.kind === 'diverged' ? check.expected : check.resumeAt;
        const state: PartitionState = {
          tp,
          key,
          stream,
          generation,
          owned: true,
          nextOffset: resume,
          buffer: new PartitionBuffer(resume, this.policyFor(tp.topic), Date.now()),
          chain: Promise.resolve(),
          sealingBytes: 0,
          failing: false,
          diverged: check.kind === 'diverged',
          topicId,
          verifiedOffset: resume,
          suspect: false,
          recreated: false,
          verifiedBy: 'start',
        };
        this.states.set(key, state);
        this.reportLogCheck(tp, check, hwm);
        if (resume !== batch.fetchedOffset) this.consumer?.seek({ ...tp, offset: resume });
        this.deps.log.info(
          {
            topic: tp.topic,
            ...(generation > 1 ? { generation } : {}),
            partition: tp.partition,
            committed: batch.fetchedOffset.toString(),
            archivedHighWatermark: hwm?.toString() ?? null,
            resumeAt: resume.toString(),
          },
          'partition resumed',
        );
        return state;
      })();
      this.inits.set(key, init);
    }
    return init;
  }

  // ---- consuming ----------------------------------------------------------------------------

  private async onBatch(batch: PartitionBatch, control: BatchControl): Promise<void> {
    if (this.stopping) return;
    const state = await this.stateFor(batch);
    if (!state.owned || this.stopping) return;
    if (state.diverged || state.recreated) {
      this.consumer?.pause([state.tp]);
      return;
    }
    // Fetches start where the last one ended; anything else (a reset after an out-of-range
    // answer, or a fetch from before a rebalance's seek) gets the topic's identity checked.
    if (batch.fetchedOffset !== state.nextOffset) state.suspect = true;
    if (batch.fetchedOffset > state.nextOffset) {
      await this.checkSkipped(state, batch.fetchedOffset);
      if (!state.owned || this.stopping || state.diverged || state.recreated) return;
    }
    if (batch.nextOffset <= state.nextOffset) return; // all already held or archived
    // The client hands its batches over in the turn that decoded the whole fetch response:
    // start on a new turn, and hand the loop back whenever a slice has run long.
    if (!(await this.nextTurn(state))) return;
    let sliceStart = performance.now();
    const { records } = batch;
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as KafkaRecord;
      if (i % 256 === 255 && performance.now() - sliceStart > BATCH_SLICE_MS) {
        if (!(await this.nextTurn(state))) return;
        sliceStart = performance.now();
      }
      if (r.offset < state.nextOffset) continue;
      const size = recordSize(r);
      if (state.buffer.wouldOverflow(r, size)) this.sealBuffer(state, r.offset - 1n);
      state.buffer.add(r, size);
      state.nextOffset = r.offset + 1n;
      if (state.buffer.isFull) this.sealBuffer(state);
    }
    // Offsets after the last record that Kafka skipped (markers, aborted records).
    if (batch.nextOffset > state.nextOffset) {
      state.buffer.rangeEnd = batch.nextOffset - 1n;
      state.nextOffset = batch.nextOffset;
    }
    if (this.pausedReason !== null) this.consumer?.pause([state.tp]);
    await this.applyBackPressure(state, control);
  }

  /**
   * Lets the event loop turn (timers, heartbeats, HTTP, I/O), then tells whether the batch may
   * go on into this state: still owned and current, and the archiver not stopping. Records after
   * a revocation stay in Kafka for the next owner, as with any batch not yet handed over.
   */
  private async nextTurn(state: PartitionState): Promise<boolean> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return (
      state.owned &&
      !this.stopping &&
      !state.diverged &&
      !state.recreated &&
      this.states.get(state.key) === state
    );
  }

  /**
   * The stream of the topic's current generation: resolved against the shared generation
   * records once per assignment; while that fails, the last answer (or generation 1).
   */
  private generationOf(topic: string): Promise<TopicGeneration> {
    let p = this.generationsByTopic.get(topic);
    if (p === undefined) {
      const resolver = this.deps.generations;
      const admin = this.admin;
      const fallback = this.lastGeneration.get(topic) ?? {
        stream: topic,
        generation: 1,
        topicId: null,
      };
      p =
        resolver === undefined || admin === null
          ? Promise.resolve(fallback)
          : (async () => {
              const topicId = await admin
                .describeTopic(topic)
                .then((i) => i.topicId ?? null)
                .catch(() => null);
              const ranges = await this.logRange(topic);
              const logEnds =
                ranges === null ? null : new Map([...ranges].map(([p, r]) => [p, r.high]));
              const { stream, record } = await resolver.streamOf(topic, { topicId, logEnds });
              const answer = { stream, generation: record.generation, topicId: record.topicId };
              this.lastGeneration.set(topic, answer);
              return answer;
            })().catch((err: unknown) => {
              this.generationsByTopic.delete(topic);
              this.deps.log.warn(
                { topic, generation: fallback.generation, err: describeError(err) },
                "cannot read the topic's generation records; archiving into the last known generation (the offset check still refuses a re-created topic)",
              );
              return fallback;
            });
      this.generationsByTopic.set(topic, p);
    }
    return p;
  }

  /** The topic's log start and end per partition (null without an admin or on failure). */
  private logRange(topic: string): Promise<Map<number, { low: bigint; high: bigint }> | null> {
    let p = this.logRanges.get(topic);
    if (p === undefined) {
      const admin = this.admin;
      p =
        admin === null
          ? Promise.resolve(null)
          : admin.offsets(topic).catch((err: unknown) => {
              this.deps.log.warn(
                { topic, err: describeError(err) },
                'cannot read the log start and end offsets; resuming without checking them',
              );
              return null;
            });
      this.logRanges.set(topic, p);
    }
    return p;
  }

  /**
   * A fetch began past the partition's next offset: the client skipped offsets. Markers of
   * transactions and compacted-away records are skipped that way too, and still lie at or after
   * the log start; offsets below the log start were deleted (retention or DeleteRecords while
   * the partition was paused or behind, the client then reset to the log start) before they
   * were archived. Those are reported (RECORDS_LOST) and kept out of every segment's range.
   */
  private async checkSkipped(state: PartitionState, fetchedOffset: bigint): Promise<void> {
    const admin = this.admin;
    if (admin === null) return;
    const { tp } = state;
    let low: bigint | undefined;
    try {
      // Asked after the fetch: a log start past the offsets skipped proves them deleted.
      low = (await admin.offsets(tp.topic)).get(tp.partition)?.low;
    } catch (err) {
      this.deps.log.warn(
        {
          topic: tp.topic,
          partition: tp.partition,
          fromOffset: state.nextOffset.toString(),
          fetchedOffset: fetchedOffset.toString(),
          err: describeError(err),
        },
        'the Kafka client skipped offsets and the log start cannot be read to tell whether records were deleted before they were archived',
      );
      return;
    }
    const from = state.nextOffset;
    if (low === undefined || low <= from || !state.owned || state.nextOffset !== from) return;
    const to = (low < fetchedOffset ? low : fetchedOffset) - 1n;
    // The segment before the gap ends where the archived records end; the next starts after it.
    this.sealBuffer(state, from - 1n, to + 1n);
    state.nextOffset = to + 1n;
    this.reportLogCheck(
      tp,
      { kind: 'lost', from, to, count: to - from + 1n, resumeAt: to + 1n },
      null,
    );
  }

  private reportLogCheck(tp: TopicPartition, check: LogCheck, hwm: bigint | null): void {
    if (check.kind === 'lost') {
      const k = `${tp.topic}/${tp.partition}`;
      const lost = this.lostByPartition.get(k);
      if (lost !== undefined) lost.records += Number(check.count);
      else
        this.lostByPartition.set(k, {
          topic: tp.topic,
          partition: tp.partition,
          records: Number(check.count),
        });
      this.deps.log.error(
        {
          code: ErrorCodes.RECORDS_LOST,
          topic: tp.topic,
          partition: tp.partition,
          fromOffset: check.from.toString(),
          toOffset: check.to.toString(),
          records: check.count.toString(),
        },
        `${check.count} records of ${tp.topic}/${tp.partition} (offsets ${check.from}-${check.to}) were deleted from Kafka (retention or DeleteRecords) before they were archived; archiving continues at the log start ${check.resumeAt}, and the archive keeps the gap`,
      );
    } else if (check.kind === 'diverged') {
      this.consumer?.pause([tp]);
      this.deps.log.error(
        {
          code: ErrorCodes.TOPIC_DIVERGED,
          topic: tp.topic,
          partition: tp.partition,
          logEndOffset: check.logEnd.toString(),
          archivedHighWatermark: hwm?.toString() ?? null,
          expectedOffset: check.expected.toString(),
        },
        `${tp.topic}/${tp.partition} ends at offset ${check.logEnd} in Kafka, but the archive (or the group's commit) is already at ${check.expected}, and the topic is the same incarnation (same topic id, or none to compare): the partition was truncated (an unclean leader election) or the group's commit is wrong. This partition is not archived, so no records are mixed or skipped; they stay in Kafka until its retention deletes them. Move the partition's archived segments aside (hot directory and bucket, then \`kafka-archive catalog rebuild\`) to archive it from the start`,
      );
    }
  }

  /** Keeps memory bounded: seal the largest buffers, and wait while too much is being sealed. */
  private async applyBackPressure(state: PartitionState, control: BatchControl): Promise<void> {
    const limit = this.deps.config.maxBufferedBytes;
    let open = 0;
    let sealing = 0;
    for (const s of this.states.values()) {
      open += s.buffer.bytes;
      sealing += s.sealingBytes;
    }
    if (open + sealing > limit) {
      const bySize = [...this.states.values()].sort((a, b) => b.buffer.bytes - a.buffer.bytes);
      for (const s of bySize) {
        if (open + sealing <= limit / 2 || s.buffer.isEmpty) break;
        open -= s.buffer.bytes;
        sealing += s.buffer.bytes;
        this.sealBuffer(s);
      }
    }
    // Wait for this partition's seals while the sealing backlog is over the limit; failing
    // partitions are paused instead (their seal retries may last long).
    while (
      state.sealingBytes > 0 &&
      !state.failing &&
      this.totalSealingBytes() > limit &&
      control.isRunning() &&
      !control.isStale()
    ) {
      await Promise.race([state.chain, sleep(1000)]);
      await control.heartbeat().catch(() => undefined);
    }
  }

  private totalSealingBytes(): number {
    let n = 0;
    for (const s of this.states.values()) n += s.sealingBytes;
    return n;
  }

  private flushIdle(): void {
    if (this.stopping) return;
    const now = Date.now();
    for (const s of this.states.values()) {
      if (!s.buffer.isEmpty && now - s.buffer.openedAtMs >= this.deps.config.flushIntervalMs) {
        this.sealBuffer(s);
      }
    }
  }

  // ---- topic identity (re-created while archiving) ------------------------------------------

  /** The states of a topic (and `extra`, a retired one being sealed) with their next offsets. */
  private identitySnapshot(topic: string, extra?: PartitionState): Map<PartitionState, bigint> {
    const snap = new Map<PartitionState, bigint>();
    for (const s of this.states.values()) {
      if (s.tp.topic === topic && !s.recreated) snap.set(s, s.nextOffset);
    }
    if (extra !== undefined && !extra.recreated) snap.set(extra, extra.nextOffset);
    return snap;
  }

  private applyIdentity(topic: string, snap: Map<PartitionState, bigint>, a: IdentityAnswer): void {
    if (a === 'changed') {
      this.onRecreated(topic, [...snap.keys()]);
      return;
    }
    if (a !== 'same' && a !== 'missing') return;
    for (const [s, at] of snap) {
      if (at > s.verifiedOffset) s.verifiedOffset = at;
      s.verifiedBy = a;
      s.suspect = false;
    }
  }

  /** Checks the topic's identity now (the answer covers every record fetched before the call). */
  private async verifyTopic(topic: string, extra?: PartitionState): Promise<void> {
    if (this.deps.generations === undefined) return;
    const snap = this.identitySnapshot(topic, extra);
    const first = snap.keys().next();
    if (first.done === true) return;
    this.applyIdentity(topic, snap, await this.identity.check(topic, first.value.topicId));
  }

  /**
   * Every second: one Metadata request for the topics held, so a deletion is seen (as the
   * topic missing) before a re-created incarnation's records can be taken for the old one's.
   */
  private checkIdentities(): void {
    if (this.deps.generations === undefined || this.stopping || this.admin === null) return;
    // One pass over the states (not one per topic): this runs every second on the event loop.
    const snaps = new Map<string, Map<PartitionState, bigint>>();
    const active = new Set<string>();
    for (const s of this.states.values()) {
      if (s.recreated) continue;
      const snap = snaps.get(s.tp.topic) ?? new Map<PartitionState, bigint>();
      snaps.set(s.tp.topic, snap.set(s, s.nextOffset));
      if (!s.diverged) active.add(s.tp.topic);
    }
    for (const topic of snaps.keys()) if (!active.has(topic)) snaps.delete(topic);
    if (snaps.size === 0) return;
    void this.identity.lookupAll([...snaps.keys()]).then((ids) => {
      if (this.stopping) return;
      for (const [topic, snap] of snaps) {
        const first = snap.keys().next();
        if (first.done === true) continue;
        this.applyIdentity(topic, snap, classify(ids, topic, first.value.topicId));
      }
    });
  }

  /**
   * The topic was deleted and created again while this member archived it: its states stop
   * taking records and committing, their buffers are sealed into the old generation up to what
   * was proven to be of it, and the consumer is restarted, which resolves the new generation.
   */
  private onRecreated(topic: string, states: PartitionState[]): void {
    let marked = 0;
    for (const s of states) {
      if (s.recreated) continue;
      s.recreated = true;
      marked++;
      this.consumer?.pause([s.tp]);
    }
    if (marked === 0) return;
    this.recreatedWhileArchiving.add(topic);
    this.deps.log.warn(
      { topic, partitions: marked },
      `topic ${topic} was deleted and re-created while it was being archived: sealing what was fetched of the old incarnation, then restarting the consumer to archive the new one as a new generation`,
    );
    this.restartRequested = true;
    void this.refreshTopicsOnce();
  }

  /** Records of a re-created topic's buffer past what was proven old: not archived here. */
  private reportUnproven(s: PartitionState, buf: PartitionBuffer): void {
    const dropped = buf.records.range(buf.records.lowerBound(s.verifiedOffset));
    if (dropped === null) return;
    const facts = {
      topic: s.tp.topic,
      generation: s.generation,
      partition: s.tp.partition,
      fromOffset: dropped.firstOffset.toString(),
      toOffset: dropped.lastOffset.toString(),
      records: dropped.count,
    };
    if (s.verifiedBy === 'missing') {
      this.deps.log.info(
        facts,
        'records fetched after the topic was deleted belong to its new incarnation: left to the new generation',
      );
    } else {
      this.deps.log.error(
        { code: ErrorCodes.TOPIC_GENERATION_AMBIGUOUS, ...facts },
        `${dropped.count} records of ${s.tp.topic}/${s.tp.partition} (offsets ${dropped.firstOffset}-${dropped.lastOffset}) were fetched within one identity check of the topic being deleted and re-created, so they may be of either incarnation: they are not archived in generation ${s.generation}; the new generation archives its own records from its log start, so only records of the old incarnation fetched in that second can be missing from the archive`,
      );
    }
  }

  // ---- sealing ------------------------------------------------------------------------------

  /**
   * Detach the open buffer (closing it at `rangeEnd`, default its own) and queue its seal on the
   * partition's chain; a fresh buffer continues at the next offset.
   */
  /** Seals the open buffer (up to `rangeEnd`) and opens the next at `nextStart` (default: right after it). */
  private sealBuffer(s: PartitionState, rangeEnd?: bigint, nextStart?: bigint): void {
    const buf = s.buffer;
    if (rangeEnd !== undefined) buf.rangeEnd = rangeEnd;
    s.buffer = new PartitionBuffer(
      nextStart ?? buf.rangeEnd + 1n,
      this.policyFor(s.tp.topic),
      Date.now(),
    );
    if (buf.isEmpty) return;
    s.sealingBytes += buf.bytes;
    s.chain = s.chain.then(() =>
      this.sealWithRetry(s, buf).finally(() => {
        s.sealingBytes -= buf.bytes;
      }),
    );
  }

  private async sealWithRetry(s: PartitionState, buf: PartitionBuffer): Promise<void> {
    const { config, log, writer, index } = this.deps;
    // Every record sealed must be of the incarnation archived: checked after the last was fetched.
    if (!s.recreated) await this.verifyTopic(s.tp.topic, s);
    const below = s.recreated ? s.verifiedOffset : undefined;
    if (s.recreated) this.reportUnproven(s, buf);
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      try {
        const content = unarchivedContent(
          buf,
          await index.highWatermark(s.stream, s.tp.partition),
          below,
        );
        if (content === null) {
          log.info(
            {
              topic: s.tp.topic,
              partition: s.tp.partition,
              firstOffset: buf.rangeStart.toString(),
              lastOffset: buf.rangeEnd.toString(),
            },
            'records already archived by another member; nothing to seal',
          );
          await this.commit(s, buf.rangeEnd + 1n);
          return;
        }
        const { records, firstOffset: first, lastOffset: last } = content;
        const path = join(config.hotDir, segmentRelPath(s.stream, s.tp.partition, first, last));
        await mkdir(join(path, '..'), { recursive: true });
        const res = await writer.write(
          path,
          records,
          {
            topic: s.tp.topic,
            ...(s.generation > 1 ? { generation: s.generation } : {}),
            partition: s.tp.partition,
            firstOffset: first,
            lastOffset: last,
            minTimestamp: content.minTimestamp,
            maxTimestamp: content.maxTimestamp,
            recordCount: records.count,
            rangeStart: content.rangeStart,
            rangeEnd: content.rangeEnd,
          },
          { compression: config.compression, rowGroupBytes: config.rowGroupBytes },
        );
        this.stats.segmentsSealed++;
        this.stats.recordsArchived += records.count;
        this.stats.bytesWritten += res.bytes;
        log.info(
          {
            topic: s.tp.topic,
            partition: s.tp.partition,
            firstOffset: first.toString(),
            lastOffset: last.toString(),
            records: records.count,
            bytes: res.bytes,
            ms: Math.round(performance.now() - t0),
          },
          'segment sealed',
        );
        if (s.failing) {
          s.failing = false;
          log.info(
            { topic: s.tp.topic, partition: s.tp.partition, attempts: attempt + 1 },
            'sealing recovered; resuming partition',
          );
          if (s.owned && this.pausedReason === null) this.consumer?.resume([s.tp]);
        }
        const event: SealedSegmentEvent = {
          ...s.tp,
          topic: s.stream,
          firstOffset: first,
          lastOffset: last,
          records: records.count,
          bytes: res.bytes,
          path,
          meta: res.meta,
        };
        if (!(await this.record(event))) return;
        for (const l of this.listeners) l(event);
        await this.commit(s, buf.rangeEnd + 1n);
        return;
      } catch (err) {
        this.stats.sealFailures++;
        const errno = errnoCode(err);
        if (!s.owned || this.abort.signal.aborted) {
          log.warn(
            { topic: s.tp.topic, partition: s.tp.partition, errno, err: describeError(err) },
            'could not seal a segment of a partition this member no longer owns; its records stay uncommitted for the next owner',
          );
          return;
        }
        if (!s.failing) {
          s.failing = true;
          this.consumer?.pause([s.tp]);
          log.error(
            {
              code: errno === 'ENOSPC' || errno === 'EDQUOT' ? 'DISK_FULL' : 'SEGMENT_WRITE_FAILED',
              errno,
              topic: s.tp.topic,
              partition: s.tp.partition,
              hotDir: config.hotDir,
              err: describeError(err),
            },
            'cannot seal segment; partition paused, retrying with back-off (nothing is committed past the last sealed segment)',
          );
        } else {
          log.debug(
            { topic: s.tp.topic, partition: s.tp.partition, attempt, errno },
            'seal retry failed',
          );
        }
        await sleep(
          backoffMs(attempt, config.sealRetryInitialMs, config.sealRetryMaxMs),
          this.abort.signal,
        );
      }
    }
  }

  /** The catalog write of a sealed segment; false when it failed (its commit is skipped). */
  private async record(e: SealedSegmentEvent): Promise<boolean> {
    if (this.deps.recordSealed === undefined) return true;
    try {
      await this.deps.recordSealed(e);
      return true;
    } catch (err) {
      this.deps.log.warn(
        {
          topic: e.topic,
          partition: e.partition,
          firstOffset: e.firstOffset.toString(),
          lastOffset: e.lastOffset.toString(),
          err: describeError(err),
        },
        'catalog append failed; this segment is not committed yet (the next commit covers it, the next catalog check repairs the entry)',
      );
      return false;
    }
  }

  private async commit(s: PartitionState, next: bigint): Promise<void> {
    // A re-created topic's name now means the new incarnation: no commit from the old one.
    if (!s.owned || s.recreated || this.consumer === null) return;
    try {
      await this.consumer.commit([{ ...s.tp, offset: next }]);
    } catch (err) {
      // Safe to continue: on the next assignment the archived high-water mark wins.
      this.stats.commitFailures++;
      this.deps.log.warn(
        {
          topic: s.tp.topic,
          partition: s.tp.partition,
          offset: next.toString(),
          err: describeError(err),
        },
        'offset commit failed; the archive stays ahead of the committed offset until the next commit',
      );
    }
  }

  /** Seal all open buffers and wait for every seal (bounded). True when all finished. */
  private async drainAll(timeoutMs: number): Promise<boolean> {
    for (const s of this.states.values()) if (!s.buffer.isEmpty) this.sealBuffer(s);
    const all = Promise.all([
      ...[...this.states.values()].map((s) => s.chain),
      ...this.retiring.values(),
    ]).then(() => true);
    return Promise.race([all, sleep(timeoutMs).then(() => false)]);
  }
}
