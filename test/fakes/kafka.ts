/**
 * An in-memory Kafka for engine unit tests: topics with partitions of records, consumer groups
 * with committed offsets, and group members that get partitions assigned round-robin, with
 * Kafka's semantics where the engines depend on them: after every rebalance each member's fetch
 * positions restart at the group's committed offsets (or 0), `seek` moves a position, paused
 * partitions are not fetched, and a batch of a partition revoked meanwhile is stale.
 * Not a Kafka: no network, no compression; a transaction is applied at once. Integration tests
 * use real brokers.
 */
import type {
  Admin,
  BatchControl,
  DescribedLogDirs,
  CommittedOffset,
  ConsumerHandlers,
  GroupConsumer,
  KafkaClient,
  KafkaRecord,
  PartitionRange,
  ProducedOffsets,
  ProduceRecord,
  Producer,
  TopicInfo,
  TopicPartition,
  TopicPartitionOffset,
  TopicSpec,
  TransactionalProducer,
} from '../../src/index.js';

const keyOf = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

const toPartial = (r: ProduceRecord): Partial<KafkaRecord> => ({
  key: r.key,
  value: r.value,
  headers: r.headers ?? [],
  ...(r.timestamp !== undefined ? { timestamp: r.timestamp } : {}),
});

interface Member {
  consumer: FakeConsumer;
  topics: string[];
}

export class FakeKafka implements KafkaClient {
  readonly topics = new Map<string, KafkaRecord[][]>();
  readonly commits = new Map<string, Map<string, bigint>>();
  private readonly groups = new Map<string, Member[]>();
  /** Records per fetched batch. */
  batchSize = 50;
  /** What describeLogDirs answers (set by tests). */
  logDirs: DescribedLogDirs[] = [];

  createTopic(name: string, partitions: number): void {
    this.topics.set(
      name,
      Array.from({ length: partitions }, () => []),
    );
  }

  /** Appends records (offsets assigned in order) and returns the last offset written. */
  produce(topic: string, partition: number, records: Array<Partial<KafkaRecord>>): bigint {
    const log = this.partitionLog(topic, partition);
    for (const r of records) {
      log.push({
        offset: BigInt(log.length),
        timestamp: r.timestamp ?? BigInt(1_700_000_000_000 + log.length),
        timestampType: r.timestampType ?? 0,
        key: r.key ?? null,
        value: r.value === undefined ? Buffer.from(`v${log.length}`) : r.value,
        headers: r.headers ?? [],
      });
    }
    return BigInt(log.length - 1);
  }

  partitionLog(topic: string, partition: number): KafkaRecord[] {
    const log = this.topics.get(topic)?.[partition];
    if (log === undefined) throw new Error(`no partition ${topic}/${partition}`);
    return log;
  }

  committed(groupId: string, tp: TopicPartition): bigint | undefined {
    return this.commits.get(groupId)?.get(keyOf(tp));
  }

