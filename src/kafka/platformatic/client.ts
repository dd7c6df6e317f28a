import {
  Admin as PltAdmin,
  ProduceAcks,
  Producer as PltProducer,
  compatibilityPartitioner,
} from '@platformatic/kafka';
import type { KafkaConfig } from '../../config/index.js';
import type { Logger } from '../../log/index.js';
import type { KafkaClient } from '../types.js';
import { PlatformaticAdmin } from './admin.js';
import { PlatformaticConsumer } from './consumer.js';
import { connectError, isAuthenticationError, tlsTrustError } from './errors.js';
import { clientSettings, forwardClientEvents } from './options.js';
import { PlatformaticProducer, PlatformaticTransactionalProducer } from './producer.js';
import { readCommittedRanges } from './read-committed.js';
import { installVarInt64Fix } from './varint-fix.js';

/**
 * The KafkaClient over @platformatic/kafka (pure TypeScript; Kafka 3.5-4.2; zstd; topic ids).
 * Same semantics as the kafkajs client (src/kafka/kafkajs): read_committed group consumption
 * with ordered duplicate headers, null vs empty keys, values and header values, timestamp types,
 * batch ranges that cover skipped control and aborted records, bounded fetches; idempotent
 * producers with acks=all; Java-compatible key partitioning.
 */
export function createPlatformaticClient(
  config: KafkaConfig,
  log: Logger,
  /**
   * Retries of each admin request (the client's back-off, 300 ms doubling; default 8), so a
   * caller can fail fast on an unreachable cluster. Producers and consumers keep 8.
   */
  options: { retries?: number } = {},
): KafkaClient {
  installVarInt64Fix();
  const settings = clientSettings(config);
  const sizes = config.fetch;
  const adminSettings = {
    ...settings,
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
  };
  const klog = log.child({ component: 'kafka' });
  const where = config.brokers.join(',');
  /**
   * One metadata request without retries: refused credentials and an untrusted certificate are
   * reported at once (the client retries them like any network error: a minute of back-off).
   * Anything else is left to the retried request after it (a broker still starting).
   */
  async function probe(): Promise<void> {
    const a = new PltAdmin({ ...settings, retries: 0 });
    try {
      await a.metadata({ topics: [] });
    } catch (err) {
      if (isAuthenticationError(err) || tlsTrustError(err) !== undefined) throw err;
    } finally {
      await a.close().catch(() => undefined);
    }
  }
  /** A producer is lazy: one metadata request checks that the brokers answer. */
  async function connected<T extends PltProducer | PltAdmin>(client: T): Promise<T> {
    forwardClientEvents(client, klog);
    try {
      if (config.ssl || config.sasl !== undefined) await probe();
      await client.metadata({ topics: [] });
      return client;
    } catch (err) {
      await client.close().catch(() => undefined);
      throw connectError(err, where);
    }
  }
  return {
    async load() {
      // Imported with this module.
    },
    async admin() {
      return new PlatformaticAdmin(await connected(new PltAdmin({ ...adminSettings })));
    },
    consumer({ groupId, sessionTimeoutMs }) {
      return new PlatformaticConsumer(settings, groupId, klog, sizes, sessionTimeoutMs);
    },
    async producer(options = {}) {
      const idempotent = options.idempotent ?? true;
      const p = new PltProducer({
        ...settings,
        idempotent,
        acks: ProduceAcks.ALL,
        partitioner: compatibilityPartitioner,
        autocreateTopics: false,
        ...(options.transactionalId !== undefined
          ? { transactionalId: options.transactionalId }
          : {}),
      });
      return new PlatformaticProducer(await connected(p));
    },
    async transactionalProducer({ transactionalId, compression, transactionTimeoutMs }) {
      const p = new PltProducer({
        ...settings,
        // The client sends this as InitProducerId's transaction timeout (and as the produce
        // requests' timeout).
        timeout: transactionTimeoutMs ?? 60_000,
        idempotent: true,
        acks: ProduceAcks.ALL,
        transactionalId,
        // InitProducerId sends these as the "current" producer id and epoch; the client's default
        // (0, 0) makes the broker answer PRODUCER_FENCED whenever the transactional id already has
        // state, i.e. for every producer after the first one (a restart after kill -9). -1/-1 is
        // Kafka's "new producer".
        producerId: -1n,
        producerEpoch: -1,
        compression,
        partitioner: compatibilityPartitioner,
        autocreateTopics: false,
      });
      const admin = new PltAdmin({ ...settings });
      const tp = new PlatformaticTransactionalProducer(
        await connected(p),
        await connected(admin),
        transactionalId,
      );
      await tp.init();
      return tp;
    },
    readCommitted(ranges, onRecords) {
      return readCommittedRanges(settings, ranges, onRecords, klog, sizes);
    },
  };
}
