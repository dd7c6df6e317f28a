import {
  ConfigResourceTypes,
  ConfigSources,
  FetchIsolationLevels,
  ListOffsetTimestamps,
  type Admin as PltAdmin,
} from '@platformatic/kafka';
import { ArchiveError, ErrorCodes } from '../../errors.js';
import { sleep } from '../../util/backoff.js';
import type {
  Admin,
  BrokerLogDirs,
  CommittedOffset,
  GroupDescription,
  TopicInfo,
  TopicPartitionOffset,
  TopicSpec,
} from '../types.js';
import { toArchiveError } from './errors.js';
import { existingPartitionCounts, readGroupOffsets } from './group-offsets.js';
import { describeLogDirs } from './log-dirs.js';
import { kafkaTopicId } from './records.js';

/** How long createTopics waits for every new partition to have a leader (as kafkajs does). */
const LEADER_WAIT_MS = 30_000;

export class PlatformaticAdmin implements Admin {
  constructor(private readonly admin: PltAdmin) {}

  async listTopics(): Promise<string[]> {
    try {
      return await this.admin.listTopics();
    } catch (err) {
      throw toArchiveError(err, 'cannot list topics', ErrorCodes.KAFKA_UNAVAILABLE);
    }
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    try {
      const counts = await existingPartitionCounts(this.admin, topics);
      return new Map([...counts].map(([t, c]) => [t, c.partitions]));
    } catch (err) {
      throw toArchiveError(err, 'cannot read topic metadata', ErrorCodes.KAFKA_UNAVAILABLE);
    }
  }

  async topicIds(topics: string[]): Promise<Map<string, string | null>> {
    try {
      const found = await existingPartitionCounts(this.admin, topics);
      return new Map([...found].map(([t, m]) => [t, kafkaTopicId(m.id) ?? null]));
    } catch (err) {
      throw toArchiveError(err, 'cannot read topic metadata', ErrorCodes.KAFKA_UNAVAILABLE);
    }
  }

