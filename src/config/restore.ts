import { dirname, join } from 'node:path';
import type { Config, KafkaConfig } from './schema.js';

/** `restore.stateDir`, by default `restore/` beside the catalog directory. */
export function restoreStateDir(config: Config): string {
  return config.restore.stateDir ?? join(dirname(config.catalog.dir), 'restore');
}

/**
 * The cluster restores write to: `restore.target` when set, else the source cluster
 * (`kafka.*`); `brokers` (e.g. `--target-brokers`) replaces its broker list.
 */
export function restoreTargetKafka(config: Config, brokers?: string[]): KafkaConfig {
  // The target cluster is spoken to with the same client library as the source (kafka.client)
  // and read with the same fetch sizes (they bound this process's memory, not the cluster's).
  const base: KafkaConfig =
    config.restore.target !== undefined
      ? { ...config.restore.target, client: config.kafka.client, fetch: config.kafka.fetch }
      : config.kafka;
  return brokers !== undefined && brokers.length > 0 ? { ...base, brokers } : base;
}

/**
 * The Kafka clients name `kafka.*` keys in their hints; for another cluster's settings (the
 * restore target's `restore.target.*`) the same keys live under `prefix`.
 */
export function kafkaKeysAs(prefix: string, message: string): string {
  if (prefix === 'kafka') return message;
  return message.replace(/\bkafka\.(tls|sasl|ssl|brokers)\b/g, `${prefix}.$1`);
}
