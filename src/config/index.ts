export { loadConfig, redactConfig, envOverrides, formatProblems, ENV_PREFIX } from './load.js';
export type { ConfigOverride, ConfigProblem, LoadOptions } from './load.js';
export { configSchema, isLoopbackHost } from './schema.js';
export type {
  Config,
  ArchiverConfig,
  KafkaConfig,
  KafkaClientKind,
  RotationPolicy,
  Compression,
  StorageConfig,
  S3StorageConfig,
  TieringConfig,
  RestoreConfig,
  ProduceCompressionName,
} from './schema.js';
export { restoreStateDir, restoreTargetKafka, kafkaKeysAs } from './restore.js';
export { parseBytes, parseDurationMs, formatBytes } from './units.js';