  async describeTopic(
    topic: string,
    options: { includeDefaults?: boolean } = {},
  ): Promise<TopicInfo> {
    const meta = (
      await existingPartitionCounts(this.admin, [topic]).catch((err: unknown) => {
        throw toArchiveError(
          err,
          `cannot read the metadata of ${topic}`,
          ErrorCodes.KAFKA_UNAVAILABLE,
        );
      })
    ).get(topic);
    if (meta === undefined) {
      throw new ArchiveError(
        ErrorCodes.KAFKA_TOPIC_UNKNOWN,
        `topic ${topic} does not exist in Kafka`,
      );
    }
    let described;
    try {
      described = await this.admin.describeConfigs({
        resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic }],
        includeSynonyms: false,
      });
    } catch (err) {
      throw toArchiveError(err, `cannot describe the configs of ${topic}`);
    }
    // As the kafkajs adapter: every config not at Kafka's default (set on the topic, or by the
    // broker's configuration) unless includeDefaults; sensitive ones (null) left out.
    const configs: Record<string, string> = {};
    for (const r of described) {
      for (const c of r.configs) {
        const wanted =
          options.includeDefaults === true || c.configSource !== ConfigSources.DEFAULT_CONFIG;
        if (wanted && typeof c.value === 'string') configs[c.name] = c.value;
      }
    }
    const topicId = kafkaTopicId(meta.id);
    return {
      name: topic,
      partitions: meta.partitions,
      ...(topicId !== undefined ? { topicId } : {}),
      configs,
    };
  }

  async createTopics(specs: TopicSpec[]): Promise<void> {
    try {
      // One request per spec: the client's createTopics takes one config list for all topics.
      for (const s of specs) {
        await this.admin.createTopics({
          topics: [
            { topic: s.name, partitions: s.partitions, replicas: s.replicationFactor ?? -1 },
          ],
          configs: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
        });
      }
    } catch (err) {
      throw toArchiveError(err, `cannot create ${specs.map((s) => s.name).join(', ')}`);
    }
    await this.waitForLeaders(specs);
  }

  /** Every partition of the new topics has a leader (produce and fetch right after work). */
  private async waitForLeaders(specs: TopicSpec[]): Promise<void> {
    const names = specs.map((s) => s.name);
    const deadline = Date.now() + LEADER_WAIT_MS;
    for (let wait = 50; ; wait = Math.min(1_000, wait * 2)) {
      const meta = await this.admin
        .metadata({ topics: names, forceUpdate: true })
        .catch(() => null);
      const ready =
        meta !== null &&
        specs.every((s) => {
          const t = meta.topics.get(s.name);
          return (
            t !== undefined &&
            t.partitionsCount === s.partitions &&
            t.partitions.every((p) => p !== undefined && p.leader >= 0)
          );
        });
      if (ready) return;
      if (Date.now() > deadline) {
        throw new ArchiveError(
          ErrorCodes.KAFKA_REQUEST_FAILED,
          `created ${names.join(', ')} but not every partition had a leader after ${LEADER_WAIT_MS} ms`,
          { retryable: true },
        );
      }
      await sleep(wait);
    }
  }

  async deleteTopics(topics: string[]): Promise<void> {
    try {
      await this.admin.deleteTopics({ topics });
    } catch (err) {
      throw toArchiveError(err, `cannot delete ${topics.join(', ')}`);
    }
  }

  async offsets(topic: string): Promise<Map<number, { low: bigint; high: bigint }>> {
    try {
      const meta = (await existingPartitionCounts(this.admin, [topic])).get(topic);
      if (meta === undefined) {
        throw new ArchiveError(
          ErrorCodes.KAFKA_TOPIC_UNKNOWN,
          `topic ${topic} does not exist in Kafka`,
        );
      }
      const partitions = Array.from({ length: meta.partitions }, (_, i) => i);
      const list = (timestamp: bigint) =>
        this.admin.listOffsets({
          // The high-water mark (not the last stable offset), as kafkajs' fetchTopicOffsets.
          isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
          topics: [
            {
              name: topic,
              partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })),
            },
          ],
        });
      const [low, high] = await Promise.all([
        list(ListOffsetTimestamps.EARLIEST),
        list(ListOffsetTimestamps.LATEST),
      ]);
      const out = new Map<number, { low: bigint; high: bigint }>();
      for (const p of partitions) out.set(p, { low: 0n, high: 0n });
      for (const t of low) for (const p of t.partitions) out.get(p.partitionIndex)!.low = p.offset;
      for (const t of high)
        for (const p of t.partitions) out.get(p.partitionIndex)!.high = p.offset;
      return out;
    } catch (err) {
      throw toArchiveError(err, `cannot list the offsets of ${topic}`);
    }
  }

  async groupOffsets(
    groupId: string,
    topics: string[],
  ): Promise<Map<string, Map<number, CommittedOffset>>> {
    try {
      return await readGroupOffsets(this.admin, groupId, topics);
    } catch (err) {
      throw toArchiveError(err, `cannot read the committed offsets of group ${groupId}`);
    }
  }

  async listGroups(): Promise<string[]> {
    try {
      const groups = await this.admin.listGroups();
      return [...groups.keys()].sort();
    } catch (err) {
      throw toArchiveError(err, 'cannot list the consumer groups', ErrorCodes.KAFKA_UNAVAILABLE);
    }
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    let groups;
    try {
      groups = await this.admin.describeGroups({ groups: [groupId] });
    } catch (err) {
      throw toArchiveError(err, `cannot describe consumer group ${groupId}`);
    }
    const g = groups.get(groupId);
    return {
      groupId,
      state: g === undefined ? 'Dead' : String(g.state),
      members: [...(g?.members.values() ?? [])].map((m) => ({
        memberId: m.id,
        clientId: m.clientId,
        clientHost: m.clientHost,
      })),
    };
  }

  async commitGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    const byTopic = new Map<string, Array<{ partition: number; offset: bigint }>>();
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? [];
      list.push({ partition: o.partition, offset: o.offset });
      byTopic.set(o.topic, list);
    }
    try {
      // OffsetCommit outside any generation (-1, no member id): the broker accepts it only for
      // a group without members.
      await this.admin.alterConsumerGroupOffsets({
        groupId,
        topics: [...byTopic].map(([name, partitionOffsets]) => ({ name, partitionOffsets })),
      });
    } catch (err) {
      throw toArchiveError(err, `cannot commit offsets of consumer group ${groupId}`);
    }
  }

  describeLogDirs(brokerIds?: number[]): Promise<BrokerLogDirs[]> {
    return describeLogDirs(this.admin, brokerIds);
  }

  async disconnect(): Promise<void> {
    await this.admin.close().catch(() => undefined);
  }
}
