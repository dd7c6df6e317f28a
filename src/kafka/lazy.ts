import type {
  ConsumerHandlers,
  GroupConsumer,
  KafkaClient,
  TopicPartition,
  TopicPartitionOffset,
} from './types.js';

/**
 * A KafkaClient whose implementation is loaded on first use. @platformatic/kafka compiles its
 * option schemas when it is imported (about 1 s of CPU here), which every CLI command would pay
 * even when it never talks to Kafka or uses the other client.
 */
export function lazyClient(load: () => Promise<KafkaClient>): KafkaClient {
  let loaded: Promise<KafkaClient> | null = null;
  const client = () => (loaded ??= load());
  return {
    load: async () => (await client()).load(),
    admin: async () => (await client()).admin(),
    producer: async (options) => (await client()).producer(options),
    transactionalProducer: async (options) => (await client()).transactionalProducer(options),
    readCommitted: async (ranges, onRecords) => (await client()).readCommitted(ranges, onRecords),
    consumer: (options) => new LazyConsumer(async () => (await client()).consumer(options)),
  };
}

/** Seeks and pauses before start() are kept and applied once the consumer exists. */
class LazyConsumer implements GroupConsumer {
  private consumer: GroupConsumer | null = null;
  private readonly early: Array<(c: GroupConsumer) => void> = [];

  constructor(private readonly create: () => Promise<GroupConsumer>) {}

  private async get(): Promise<GroupConsumer> {
    if (this.consumer === null) {
      this.consumer = await this.create();
      for (const f of this.early.splice(0)) f(this.consumer);
    }
    return this.consumer;
  }

  private now(f: (c: GroupConsumer) => void): void {
    if (this.consumer !== null) f(this.consumer);
    else this.early.push(f);
  }

  async start(topics: string[], handlers: ConsumerHandlers): Promise<void> {
    await (await this.get()).start(topics, handlers);
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    await this.consumer?.commit(offsets);
  }

  seek(position: TopicPartitionOffset): void {
    this.now((c) => c.seek(position));
  }

  pause(partitions: TopicPartition[]): void {
    this.now((c) => c.pause(partitions));
  }

  resume(partitions: TopicPartition[]): void {
    this.now((c) => c.resume(partitions));
  }

  async committed(topic: string): Promise<Map<number, bigint>> {
    return (await this.get()).committed(topic);
  }
}
