import {
  FindCoordinatorKeyTypes,
  kGetApi,
  kGetConnection,
  type Admin as PltAdmin,
  type Connection,
  type Consumer,
  type Producer as PltProducer,
} from '@platformatic/kafka';
import { ArchiveError, ErrorCodes } from '../../errors.js';
import type {
  ProduceRecord,
  ProducedOffsets,
  Producer,
  TopicPartitionOffsetMeta,
  TransactionalProducer,
} from '../types.js';
import { hasApiError, isFenced, isRetriable, toArchiveError } from './errors.js';
import { toOutgoing } from './records.js';

/**
 * Explicit partitions must exist: the client maps a partition number modulo the topic's
 * partition count (`message.partition %= partitionsCount`), so partition 5 of a 4-partition topic
 * would silently land in partition 1.
 */
async function checkPartitions(
  producer: PltProducer,
  topic: string,
  records: ProduceRecord[],
): Promise<void> {
  let max = -1;
  for (const r of records) if (r.partition !== undefined && r.partition > max) max = r.partition;
  if (max < 0) return;
  const meta = await producer.metadata({ topics: [topic] });
  const count = meta.topics.get(topic)?.partitionsCount ?? 0;
  if (max >= count) {
    throw new ArchiveError(
      ErrorCodes.KAFKA_REQUEST_FAILED,
      `cannot produce to partition ${max} of ${topic}: it has ${count} partitions`,
    );
  }
}

export class PlatformaticProducer implements Producer {
  constructor(private readonly producer: PltProducer) {}

  async send(topic: string, records: ProduceRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await checkPartitions(this.producer, topic, records);
      await this.producer.send({ messages: records.map((r) => toOutgoing(topic, r)) });
    } catch (err) {
      throw toArchiveError(err, `producing to ${topic}`);
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.close().catch(() => undefined);
  }
}

type TxnOffsetCommitTopics = Array<{
  name: string;
  partitions: Array<{
    partitionIndex: number;
    committedOffset: bigint;
    committedLeaderEpoch: number;
    committedMetadata: string | null;
  }>;
}>;
type TxnOffsetCommitApi = (
  connection: Connection,
  transactionalId: string,
  groupId: string,
  producerId: bigint,
  producerEpoch: number,
  generationId: number,
  memberId: string,
  groupInstanceId: string | null,
  topics: TxnOffsetCommitTopics,
  callback: (error: Error | null) => void,
) => void;
type ApiGetter = (name: string, cb: (error: Error | null, api: TxnOffsetCommitApi) => void) => void;
type ConnectionGetter = (
  broker: { host: string; port: number },
  cb: (error: Error | null, connection: Connection) => void,
) => void;

/** Group coordinator answers worth another try (a fresh cluster creates __consumer_offsets). */
const COORDINATOR_ERRORS = [
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'CONCURRENT_TRANSACTIONS',
];

/**
 * One Kafka transaction per commitTransaction: each batch as one produce call (so each
 * partition's records of a batch get consecutive offsets), then the group offsets
 * (AddOffsetsToTxn, then one TxnOffsetCommit to the group's coordinator as a member-less group:
 * generation -1, member id ""), then `beforeCommit`, then EndTxn; aborted on any failure.
 *
 * The offsets are committed with the TxnOffsetCommit API directly: the client's
 * Transaction#addOffset takes one consumed Message at a time, writes no offset metadata, and
 * de-duplicates concurrent calls under one key ('commit'), so concurrent calls would commit one
 * partition only.
 */
export class PlatformaticTransactionalProducer implements TransactionalProducer {
  constructor(
    private readonly producer: PltProducer,
    private readonly admin: PltAdmin,
    private readonly transactionalId: string,
  ) {}

  /**
   * InitProducerId now, not at the first transaction: an older producer with this transactional
   * id is fenced and its open transaction aborted right away (so read_committed readers are not
   * held at its last stable offset). The client runs it inside beginTransaction only; the
   * transaction begun for it is forgotten locally (nothing was sent in it).
   */
  async init(): Promise<void> {
    try {
      const tx = await this.producer.beginTransaction();
      await tx.cancel();
    } catch (err) {
      await this.disconnect();
      throw toArchiveError(err, `initializing transactional id ${this.transactionalId}`);
    }
  }

