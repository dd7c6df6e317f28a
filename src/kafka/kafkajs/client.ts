import type * as KafkaJS from 'kafkajs';
import type { Logger } from '../../log/index.js';
import { ArchiveError, ErrorCodes } from '../../errors.js';
import type { KafkaConfig } from '../../config/index.js';
import { loadKafkajs } from './ordered-headers.js';
import { registerCodecs } from './codecs.js';
import type {
  Admin,
  ConsumerHandlers,
  GroupConsumer,
  KafkaClient,
  KafkaHeader,
  KafkaRecord,
  PartitionBatch,
  ProduceRecord,
  Producer,
  ProducerCompression,
  TopicInfo,
  TopicPartition,
  TopicPartitionOffset,
  TopicSpec,
  TransactionalProducer,
} from '../types.js';

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

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  1: 'error',
  2: 'warn',
  4: 'info',
  5: 'debug',
};

function logCreator(log: Logger): KafkaJS.logCreator {
  return () =>
    ({ level, log: entry }) => {
      const { message, ...rest } = entry;
      log[LEVELS[level] ?? 'info']({ ...rest, component: 'kafkajs' }, message);
    };
}

class KafkajsConsumer implements GroupConsumer {
  private consumer: KafkaJS.Consumer | null = null;

  constructor(
    private readonly kafka: KafkaJS.Kafka,
    private readonly groupId: string,
    private readonly log: Logger,
    private readonly sessionTimeoutMs = 30_000,
  ) {}

  async start(topics: string[], handlers: ConsumerHandlers): Promise<void> {
    if (this.consumer !== null) throw new Error('consumer already started');
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      // Bounded fetches: kafkajs decodes a whole fetch response synchronously on the event loop.
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 16 * 1024 * 1024,
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
  constructor(
    private readonly admin: KafkaJS.Admin,
    private readonly kafka: KafkaJS.Kafka,
  ) {}

  listTopics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (topics.length === 0) return out;
    const existing = new Set(await this.admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return out;
    const meta = await this.admin.fetchTopicMetadata({ topics: present });
    for (const t of meta.topics) out.set(t.name, t.partitions.length);
    return out;
  }

  async describeTopic(topic: string): Promise<TopicInfo> {
    const counts = await this.partitionCounts([topic]);
    const partitions = counts.get(topic);
    if (partitions === undefined) {
      throw new ArchiveError(
        ErrorCodes.KAFKA_TOPIC_UNKNOWN,
        `topic ${topic} does not exist in Kafka`,
        {
          userFacing: true,
        },
      );
    }
    const res = await this.admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic }],
    });
    const configs: Record<string, string> = {};
    for (const r of res.resources) {
      for (const e of r.configEntries) {
        if (!e.isDefault && e.configValue !== null) configs[e.configName] = e.configValue;
      }
    }
    return { name: topic, partitions, configs };
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

  async groupOffsets(groupId: string, topics: string[]): Promise<Map<string, Map<number, bigint>>> {
    const out = new Map<string, Map<number, bigint>>();
    const existing = new Set(await this.admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return out;
    const res = await this.admin.fetchOffsets({ groupId, topics: present });
    for (const t of res) {
      out.set(t.topic, new Map(t.partitions.map((p) => [p.partition, BigInt(p.offset)] as const)));
    }
    return out;
  }

  disconnect(): Promise<void> {
    return this.admin.disconnect();
  }
}

const toMessage = (r: ProduceRecord): KafkaJS.Message => ({
  ...(r.partition !== undefined ? { partition: r.partition } : {}),
  key: r.key,
  value: r.value,
  // An ordered header list: the encoder wrapper (ordered-headers.ts) writes it as is.
  headers: (r.headers ?? []) as unknown as KafkaJS.IHeaders,
  ...(r.timestamp !== undefined ? { timestamp: r.timestamp.toString() } : {}),
});

const COMPRESSION: Record<ProducerCompression, KafkaJS.CompressionTypes> = {
  none: kafkajs.CompressionTypes.None,
  gzip: kafkajs.CompressionTypes.GZIP,
  snappy: kafkajs.CompressionTypes.Snappy,
  lz4: kafkajs.CompressionTypes.LZ4,
  zstd: kafkajs.CompressionTypes.ZSTD,
};

class KafkajsTransactionalProducer implements TransactionalProducer {
  private readonly partitionCounts = new Map<string, { count: number; at: number }>();

