import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';
import type { Logger } from '../../log/index.js';
import { ArchiveError, ErrorCodes } from '../../errors.js';
import type { KafkaConfig } from '../../config/index.js';
import { loadKafkajs } from './ordered-headers.js';
import { registerCodecs } from './codecs.js';
import { randomUUID } from 'node:crypto';
import { kafkaError, kafkaErrorCode } from './errors.js';
import { connectError, throttledLogCreator } from './diagnostics.js';
import { kafkaTlsOptions } from '../tls.js';
import type {
  Admin,
  BrokerLogDirs,
  CommittedOffset,
  ConsumerHandlers,
  FetchSizes,
  GroupConsumer,
  GroupDescription,
  KafkaClient,
  KafkaHeader,
  KafkaRecord,
  PartitionBatch,
  PartitionRange,
  ProduceCompression,
  ProducedOffsets,
  ProduceRecord,
  Producer,
  TopicPartitionOffsetMeta,
  TransactionalProducer,
  TopicInfo,
  TopicPartition,
  TopicPartitionOffset,
  TopicSpec,
} from '../types.js';

const require = createRequire(import.meta.url);
const kafkajs = loadKafkajs();
registerCodecs(kafkajs);

type DecodedMessage = KafkaJS.KafkaMessage & {
  orderedHeaders?: Array<{ key: string; value: Buffer | null }>;
  batchContext?: { timestampType?: number };
};

function toRecord(m: DecodedMessage): KafkaRecord {
  const headers: KafkaHeader[] = (m.orderedHeaders ?? []).map((h) => ({
    key: h.key,
    value: h.value,
  }));
  return {
    offset: BigInt(m.offset),
    timestamp: BigInt(m.timestamp),
    timestampType: m.batchContext?.timestampType === 1 ? 1 : 0,
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
  };
}

function groupByTopic(items: TopicPartition[]): Array<{ topic: string; partitions: number[] }> {
  const map = new Map<string, number[]>();
  for (const { topic, partition } of items) {
    const list = map.get(topic) ?? [];
    list.push(partition);
    map.set(topic, list);
  }
  return [...map].map(([topic, partitions]) => ({ topic, partitions }));
}

/**
 * Messages of the Kafka protocol errors kafkajs retries itself (its own table). Its connections
 * log every error response at error level before the caller decides to retry: for these that
 * is a debug line; a failure that outlasts the retries reaches us as an error and is reported
 * with our own code.
 */
const RETRIABLE_PROTOCOL_ERRORS: ReadonlySet<string> = new Set(
  (
    require('kafkajs/src/protocol/error.js') as {
      errorCodes: Array<{ message: string; retriable: boolean }>;
    }
  ).errorCodes
    .filter((e) => e.retriable)
    .map((e) => e.message),
);

/**
 * kafkajs lines that are noise at warning level: retried protocol errors, and the transactional
 * producer's bounded retries (restore re-runs aborted transactions). They are logged at debug.
 */
function kafkajsNoise(message: string, fields: Record<string, unknown>): boolean {
  const error = String(fields.error ?? '');
  return (
    (message.startsWith('Response ') && RETRIABLE_PROTOCOL_ERRORS.has(error)) ||
    message.startsWith('Limiting retries for the idempotent producer') ||
    // CONCURRENT_TRANSACTIONS answers a transaction begun while the previous one's markers
    // are written: kafkajs retries them (every transaction meets one) but logs each as an error.
    /another concurrent operation on the same transaction/.test(`${message} ${error}`)
  );
}

class KafkajsConsumer implements GroupConsumer {
  private consumer: KafkaJS.Consumer | null = null;

  constructor(
    private readonly kafka: KafkaJS.Kafka,
    private readonly groupId: string,
    private readonly log: Logger,
    private readonly fetch: FetchSizes,
    private readonly sessionTimeoutMs = 30_000,
  ) {}

