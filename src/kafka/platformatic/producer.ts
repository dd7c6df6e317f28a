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
import { payloadSize, toOutgoing, type OutgoingMessage } from './records.js';

/**
 * Records per produce request are cut at about this many payload bytes, so a large send does
 * not exceed the broker's message.max.bytes (1 MiB by default) per partition batch; a single
 * larger record still goes alone.
 */
const MAX_SEND_BYTES = 768 * 1024;

/**
 * Widest timestamp span within one produce request. @platformatic/dynamic-buffer 0.3.1 (the
 * client's buffer) zigzag-encodes 64-bit varints with `(v << 1n) ^ (v >> 31n)` instead of
 * `>> 63n`, so a record whose timestamp differs from its batch's first by 2^31 ms (24.8 days) or
 * more is written with a wrong timestamp (a few ms off, seen here: 1600000000023 for
 * 1600000000000). Keeping every request's timestamps within 2^31 - 1 ms of each other keeps every
 * delta in the range it encodes correctly.
 */
const MAX_TIMESTAMP_SPAN = 2n ** 31n - 1n;

/**
 * A send as produce requests: at most MAX_SEND_BYTES of payload each, and timestamps within
 * MAX_TIMESTAMP_SPAN (records without one get the send's time, as the client would give them).
 */
function* chunks(topic: string, records: ProduceRecord[]): Generator<OutgoingMessage[]> {
  const now = BigInt(Date.now());
  let chunk: OutgoingMessage[] = [];
  let bytes = 0;
  let min = 0n;
  let max = 0n;
  for (const r of records) {
    const size = payloadSize(r);
    const ts = r.timestamp ?? now;
    const lo = ts < min ? ts : min;
    const hi = ts > max ? ts : max;
    if (chunk.length > 0 && (bytes + size > MAX_SEND_BYTES || hi - lo > MAX_TIMESTAMP_SPAN)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    if (chunk.length === 0) {
      min = ts;
      max = ts;
    } else {
      min = lo;
      max = hi;
    }
    chunk.push(toOutgoing(topic, { ...r, timestamp: ts }));
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

export class PlatformaticProducer implements Producer {
  constructor(private readonly producer: PltProducer) {}

  async send(topic: string, records: ProduceRecord[]): Promise<void> {
    try {
      for (const messages of chunks(topic, records)) await this.producer.send({ messages });
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
        for (const messages of chunks(b.topic, b.records)) await tx.send({ messages });
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
