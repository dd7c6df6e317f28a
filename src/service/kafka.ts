import type { Config } from '../config/index.js';
import { createKafkaClient as clientFor, type KafkaClient } from '../kafka/index.js';
import type { Logger } from '../log/index.js';

/** The Kafka client of the product: the one place its implementation is chosen. */
export function createKafkaClient(config: Config, log: Logger): KafkaClient {
  return clientFor(config.kafka, log);
}