  async admin(): Promise<Admin> {
    const topics = this.topics;
    const create = (name: string, partitions: number) => this.createTopic(name, partitions);
    return {
      async listTopics() {
        return [...topics.keys()];
      },
      async partitionCounts(names) {
        const out = new Map<string, number>();
        for (const n of names) {
          const t = topics.get(n);
          if (t !== undefined) out.set(n, t.length);
        }
        return out;
      },
      async topicIds(names: string[]) {
        return new Map(names.filter((n) => topics.has(n)).map((n) => [n, null]));
      },
      async describeTopic(name): Promise<TopicInfo> {
        const t = topics.get(name);
        if (t === undefined) throw new Error(`topic ${name} does not exist`);
        return { name, partitions: t.length, configs: {} };
      },
      async createTopics(specs: TopicSpec[]) {
        for (const s of specs) create(s.name, s.partitions);
      },
      async deleteTopics(names) {
        for (const n of names) topics.delete(n);
      },
      async offsets(name) {
        const out = new Map<number, { low: bigint; high: bigint }>();
        topics.get(name)?.forEach((log, p) => out.set(p, { low: 0n, high: BigInt(log.length) }));
        return out;
      },
      groupOffsets: async (groupId, names) => {
        const out = new Map<string, Map<number, CommittedOffset>>();
        for (const [key, offset] of this.commits.get(groupId) ?? []) {
          const [topic, p] = key.split('\u0000') as [string, string];
          if (!names.includes(topic)) continue;
          const m = out.get(topic) ?? new Map<number, CommittedOffset>();
          m.set(Number(p), { offset, metadata: null });
          out.set(topic, m);
        }
        return out;
      },
      listGroups: async () => [...this.commits.keys()].sort(),
      describeGroup: async (groupId) => ({
        groupId,
        state:
          (this.groups.get(groupId) ?? []).length > 0
            ? 'Stable'
            : this.commits.has(groupId)
              ? 'Empty'
              : 'Dead',
        members: (this.groups.get(groupId) ?? []).map((_m, i) => ({
          memberId: `member-${i}`,
          clientId: 'fake',
          clientHost: '/127.0.0.1',
        })),
      }),
      commitGroupOffsets: async (groupId, offsets) => {
        if ((this.groups.get(groupId) ?? []).length > 0)
          throw new Error(`group ${groupId} has members`);
        const m = this.commits.get(groupId) ?? new Map<string, bigint>();
        for (const o of offsets) m.set(`${o.topic}\u0000${o.partition}`, o.offset);
        this.commits.set(groupId, m);
      },
      describeLogDirs: async (brokerIds) =>
        this.logDirs.filter((d) => brokerIds === undefined || brokerIds.includes(d.brokerId)),
      async disconnect() {},
    };
  }

  /** Records and group offsets land together (no interleaving in memory: atomic by design). */
  async transactionalProducer(): Promise<TransactionalProducer> {
    return {
      commitTransaction: async (batches, offsets, beforeCommit) => {
        const produced: ProducedOffsets[] = [];
        const staged: Array<() => void> = [];
        for (const b of batches) {
          const byPartition = new Map<number, ProduceRecord[]>();
          for (const r of b.records) {
            const list = byPartition.get(r.partition ?? 0) ?? [];
            list.push(r);
            byPartition.set(r.partition ?? 0, list);
          }
          for (const [partition, records] of byPartition) {
            const base = BigInt(this.partitionLog(b.topic, partition).length);
            produced.push({ topic: b.topic, partition, baseOffset: base, count: records.length });
            staged.push(() => this.produce(b.topic, partition, records.map(toPartial)));
          }
        }
        await beforeCommit?.(produced);
        for (const apply of staged) apply();
        if (offsets !== null) this.commit(offsets.groupId, offsets.offsets);
        return produced;
      },
      disconnect: async () => {},
    };
  }

  async load(): Promise<void> {}

  async readCommitted(
    ranges: PartitionRange[],
    onRecords: (tp: TopicPartition, records: KafkaRecord[]) => Promise<void> | void,
  ): Promise<void> {
    for (const r of ranges) {
      const log = this.partitionLog(r.topic, r.partition);
      const records = log.slice(Number(r.fromOffset), Number(r.toOffset));
      if (records.length > 0) await onRecords({ topic: r.topic, partition: r.partition }, records);
    }
  }

  consumer(options: { groupId: string }): GroupConsumer {
    return new FakeConsumer(this, options.groupId);
  }

  async producer(): Promise<Producer> {
    return {
      send: async (topic: string, records: ProduceRecord[]) => {
        for (const r of records) this.produce(topic, r.partition ?? 0, [toPartial(r)]);
      },
      disconnect: async () => {},
    };
  }

  // ---- group membership (used by FakeConsumer) ---------------------------------------------

  join(groupId: string, member: Member): void {
    const members = this.groups.get(groupId) ?? [];
    members.push(member);
    this.groups.set(groupId, members);
    this.rebalance(groupId);
  }

  leave(groupId: string, consumer: FakeConsumer): void {
    const members = (this.groups.get(groupId) ?? []).filter((m) => m.consumer !== consumer);
    this.groups.set(groupId, members);
    this.rebalance(groupId);
  }

  commit(groupId: string, offsets: TopicPartitionOffset[]): void {
    const map = this.commits.get(groupId) ?? new Map<string, bigint>();
    for (const o of offsets) map.set(keyOf(o), o.offset);
    this.commits.set(groupId, map);
  }