  async start(topics: string[], handlers: ConsumerHandlers): Promise<void> {
    if (this.consumer !== null) throw new Error('consumer already started');
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: this.fetch.maxBytesPerPartition,
      maxBytes: this.fetch.maxBytes,
      sessionTimeout: this.sessionTimeoutMs,
      rebalanceTimeout: 60_000,
      heartbeatInterval: Math.max(100, Math.min(3_000, Math.floor(this.sessionTimeoutMs / 3))),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assignment: TopicPartition[] = [];
      for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) {
        for (const partition of partitions) assignment.push({ topic, partition });
      }
      void Promise.resolve(handlers.onAssignment(assignment)).catch((err: unknown) =>
        this.log.error({ err }, 'assignment handler failed'),
      );
    });
    consumer.on(consumer.events.CRASH, (event) => {
      // kafkajs restarts itself after retriable errors; only a final crash is reported.
      if (!event.payload.restart) handlers.onCrash?.(event.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const records = (batch.messages as DecodedMessage[]).map(toRecord);
        const last = BigInt(batch.lastOffset());
        const pb: PartitionBatch = {
          topic: batch.topic,
          partition: batch.partition,
          records,
          fetchedOffset: BigInt((batch as unknown as { fetchedOffset: string }).fetchedOffset),
          nextOffset: last + 1n,
          highWatermark: BigInt(batch.highWatermark),
        };
        await handlers.onBatch(pb, { heartbeat, isRunning, isStale });
        // The fetch position follows the resolved offset; commits are explicit (commit()).
        if (isRunning() && !isStale()) resolveOffset(batch.lastOffset());
      },
    });
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = null;
    if (c !== null) await c.disconnect();
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    const c = this.consumer;
    if (c === null || offsets.length === 0) return;
    try {
      await c.commitOffsets(
        offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: o.offset.toString(),
        })),
      );
    } catch (err) {
      throw new ArchiveError(
        ErrorCodes.KAFKA_COMMIT_FAILED,
        `offset commit failed: ${(err as Error).message}`,
        {
          retryable: true,
          cause: err,
        },
      );
    }
  }

  seek(p: TopicPartitionOffset): void {
    this.consumer?.seek({ topic: p.topic, partition: p.partition, offset: p.offset.toString() });
  }

  pause(partitions: TopicPartition[]): void {
    this.consumer?.pause(groupByTopic(partitions));
  }

  resume(partitions: TopicPartition[]): void {
    this.consumer?.resume(groupByTopic(partitions));
  }

  async committed(topic: string): Promise<Map<number, bigint>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const res = await admin.fetchOffsets({ groupId: this.groupId, topics: [topic] });
      const out = new Map<number, bigint>();
      for (const t of res) for (const p of t.partitions) out.set(p.partition, BigInt(p.offset));
      return out;
    } finally {
      await admin.disconnect();
    }
  }
}

class KafkajsAdmin implements Admin {
  private logDirsAdmin: Promise<Admin> | null = null;

  constructor(
    private readonly admin: KafkaJS.Admin,
    private readonly kafka: KafkaJS.Kafka,
    /**
     * An admin of the other client on the same connection settings: DescribeLogDirs and topic
     * ids, which kafkajs has no requests for.
     */
    private readonly otherAdmin: () => Promise<Admin>,
  ) {}

  /**
   * kafkajs has no DescribeLogDirs: the @platformatic/kafka admin built from the same connection
   * settings answers it (created on first use, closed with this admin).
   */
  async describeLogDirs(brokerIds?: number[]): Promise<BrokerLogDirs[]> {
    return (await this.other()).describeLogDirs(brokerIds);
  }

  /** The other client's admin (created on first use; a failed connect is tried again later). */
  private async other(): Promise<Admin> {
    this.logDirsAdmin ??= this.otherAdmin();
    try {
      return await this.logDirsAdmin;
    } catch (err) {
      this.logDirsAdmin = null;
      throw err;
    }
  }

  /**
   * The topic id, which kafkajs cannot read (Metadata up to v6): from the other client's
   * Metadata, or undefined when it cannot answer (the archiver then falls back to offsets).
   */
  private async topicId(topic: string): Promise<string | undefined> {
    try {
      const other = await this.other();
      return (await other.describeTopic(topic)).topicId;
    } catch {
      return undefined;
    }
  }

  /** Topic ids from the other client's Metadata (kafkajs reads Metadata up to v6 only). */
  async topicIds(topics: string[]): Promise<Map<string, string | null>> {
    return (await this.other()).topicIds(topics);
  }