  constructor(
    private readonly producer: KafkaJS.Producer,
    private readonly admin: KafkaJS.Admin,
    private readonly compression: KafkaJS.CompressionTypes,
  ) {}

  /**
   * kafkajs 2.2.4 silently drops messages for a partition its metadata does not list
   * (Cluster.findLeaderForPartitions skips it and send resolves), so explicit partitions are
   * checked against the topic's partition count first.
   */
  private async checkPartitions(topic: string, records: ProduceRecord[]): Promise<void> {
    let max = -1;
    for (const r of records) if (r.partition !== undefined && r.partition > max) max = r.partition;
    if (max < 0) return;
    let known = this.partitionCounts.get(topic);
    if (known === undefined || max >= known.count || Date.now() - known.at > 5_000) {
      const meta = await this.admin.fetchTopicMetadata({ topics: [topic] });
      known = { count: meta.topics[0]?.partitions.length ?? 0, at: Date.now() };
      this.partitionCounts.set(topic, known);
    }
    if (max >= known.count) {
      throw new ArchiveError(
        ErrorCodes.KAFKA_REQUEST_FAILED,
        `cannot produce to partition ${max} of ${topic}: it has ${known.count} partitions`,
        { userFacing: true },
      );
    }
  }

  async commitTransaction(
    batches: Array<{ topic: string; records: ProduceRecord[] }>,
    offsets: { groupId: string; offsets: TopicPartitionOffset[] } | null,
  ): Promise<void> {
    const tx = await this.producer.transaction();
    try {
      for (const b of batches) {
        if (b.records.length === 0) continue;
        await this.checkPartitions(b.topic, b.records);
        await tx.send({
          topic: b.topic,
          compression: this.compression,
          messages: b.records.map(toMessage),
        });
      }
      if (offsets !== null && offsets.offsets.length > 0) {
        await tx.sendOffsets({
          consumerGroupId: offsets.groupId,
          topics: groupByTopic(offsets.offsets).map(({ topic }) => ({
            topic,
            partitions: offsets.offsets
              .filter((o) => o.topic === topic)
              .map((o) => ({ partition: o.partition, offset: o.offset.toString() })),
          })),
        });
      }
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => undefined);
      const type = (err as { type?: unknown }).type;
      if (type === 'PRODUCER_FENCED' || type === 'INVALID_PRODUCER_EPOCH') {
        throw new ArchiveError(
          ErrorCodes.KAFKA_PRODUCER_FENCED,
          `transaction failed: another producer took over its transactional id (${(err as Error).message})`,
          { cause: err },
        );
      }
      if (err instanceof ArchiveError) throw err;
      throw new ArchiveError(
        ErrorCodes.KAFKA_COMMIT_FAILED,
        `transaction failed: ${(err as Error).message}`,
        { retryable: true, cause: err },
      );
    }
  }

  async disconnect(): Promise<void> {
    await this.admin.disconnect().catch(() => undefined);
    await this.producer.disconnect();
  }
}

class KafkajsProducer implements Producer {
  constructor(private readonly producer: KafkaJS.Producer) {}

  async send(topic: string, records: ProduceRecord[]): Promise<void> {
    await this.producer.send({ topic, acks: -1, messages: records.map(toMessage) });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

export function createKafkajsClient(config: KafkaConfig, log: Logger): KafkaClient {
  const kafka = new kafkajs.Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
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
    logCreator: logCreator(log.child({ component: 'kafka' })),
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 30_000 },
  });
  return {
    async admin() {
      const a = kafka.admin();
      try {
        await a.connect();
      } catch (err) {
        throw new ArchiveError(
          ErrorCodes.KAFKA_UNAVAILABLE,
          `cannot connect to Kafka at ${config.brokers.join(',')}: ${(err as Error).message}`,
          { userFacing: true, retryable: true, cause: err },
        );
      }
      return new KafkajsAdmin(a, kafka);
    },
    consumer({ groupId, sessionTimeoutMs }) {
      return new KafkajsConsumer(kafka, groupId, log, sessionTimeoutMs);
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
    async transactionalProducer({ transactionalId, compression }) {
      const p = kafka.producer({
        createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionalId,
        allowAutoTopicCreation: false,
      });
      await p.connect();
      const admin = kafka.admin();
      await admin.connect();
      return new KafkajsTransactionalProducer(p, admin, COMPRESSION[compression]);
    },
  };
}