  async commitTransaction(
    batches: Array<{ topic: string; records: ProduceRecord[] }>,
    offsets: { groupId: string; offsets: TopicPartitionOffsetMeta[] } | null,
    beforeCommit?: (produced: ProducedOffsets[]) => Promise<void>,
  ): Promise<ProducedOffsets[]> {
    let tx: Awaited<ReturnType<PltProducer['beginTransaction']>>;
    try {
      tx = await this.producer.beginTransaction();
    } catch (err) {
      throw toArchiveError(
        err,
        `beginning a transaction (transactional id ${this.transactionalId})`,
      );
    }
    try {
      const produced: ProducedOffsets[] = [];
      for (const b of batches) {
        if (b.records.length === 0) continue;
        await checkPartitions(this.producer, b.topic, b.records);
        const counts = new Map<number, number>();
        for (const r of b.records) {
          const p = r.partition ?? -1;
          counts.set(p, (counts.get(p) ?? 0) + 1);
        }
        const result = await tx.send({ messages: b.records.map((r) => toOutgoing(b.topic, r)) });
        const base = new Map((result.offsets ?? []).map((o) => [o.partition, o.offset]));
        for (const [partition, count] of counts) {
          const p = partition === -1 ? result.offsets?.[0]?.partition : partition;
          const offset = p === undefined ? undefined : base.get(p);
          if (p === undefined || offset === undefined) {
            throw new ArchiveError(
              ErrorCodes.INTERNAL,
              `the produce response for ${b.topic}/${partition} carried no base offset`,
            );
          }
          produced.push({ topic: b.topic, partition: p, baseOffset: offset, count });
        }
      }
      if (offsets !== null && offsets.offsets.length > 0) {
        // addConsumer (AddOffsetsToTxn) reads only the consumer's groupId.
        await tx.addConsumer({ groupId: offsets.groupId } as Consumer);
        await this.commitOffsets(offsets.groupId, offsets.offsets);
      }
      if (beforeCommit !== undefined) await beforeCommit(produced);
      await tx.commit();
      return produced;
    } catch (err) {
      try {
        await tx.abort();
      } catch {
        // It cannot be ended (fenced, or the coordinator is gone): forget it locally so the
        // next commitTransaction can begin one; the broker aborts it on its timeout.
        await tx.cancel().catch(() => undefined);
      }
      throw toArchiveError(err, `transaction of ${this.transactionalId}`);
    }
  }

  /** TxnOffsetCommit with offset metadata, retried while the group coordinator settles. */
  private async commitOffsets(groupId: string, offsets: TopicPartitionOffsetMeta[]): Promise<void> {
    const byTopic = new Map<string, TxnOffsetCommitTopics[number]['partitions']>();
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? [];
      list.push({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedLeaderEpoch: -1,
        committedMetadata: o.metadata ?? null,
      });
      byTopic.set(o.topic, list);
    }
    const topics = [...byTopic].map(([name, partitions]) => ({ name, partitions }));
    const producerId = this.producer.producerId;
    const producerEpoch = this.producer.producerEpoch;
    if (producerId === undefined || producerEpoch === undefined) {
      throw new ArchiveError(ErrorCodes.INTERNAL, 'the transactional producer has no producer id');
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const [coordinator] = await this.admin.findCoordinator({
          keyType: FindCoordinatorKeyTypes.GROUP,
          keys: [groupId],
        });
        if (coordinator === undefined) throw new Error(`no coordinator for group ${groupId}`);
        const getConnection = (this.producer as unknown as Record<symbol, ConnectionGetter>)[
          kGetConnection
        ] as ConnectionGetter;
        const getApi = (this.producer as unknown as Record<symbol, ApiGetter>)[
          kGetApi
        ] as ApiGetter;
        const connection = await new Promise<Connection>((resolve, reject) =>
          getConnection.call(this.producer, coordinator, (e, c) => (e ? reject(e) : resolve(c))),
        );
        const api = await new Promise<TxnOffsetCommitApi>((resolve, reject) =>
          getApi.call(this.producer, 'TxnOffsetCommit', (e, a) => (e ? reject(e) : resolve(a))),
        );
        await new Promise<void>((resolve, reject) =>
          api(
            connection,
            this.transactionalId,
            groupId,
            producerId,
            producerEpoch,
            -1,
            '',
            null,
            topics,
            (e) => (e ? reject(e) : resolve()),
          ),
        );
        return;
      } catch (err) {
        const again =
          !isFenced(err) &&
          attempt < 20 &&
          (COORDINATOR_ERRORS.some((id) => hasApiError(err, id)) ||
            (isRetriable(err) && attempt < 3));
        if (!again) throw err;
        await new Promise((r) => setTimeout(r, 100 * Math.min(attempt + 1, 10)));
      }
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.close().catch(() => undefined);
    await this.admin.close().catch(() => undefined);
  }
}