  async listTopics(): Promise<string[]> {
    try {
      return await this.admin.listTopics();
    } catch (err) {
      throw kafkaError(err, 'listing topics');
    }
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (topics.length === 0) return out;
    const existing = new Set(await this.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return out;
    let meta: Awaited<ReturnType<KafkaJS.Admin['fetchTopicMetadata']>>;
    try {
      meta = await this.admin.fetchTopicMetadata({ topics: present });
    } catch (err) {
      throw kafkaError(err, `describing topics ${present.join(', ')}`);
    }
    for (const t of meta.topics) out.set(t.name, t.partitions.length);
    return out;
  }

  async describeTopic(
    topic: string,
    options: { includeDefaults?: boolean } = {},
  ): Promise<TopicInfo> {
    const counts = await this.partitionCounts([topic]);
    const partitions = counts.get(topic);
    if (partitions === undefined) {
      throw new ArchiveError(
        ErrorCodes.KAFKA_TOPIC_UNKNOWN,
        `topic ${topic} does not exist in Kafka`,
      );
    }
    const res = await this.admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic }],
    });
    const configs: Record<string, string> = {};
    for (const r of res.resources) {
      for (const e of r.configEntries) {
        if ((options.includeDefaults === true || !e.isDefault) && e.configValue !== null)
          configs[e.configName] = e.configValue;
      }
    }
    const topicId = await this.topicId(topic);
    return { name: topic, partitions, ...(topicId !== undefined ? { topicId } : {}), configs };
  }

  async groupOffsets(
    groupId: string,
    topics: string[],
  ): Promise<Map<string, Map<number, CommittedOffset>>> {
    const out = new Map<string, Map<number, CommittedOffset>>();
    if (topics.length === 0) return out;
    let res: Awaited<ReturnType<KafkaJS.Admin['fetchOffsets']>>;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await this.admin.fetchOffsets({ groupId, topics });
        break;
      } catch (err) {
        // On a fresh cluster the first group request creates __consumer_offsets: until its
        // leaders settle the broker answers NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS,
        // which kafkajs' admin passes through.
        const retriable =
          (err as { retriable?: boolean }).retriable === true ||
          /coordinator/i.test((err as Error).message);
        if (!retriable || attempt >= 20)
          throw kafkaError(err, `reading the committed offsets of group ${groupId}`);
        await new Promise((r) => setTimeout(r, 100 * Math.min(attempt + 1, 10)));
      }
    }
    for (const t of res) {
      const m = new Map<number, CommittedOffset>();
      for (const p of t.partitions) {
        const offset = BigInt(p.offset);
        if (offset >= 0n) m.set(p.partition, { offset, metadata: p.metadata ?? null });
      }
      out.set(t.topic, m);
    }
    return out;
  }

  async listGroups(): Promise<string[]> {
    try {
      const res = await this.admin.listGroups();
      return res.groups.map((g) => g.groupId).sort();
    } catch (err) {
      throw kafkaError(err, 'listing the consumer groups');
    }
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    let res: Awaited<ReturnType<KafkaJS.Admin['describeGroups']>>;
    try {
      res = await this.admin.describeGroups([groupId]);
    } catch (err) {
      throw kafkaError(err, `describing consumer group ${groupId}`);
    }
    const g = res.groups.find((x) => x.groupId === groupId);
    return {
      groupId,
      state: g?.state ?? 'Dead',
      members: (g?.members ?? []).map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
      })),
    };
  }

  async commitGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    // kafkajs' setOffsets (per topic) refuses a group with running members. A short-lived
    // admin, as in offsets(): setOffsets adds the topic to the admin's metadata list for good.
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? [];
      list.push({ partition: o.partition, offset: o.offset.toString() });
      byTopic.set(o.topic, list);
    }
    const once = this.kafka.admin();
    await once.connect();
    try {
      for (const [topic, partitions] of byTopic)
        await once.setOffsets({ groupId, topic, partitions });
    } catch (err) {
      throw kafkaError(err, `committing offsets of consumer group ${groupId}`);
    } finally {
      await once.disconnect().catch(() => undefined);
    }
  }

  async createTopics(specs: TopicSpec[]): Promise<void> {
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: specs.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor ?? -1,
        configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  async deleteTopics(topics: string[]): Promise<void> {
    await this.admin.deleteTopics({ topics });
  }

  async offsets(topic: string): Promise<Map<number, { low: bigint; high: bigint }>> {
    // kafkajs 2.2.4 keeps every topic passed to fetchTopicOffsets in the admin's metadata
    // refresh list for good; once such a topic is deleted elsewhere, every later call of that
    // admin fails ("This server does not host this topic-partition"). A short-lived admin per
    // call keeps the long-lived one clean.
    const once = this.kafka.admin();
    await once.connect();
    let res: Awaited<ReturnType<KafkaJS.Admin['fetchTopicOffsets']>>;
    try {
      res = await once.fetchTopicOffsets(topic);
    } finally {
      await once.disconnect().catch(() => undefined);
    }
    const out = new Map<number, { low: bigint; high: bigint }>();
    for (const p of res) out.set(p.partition, { low: BigInt(p.low), high: BigInt(p.high) });
    return out;
  }

  async disconnect(): Promise<void> {
    const other = this.logDirsAdmin;
    this.logDirsAdmin = null;
    if (other !== null) await other.then((a) => a.disconnect()).catch(() => undefined);
    return this.admin.disconnect();
  }
}