  /** Round-robin over members in join order; every member gets its new assignment. */
  private rebalance(groupId: string): void {
    const members = this.groups.get(groupId) ?? [];
    const all: TopicPartition[] = [];
    const wanted = new Set(members.flatMap((m) => m.topics));
    for (const topic of [...wanted].sort()) {
      const parts = this.topics.get(topic)?.length ?? 0;
      for (let p = 0; p < parts; p++) all.push({ topic, partition: p });
    }
    const assignments = members.map(() => [] as TopicPartition[]);
    all.forEach((tp, i) => assignments[i % members.length]?.push(tp));
    members.forEach((m, i) => m.consumer.assign(assignments[i] ?? []));
  }
}

export class FakeConsumer implements GroupConsumer {
  private handlers: ConsumerHandlers | null = null;
  private readonly positions = new Map<string, { tp: TopicPartition; offset: bigint }>();
  private readonly paused = new Set<string>();
  private generation = 0;
  private running = false;
  private loop: Promise<void> | null = null;
  /** Every partition this member paused, in order (for assertions). */
  readonly pauseCalls: TopicPartition[] = [];

  constructor(
    private readonly kafka: FakeKafka,
    private readonly groupId: string,
  ) {}

  async start(topics: string[], handlers: ConsumerHandlers): Promise<void> {
    this.handlers = handlers;
    this.running = true;
    this.kafka.join(this.groupId, { consumer: this, topics });
    this.loop = this.fetchLoop();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.loop;
    this.kafka.leave(this.groupId, this);
  }

  /** Called by the group on every rebalance. */
  assign(assignment: TopicPartition[]): void {
    this.generation++;
    this.positions.clear();
    for (const tp of assignment) {
      const committed = this.kafka.committed(this.groupId, tp);
      this.positions.set(keyOf(tp), { tp, offset: committed ?? 0n });
    }
    void this.handlers?.onAssignment(assignment);
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    this.kafka.commit(this.groupId, offsets);
  }

  seek(p: TopicPartitionOffset): void {
    const pos = this.positions.get(keyOf(p));
    if (pos !== undefined) pos.offset = p.offset;
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      this.paused.add(keyOf(tp));
      this.pauseCalls.push(tp);
    }
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.delete(keyOf(tp));
  }

  /** Records not fetched yet over this member's assignment. */
  lag(): number {
    let n = 0;
    for (const { tp, offset } of this.positions.values()) {
      n += this.kafka.partitionLog(tp.topic, tp.partition).length - Number(offset);
    }
    return n;
  }

  isPaused(tp: TopicPartition): boolean {
    return this.paused.has(keyOf(tp));
  }

  async committed(topic: string): Promise<Map<number, bigint>> {
    const out = new Map<number, bigint>();
    const parts = this.kafka.topics.get(topic)?.length ?? 0;
    for (let p = 0; p < parts; p++) {
      out.set(p, this.kafka.committed(this.groupId, { topic, partition: p }) ?? -1n);
    }
    return out;
  }

  private async fetchLoop(): Promise<void> {
    while (this.running) {
      let delivered = false;
      for (const [key, pos] of [...this.positions]) {
        if (!this.running) break;
        if (this.paused.has(key)) continue;
        const log = this.kafka.partitionLog(pos.tp.topic, pos.tp.partition);
        const from = Number(pos.offset);
        if (from >= log.length) continue;
        const records = log.slice(from, from + this.kafka.batchSize);
        const generation = this.generation;
        const next = BigInt(from + records.length);
        const control: BatchControl = {
          heartbeat: async () => {},
          isRunning: () => this.running,
          isStale: () => this.generation !== generation,
        };
        await this.handlers?.onBatch(
          {
            ...pos.tp,
            records,
            fetchedOffset: pos.offset,
            nextOffset: next,
            highWatermark: BigInt(log.length),
          },
          control,
        );
        delivered = true;
        // Like kafkajs' resolveOffset: the position moves past the batch unless it was revoked
        // or the handler moved it (seek).
        const now = this.positions.get(key);
        if (this.generation === generation && now !== undefined && now.offset === BigInt(from)) {
          now.offset = next;
        }
      }
      await new Promise((r) => setTimeout(r, delivered ? 0 : 5));
    }
  }
}
