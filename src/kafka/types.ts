/**
 * The narrow Kafka interface the product uses. Everything above src/kafka depends on these
 * types only, so the client library behind them (kafkajs today) can be swapped.
 */
import type { KafkaHeader, KafkaRecord } from '../record.js';

export type { KafkaHeader, KafkaRecord };

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: bigint;
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

/** Fetch request sizes in wire bytes (`kafka.fetch.*`). */
export interface FetchSizes {
  maxBytes: number;
  maxBytesPerPartition: number;
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

export type ProduceCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Where Kafka put the records of one produced batch in one partition. */
export interface ProducedOffsets extends TopicPartition {
  /** The offset of the batch's first record in that partition (Produce response base_offset). */
  baseOffset: bigint;
  /** Records of the batch in that partition: they hold baseOffset .. baseOffset + count - 1. */
  count: number;
}

/**
 * A transactional producer (one transactional id; a new instance with the same id fences the
 * old one and aborts its open transaction).
 */
export interface TransactionalProducer {
  /**
   * One transaction: every batch is sent (each batch as one produce call, so each partition's
   * records of a batch get consecutive offsets), then the group offsets are added, then
   * `beforeCommit` (when given) is awaited with where the records went, then the transaction
   * commits. Everything commits together or not at all: on any error the transaction is
   * aborted and the error thrown. Resolves with the same offsets `beforeCommit` saw, in batch
   * order (within a batch, in order of first appearance of each partition).
   */
  commitTransaction(
    batches: Array<{ topic: string; records: ProduceRecord[] }>,
    offsets: { groupId: string; offsets: TopicPartitionOffsetMeta[] } | null,
    beforeCommit?: (produced: ProducedOffsets[]) => Promise<void>,
  ): Promise<ProducedOffsets[]>;
  disconnect(): Promise<void>;
}

export interface TopicPartitionOffsetMeta extends TopicPartitionOffset {
  /** Offset metadata stored with the commit (Kafka limits it, 4096 bytes by default). */
  metadata?: string;
}

/** A committed group offset with its metadata. */
export interface CommittedOffset {
  offset: bigint;
  metadata: string | null;
}

/** A read of one partition outside any consumer group: offsets [fromOffset, toOffset). */
export interface PartitionRange extends TopicPartition {
  fromOffset: bigint;
  /** Exclusive; usually the high-water mark read just before. */
  toOffset: bigint;
}

export interface TopicInfo {
  name: string;
  partitions: number;
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
  /** Partitions and configs (only those set on the topic, unless includeDefaults). */
  describeTopic(topic: string, options?: { includeDefaults?: boolean }): Promise<TopicInfo>;
  /**
   * Kafka's topic id of each topic that exists (null where the cluster gives none), from one
   * Metadata request; a topic that does not exist is absent from the answer.
   */
  topicIds(topics: string[]): Promise<Map<string, string | null>>;
  createTopics(specs: TopicSpec[]): Promise<void>;
  deleteTopics(topics: string[]): Promise<void>;
  /** Earliest and latest (high-water mark) offsets per partition. */
  offsets(topic: string): Promise<Map<number, { low: bigint; high: bigint }>>;
  /**
   * A group's committed next-offsets (with metadata) per topic and partition; partitions
   * without a committed offset are absent. A group that does not exist gives an empty map.
   */
  groupOffsets(
    groupId: string,
    topics: string[],
  ): Promise<Map<string, Map<number, CommittedOffset>>>;
  /** Ids of the cluster's consumer groups (classic protocol), empty groups included. */
  listGroups(): Promise<string[]>;
  /** A group's state and members; a group that does not exist is `Dead` without members. */
  describeGroup(groupId: string): Promise<GroupDescription>;
  /**
   * Commits offsets (next offset to consume) for a group that has no active members, outside
   * any membership (as `kafka-consumer-groups --reset-offsets --execute`). A group with members
   * is refused by the broker; callers check describeGroup first.
   */
  commitGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void>;
  /**
   * Kafka's DescribeLogDirs, asked of each broker (all brokers of the cluster's metadata, or
   * those given): one entry per broker and log.dir. A broker that cannot be asked gives one
   * entry with logDir "" and the error; a log.dir the broker reports as offline has its error
   * (e.g. KAFKA_STORAGE_ERROR) and no partitions.
   */
  describeLogDirs(brokerIds?: number[]): Promise<BrokerLogDirs[]>;
  disconnect(): Promise<void>;
}

/** One log.dir of one broker as DescribeLogDirs describes it. */
export interface BrokerLogDirs {
  brokerId: number;
  logDir: string;
  /** Kafka's error for this log.dir (e.g. KAFKA_STORAGE_ERROR) or for the broker; null when fine. */
  error: string | null;
  /** Size and usable bytes of the log.dir's volume: DescribeLogDirs v4+ (Kafka >= 3.3), else null. */
  totalBytes: number | null;
  usableBytes: number | null;
  partitions: LogDirPartition[];
}

export interface LogDirPartition {
  topic: string;
  partition: number;
  /** Bytes of the partition's log segments (.log files; no indexes, no snapshots). */
  sizeBytes: number;
  /** How far this replica is behind the log end (future replicas: behind the current one). */
  offsetLag: number;
  /** A replica being moved into this log.dir (kafka-reassign-partitions --log-dirs). */
  isFuture: boolean;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
}

export interface GroupDescription {
  groupId: string;
  /** Kafka's group state: Empty, Stable, PreparingRebalance, CompletingRebalance, Dead, ... */
  state: string;
  members: GroupMember[];
}

export interface KafkaClient {
  /**
   * Loads now what the client would otherwise load on first use: modules whose import compiles
   * for most of a second on the event loop (@platformatic/kafka's option schemas). A service
   * calls it while starting, before it joins a group or serves requests.
   */
  load(): Promise<void>;
  admin(): Promise<Admin>;
  consumer(options: {
    groupId: string;
    /** Group session timeout: how soon the group notices a member that died (default 30 s). */
    sessionTimeoutMs?: number;
  }): GroupConsumer;
  producer(options?: { idempotent?: boolean; transactionalId?: string }): Promise<Producer>;
  transactionalProducer(options: {
    transactionalId: string;
    compression: ProduceCompression;
    /** How long the broker keeps an open transaction before aborting it (default 60 s). */
    transactionTimeoutMs?: number;
  }): Promise<TransactionalProducer>;
  /**
   * Reads committed records (read_committed) of the given partition ranges, outside any
   * consumer group, calling `onRecords` in offset order per partition (partitions may
   * interleave). Resolves once every partition's position reached its `toOffset` (transaction
   * markers and aborted records count as passed).
   */
  readCommitted(
    ranges: PartitionRange[],
    onRecords: (tp: TopicPartition, records: KafkaRecord[]) => Promise<void> | void,
  ): Promise<void>;
}
