// The Kafka client the integration tests run on: KAFKA_CLIENT=kafkajs (default) or
// KAFKA_CLIENT=platformatic. Tests take it through the product's own configuration (the
// `kafka.client` key), so the same assertions run against either implementation:
//   KAFKA_CLIENT=platformatic KAFKA_VERSION=4.1.1 npx vitest run --project integration test/integration/kafka-smoke.test.ts
import type { KafkaClientKind, KafkaConfig, Logger } from '../../src/index.js';
import { createKafkaClient, type KafkaClient } from '../../src/kafka/index.js';

const kinds: KafkaClientKind[] = ['kafkajs', 'platformatic'];

function kindFromEnv(): KafkaClientKind {
  const v = process.env.KAFKA_CLIENT ?? 'kafkajs';
  const kind = kinds.find((k) => k === v);
  if (kind === undefined) throw new Error(`KAFKA_CLIENT=${v}: expected one of ${kinds.join(', ')}`);
  return kind;
}

export const testClient: KafkaClientKind = kindFromEnv();

/** The configuration variables that select the test client (for loadConfig and child processes). */
export const clientEnv: Record<string, string> = { KAFKA_ARCHIVE_KAFKA__CLIENT: testClient };

/** A product Kafka client of the selected kind. */
export function newTestClient(config: KafkaConfig, log: Logger): KafkaClient {
  return createKafkaClient({ ...config, client: testClient }, log);
}