class KafkajsProducer implements Producer {
  constructor(private readonly producer: KafkaJS.Producer) {}

  async send(topic: string, records: ProduceRecord[]): Promise<void> {
    await this.producer.send({
      topic,
      acks: -1,
      messages: records.map((r) => ({
        ...(r.partition !== undefined ? { partition: r.partition } : {}),
        key: r.key,
        value: r.value,
        // An ordered header list: the encoder wrapper (ordered-headers.ts) writes it as is.
        headers: (r.headers ?? []) as unknown as KafkaJS.IHeaders,
        ...(r.timestamp !== undefined ? { timestamp: r.timestamp.toString() } : {}),
      })),
    });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

const CODECS: Record<ProduceCompression, KafkaJS.CompressionTypes> = {
  none: kafkajs.CompressionTypes.None,
  gzip: kafkajs.CompressionTypes.GZIP,
  snappy: kafkajs.CompressionTypes.Snappy,
  lz4: kafkajs.CompressionTypes.LZ4,
  zstd: kafkajs.CompressionTypes.ZSTD,
};

function toMessage(r: ProduceRecord): KafkaJS.Message {
  return {
    ...(r.partition !== undefined ? { partition: r.partition } : {}),
    key: r.key,
    value: r.value,
    // An ordered header list: the encoder wrapper (ordered-headers.ts) writes it as is.
    headers: (r.headers ?? []) as unknown as KafkaJS.IHeaders,
    ...(r.timestamp !== undefined ? { timestamp: r.timestamp.toString() } : {}),
  };
}

class KafkajsTransactionalProducer implements TransactionalProducer {
  constructor(
    private readonly producer: KafkaJS.Producer,
    private readonly compression: KafkaJS.CompressionTypes,
    private readonly transactionalId: string,
  ) {}

  async commitTransaction(
    batches: Array<{ topic: string; records: ProduceRecord[] }>,
    offsets: { groupId: string; offsets: TopicPartitionOffsetMeta[] } | null,
    beforeCommit?: (produced: ProducedOffsets[]) => Promise<void>,
  ): Promise<ProducedOffsets[]> {
    let txn: KafkaJS.Transaction;
    try {
      txn = await this.producer.transaction();
    } catch (err) {
      throw kafkaError(err, `beginning a transaction (transactional id ${this.transactionalId})`);
    }
    try {
      const produced: ProducedOffsets[] = [];
      for (const b of batches) {
        if (b.records.length === 0) continue;
        const counts = new Map<number, number>();
        for (const r of b.records) {
          const p = r.partition ?? -1;
          counts.set(p, (counts.get(p) ?? 0) + 1);
        }
        const meta = await txn.send({
          topic: b.topic,
          acks: -1,
          compression: this.compression,
          messages: b.records.map(toMessage),
        });
        const base = new Map(meta.map((m) => [m.partition, m]));
        for (const [partition, count] of counts) {
          const m = partition === -1 ? meta[0] : base.get(partition);
          if (m === undefined || m.baseOffset === undefined) {
            throw new ArchiveError(
              ErrorCodes.INTERNAL,
              `the produce response for ${b.topic}/${partition} carried no base offset`,
            );
          }
          produced.push({
            topic: b.topic,
            partition: m.partition,
            baseOffset: BigInt(m.baseOffset),
            count,
          });
        }
      }
      if (offsets !== null && offsets.offsets.length > 0) {
        const byTopic = new Map<
          string,
          Array<{ partition: number; offset: string; metadata?: string }>
        >();
        for (const o of offsets.offsets) {
          const list = byTopic.get(o.topic) ?? [];
          list.push({
            partition: o.partition,
            offset: o.offset.toString(),
            ...(o.metadata !== undefined ? { metadata: o.metadata } : {}),
          });
          byTopic.set(o.topic, list);
        }
        await txn.sendOffsets({
          consumerGroupId: offsets.groupId,
          topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
        });
      }
      if (beforeCommit !== undefined) await beforeCommit(produced);
      await txn.commit();
      return produced;
    } catch (err) {
      await txn.abort().catch(() => undefined);
      throw kafkaError(err, `transaction of ${this.transactionalId}`);
    }
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

/**
 * Committed records of partition ranges, outside any group. kafkajs has no consumer without a
 * group, so this joins a fresh single-member group (no offsets are ever committed, so Kafka
 * drops the group when it leaves), seeks each partition and follows the position through
 * kafkajs' batch events: those also fire for fetches that held only transaction markers or
 * aborted records, which never reach eachBatch.
 */
async function readCommittedRanges(
  kafka: KafkaJS.Kafka,
  ranges: PartitionRange[],
  onRecords: (tp: TopicPartition, records: KafkaRecord[]) => Promise<void> | void,
  log: Logger,
  fetch: FetchSizes,
): Promise<void> {
  const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
  const want = new Map<string, PartitionRange>();
  const position = new Map<string, bigint>();
  for (const r of ranges) {
    if (r.toOffset <= r.fromOffset) continue;
    want.set(key(r.topic, r.partition), r);
    position.set(key(r.topic, r.partition), r.fromOffset);
  }
  if (want.size === 0) return;
  const topics = [...new Set([...want.values()].map((r) => r.topic))];
  const consumer = kafka.consumer({
    groupId: `kafka-archive-reader-${randomUUID()}`,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: fetch.maxBytesPerPartition,
    maxBytes: fetch.maxBytes,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
  });
  let finish: () => void = () => undefined;
  let fail: (err: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const remaining = new Set(want.keys());
  const advance = (topic: string, partition: number, next: bigint) => {
    const k = key(topic, partition);
    const r = want.get(k);
    if (r === undefined) return;
    if (next > (position.get(k) ?? 0n)) position.set(k, next);
    if ((position.get(k) ?? 0n) >= r.toOffset && remaining.delete(k) && remaining.size === 0)
      finish();
  };
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) {
      for (const partition of partitions) {
        const r = want.get(key(topic, partition));
        if (r === undefined) consumer.pause([{ topic, partitions: [partition] }]);
        else
          consumer.seek({
            topic,
            partition,
            offset: (position.get(key(topic, partition)) ?? r.fromOffset).toString(),
          });
      }
    }
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
    const p = event.payload as unknown as { topic: string; partition: number; lastOffset: string };
    if (p.lastOffset !== null && p.lastOffset !== undefined)
      advance(p.topic, p.partition, BigInt(p.lastOffset) + 1n);
  });
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) fail(event.payload.error);
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }) => {
        const r = want.get(key(batch.topic, batch.partition));
        if (r === undefined) return;
        const from = position.get(key(batch.topic, batch.partition)) ?? r.fromOffset;
        const records = (batch.messages as DecodedMessage[])
          .map(toRecord)
          .filter((m) => m.offset >= from && m.offset < r.toOffset);
        if (records.length > 0) {
          await onRecords({ topic: batch.topic, partition: batch.partition }, records);
          advance(batch.topic, batch.partition, (records.at(-1) as KafkaRecord).offset + 1n);
        }
      },
    });
    await done;
  } catch (err) {
    throw kafkaError(err, `reading ${topics.join(', ')}`);
  } finally {
    await consumer.disconnect().catch((err: unknown) => log.debug({ err }, 'reader disconnect'));
  }
}

