import type { KafkaConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { createKafkajsClient } from './kafkajs/client.js';
import { createPlatformaticClient } from './platformatic/client.js';
import type { KafkaClient } from './types.js';

export type * from './types.js';
export { createKafkajsClient, createPlatformaticClient };

/** The Kafka client library `kafka.client` names: the one place the implementation is chosen. */
export function createKafkaClient(config: KafkaConfig, log: Logger): KafkaClient {
  switch (config.client) {
    case 'platformatic':
      return createPlatformaticClient(config, log);
    case 'kafkajs':
      return createKafkajsClient(config, log);
  }
}
