import {
  FindCoordinatorKeyTypes,
  type Admin as PltAdmin,
  type Consumer,
  type Message,
  type Producer as PltProducer,
} from '@platformatic/kafka';
import { ArchiveError, ErrorCodes } from '../../errors.js';
import type {
  ProduceRecord,
  Producer,
  TopicPartitionOffset,
  TransactionalProducer,
} from '../types.js';
import { describeKafkaError, isFenced, toArchiveError } from './errors.js';
import { produceRequests } from './records.js';

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
      { userFacing: true },
    );
  }
}

export class PlatformaticProducer implements Producer {
  constructor(private readonly producer: PltProducer) {}

  async send(topic: string, records: ProduceRecord[]): Promise<void> {
    try {
      await checkPartitions(this.producer, topic, records);
      for (const messages of produceRequests(topic, records))
        await this.producer.send({ messages });
    } catch (err) {
      throw toArchiveError(err, `cannot produce to ${topic}`);
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.close().catch(() => undefined);
  }
}

/**
 * One Kafka transaction per commitTransaction: the records, then the group offsets
 * (AddOffsetsToTxn + one TxnOffsetCommit per partition, to the group's coordinator, as a
 * member-less group: generation -1, member id ""), then EndTxn; aborted on any failure.
 *
 * The client's Transaction#addOffset takes a consumed Message (it commits message.offset + 1 with
 * the consumer's group facts from message.metadata.consumer), so a minimal one is built here. It
 * is called one partition at a time: the client de-duplicates concurrent calls under one key
 * ('commit'), so concurrent addOffset calls would commit only the first partition.
 */
export class PlatformaticTransactionalProducer implements TransactionalProducer {
  private fenced: ArchiveError | null = null;

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
      throw this.failure(err, `cannot initialize transactional id ${this.transactionalId}`);
    }
  }

  async commitTransaction(
    batches: Array<{ topic: string; records: ProduceRecord[] }>,
    offsets: { groupId: string; offsets: TopicPartitionOffset[] } | null,
  ): Promise<void> {
    if (this.fenced !== null) throw this.fenced;
    let tx: Awaited<ReturnType<PltProducer['beginTransaction']>>;
    try {
      tx = await this.producer.beginTransaction();
    } catch (err) {
      throw this.failure(err, 'cannot begin a transaction');
    }
    try {
      for (const b of batches) {
        await checkPartitions(this.producer, b.topic, b.records);
        for (const messages of produceRequests(b.topic, b.records)) await tx.send({ messages });
      }
      if (offsets !== null && offsets.offsets.length > 0) {
        const { groupId } = offsets;
        // addConsumer reads only the consumer's groupId.
        await tx.addConsumer({ groupId } as Consumer);
        const [coordinator] = await this.admin.findCoordinator({
          keyType: FindCoordinatorKeyTypes.GROUP,
          keys: [groupId],
        });
        if (coordinator === undefined) throw new Error(`no coordinator for group ${groupId}`);
        for (const o of offsets.offsets) {
          await tx.addOffset(offsetMessage(groupId, coordinator.nodeId, o));
        }
      }
      await tx.commit();
    } catch (err) {
      try {
        await tx.abort();
      } catch {
        // It cannot be ended (fenced, or the coordinator is gone): forget it locally so the
        // next commitTransaction can begin one; the broker aborts it on its timeout.
        await tx.cancel().catch(() => undefined);
      }
      throw this.failure(err, 'transaction failed and was aborted');
    }
  }

  private failure(err: unknown, what: string): ArchiveError {
    if (isFenced(err)) {
      this.fenced = new ArchiveError(
        ErrorCodes.KAFKA_PRODUCER_FENCED,
        `${what}: another producer took over transactional id ${this.transactionalId} (${describeKafkaError(err)})`,
        { cause: err },
      );
      return this.fenced;
    }
    return toArchiveError(err, what, ErrorCodes.KAFKA_COMMIT_FAILED);
  }

  async disconnect(): Promise<void> {
    await this.producer.close().catch(() => undefined);
    await this.admin.close().catch(() => undefined);
  }
}

/** What Transaction#addOffset reads of a consumed message: it commits `offset + 1`. */
function offsetMessage(groupId: string, coordinatorId: number, o: TopicPartitionOffset): Message {
  const message = {
    topic: o.topic,
    partition: o.partition,
    offset: o.offset - 1n,
    metadata: { consumer: { groupId, generationId: -1, memberId: '', coordinatorId } },
  };
  return message as unknown as Message;
}