export interface KafkajsClientOptions {
  /** Retries of each request (kafkajs' own back-off); default 8. */
  retries?: number;
}

export function createKafkajsClient(
  config: KafkaConfig,
  log: Logger,
  options: KafkajsClientOptions = {},
): KafkaClient {
  const kafkaOptions: KafkaJS.KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ...(config.ssl ? { ssl: kafkaTlsOptions(config) ?? true } : {}),
    ...(config.sasl !== undefined
      ? {
          sasl: {
            mechanism: config.sasl.mechanism,
            username: config.sasl.username,
            password: config.sasl.password,
          } as KafkaJS.SASLOptions,
        }
      : {}),
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    logLevel: kafkajs.logLevel.WARN,
    logCreator: throttledLogCreator(log.child({ component: 'kafka' }), { debugIf: kafkajsNoise }),
    retry: { retries: options.retries ?? 8, initialRetryTime: 300, maxRetryTime: 30_000 },
  };
  const kafka = new kafkajs.Kafka(kafkaOptions);
  // kafka.fetch.*: kafkajs decodes a whole fetch response on the event loop (lz4 off it).
  const fetch: FetchSizes = config.fetch;
  // Admin clients connect with few retries of their own (kafkajs applies the client's retry
  // settings to connecting): callers retry on their own schedule (the archiver with back-off,
  // logging once per window), so an unreachable cluster is reported in seconds, not after a
  // minute of kafkajs retries.
  const adminKafka = new kafkajs.Kafka({
    ...kafkaOptions,
    retry: { retries: 2, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
  return {
    async load() {
      // The other client answers DescribeLogDirs and topic ids (see KafkajsAdmin).
      await import('../platformatic/client.js');
    },
    async admin() {
      const a = adminKafka.admin();
      try {
        await a.connect();
      } catch (err) {
        // An untrusted certificate and refused credentials get their own clear message; a
        // missing ACL its own code; anything else is an unreachable cluster.
        const e = connectError(err, config.brokers);
        if (e.code !== ErrorCodes.KAFKA_UNAVAILABLE) throw e;
        const code = kafkaErrorCode(err);
        if (code !== null && code !== ErrorCodes.KAFKA_UNAVAILABLE)
          throw kafkaError(err, `connecting to Kafka at ${config.brokers.join(',')}`);
        throw e;
      }
      return new KafkajsAdmin(a, kafka, async () =>
        (await import('../platformatic/client.js'))
          .createPlatformaticClient({ ...config, client: 'platformatic' }, log, options)
          .admin(),
      );
    },
    consumer({ groupId, sessionTimeoutMs }) {
      return new KafkajsConsumer(kafka, groupId, log, fetch, sessionTimeoutMs);
    },
    async producer(options = {}) {
      const p = kafka.producer({
        createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
        idempotent: options.idempotent ?? true,
        maxInFlightRequests: options.idempotent === false ? 5 : 1,
        ...(options.transactionalId !== undefined
          ? { transactionalId: options.transactionalId }
          : {}),
        allowAutoTopicCreation: false,
      });
      await p.connect();
      return new KafkajsProducer(p);
    },
    async transactionalProducer(o) {
      const p = kafka.producer({
        createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionalId: o.transactionalId,
        transactionTimeout: o.transactionTimeoutMs ?? 60_000,
        allowAutoTopicCreation: false,
        // A transaction begun right after a commit meets CONCURRENT_TRANSACTIONS while the
        // broker writes the markers: retry that quickly, as the Java client does.
        retry: {
          retries: options.retries ?? 10,
          initialRetryTime: 20,
          maxRetryTime: 30_000,
        },
      });
      try {
        await p.connect();
      } catch (err) {
        throw kafkaError(err, `connecting a transactional producer to ${config.brokers.join(',')}`);
      }
      return new KafkajsTransactionalProducer(p, CODECS[o.compression], o.transactionalId);
    },
    readCommitted(ranges, onRecords) {
      return readCommittedRanges(kafka, ranges, onRecords, log, fetch);
    },
  };
}
