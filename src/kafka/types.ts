/**
 * The narrow Kafka interface the product uses. Everything above src/kafka depends on these
 * types only, so the client library behind them can be swapped: kafkajs (src/kafka/kafkajs) or
 * @platformatic/kafka (src/kafka/platformatic), chosen by `kafka.client`.
 */

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: bigint;
}

export interface KafkaHeader {
  key: string;
  value: Buffer | null;
}

/** A record as Kafka stored it. Header order and duplicates are kept exactly. */
export interface KafkaRecord {
  offset: bigint;
  timestamp: bigint;
  /** 0 = CreateTime, 1 = LogAppendTime */
  timestampType: 0 | 1;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeader[];
}

export interface PartitionBatch extends TopicPartition {
  /** Committed (read_committed) data records; control records and aborted records removed. */
  records: KafkaRecord[];
  /** The first offset this fetch asked for. */
  fetchedOffset: bigint;
  /**
   * The offset after the last one this batch covers, including control and aborted records
   * that were filtered out: offsets in [fetchedOffset, nextOffset) that are not in `records`
   * were skipped by Kafka itself (compaction, transaction markers, aborted transactions).
   */
  nextOffset: bigint;
  highWatermark: bigint;
}

export interface BatchControl {
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

export interface ConsumerHandlers {
  onBatch(batch: PartitionBatch, control: BatchControl): Promise<void>;
  /** Called after every group join with this member's whole assignment. */
  onAssignment(assignment: TopicPartition[]): Promise<void> | void;
  /** The client gave up (after its own retries); the caller decides whether to restart. */
  onCrash?(error: Error): void;
}

export interface GroupConsumer {
  /** Start consuming the given topics (exact names) with the handlers. */
  start(topics: string[], handlers: ConsumerHandlers): Promise<void>;
  /** Leave the group and stop fetching; in-flight onBatch calls finish first. */
  stop(): Promise<void>;
  /** Commit next-offsets to fetch (Kafka convention: last archived offset + 1). */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  seek(position: TopicPartitionOffset): void;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /** Kafka's committed next-offsets of this group for a topic, -1 when none. */
  committed(topic: string): Promise<Map<number, bigint>>;
}

export interface ProduceRecord {
  partition?: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: KafkaHeader[];
  timestamp?: bigint;
}

export interface Producer {
  send(topic: string, records: ProduceRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

export type ProducerCompression = 'none' | 'lz4' | 'zstd' | 'gzip' | 'snappy';

/**
 * A producer whose every commitTransaction() is one Kafka transaction: all the records and, when
 * given, the group offsets become visible together (read_committed) or not at all. A new
 * producer with the same transactionalId fences this one and aborts its open transaction.
 */
export interface TransactionalProducer {
  /**
   * Produce the records (partition set on each, or chosen by key) and commit `offsets` (next
   * offsets to fetch, Kafka convention) for the group, in one transaction; aborted on failure.
   */
  commitTransaction(
    batches: Array<{ topic: string; records: ProduceRecord[] }>,
    offsets: { groupId: string; offsets: TopicPartitionOffset[] } | null,
  ): Promise<void>;
  disconnect(): Promise<void>;
}

export interface TopicInfo {
  name: string;
  partitions: number;
  /**
   * Kafka's topic id in Kafka's own string form (base64url, as kafka-topics.sh prints it); a
   * re-created topic gets a new one. Undefined where the client cannot read it (kafkajs).
   */
  topicId?: string;
  configs: Record<string, string>;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

export interface Admin {
  listTopics(): Promise<string[]>;
  /** Partition counts of the given topics; topics that do not exist are absent. */
  partitionCounts(topics: string[]): Promise<Map<string, number>>;
  describeTopic(topic: string): Promise<TopicInfo>;
  createTopics(specs: TopicSpec[]): Promise<void>;
  deleteTopics(topics: string[]): Promise<void>;
  /** Earliest and latest (high-water mark) offsets per partition. */
  offsets(topic: string): Promise<Map<number, { low: bigint; high: bigint }>>;
  /**
   * A group's committed next-offsets per topic and partition (-1 where it has none); topics that
   * do not exist are absent.
   */
  groupOffsets(groupId: string, topics: string[]): Promise<Map<string, Map<number, bigint>>>;
  disconnect(): Promise<void>;
}

export interface KafkaClient {
  admin(): Promise<Admin>;
  consumer(options: {
    groupId: string;
    /** Group session timeout: how soon the group notices a member that died (default 30 s). */
    sessionTimeoutMs?: number;
  }): GroupConsumer;
  producer(options?: { idempotent?: boolean; transactionalId?: string }): Promise<Producer>;
  transactionalProducer(options: {
    transactionalId: string;
    compression: ProducerCompression;
  }): Promise<TransactionalProducer>;
}
