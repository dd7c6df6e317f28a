import type { KafkaConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { createKafkajsClient, type KafkajsClientOptions } from './kafkajs/client.js';
import { lazyClient } from './lazy.js';
import type { KafkaClient } from './types.js';

export type * from './types.js';
export { createKafkajsClient };

/**
 * The Kafka client library `kafka.client` names: the one place the implementation is chosen.
 * @platformatic/kafka is loaded on first use (see lazy.ts).
 */
export function createKafkaClient(
  config: KafkaConfig,
  log: Logger,
  /** Retries of each request (kafkajs), of each admin request (@platformatic/kafka); default 8. */
  options: KafkajsClientOptions = {},
): KafkaClient {
  switch (config.client) {
    case 'platformatic':
      return lazyClient(async () =>
        (await import('./platformatic/client.js')).createPlatformaticClient(config, log, options),
      );
    case 'kafkajs':
      return createKafkajsClient(config, log, options);
  }
}
