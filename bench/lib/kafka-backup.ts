/**
 * osodevops/kafka-backup (a Rust peer) as the benchmarks run it: the YAML of a one-shot backup
 * of one topic to a local directory, and of its restore into another topic. The binary is the
 * caller's (`--kafka-backup BIN` or env KAFKA_BACKUP_BIN); nothing here fetches or builds it.
 */

const list = (brokers: string[]) => `[${brokers.map((b) => `"${b}"`).join(', ')}]`;

/**
 * High-water marks taken at start, exit when all are reached; zstd segments (the product's
 * Parquet codec) of `segmentBytes`.
 */
export function kafkaBackupBackupConfig(o: {
  backupId: string;
  brokers: string[];
  topic: string;
  storage: string;
  segmentBytes: number;
  offsetsDb: string;
}): string {
  return [
    'mode: backup',
    `backup_id: "${o.backupId}"`,
    'source:',
    `  bootstrap_servers: ${list(o.brokers)}`,
    '  topics:',
    `    include: ["${o.topic}"]`,
    'storage:',
    '  backend: filesystem',
    `  path: "${o.storage}"`,
    'backup:',
    '  compression: zstd',
    '  start_offset: earliest',
    '  continuous: false',
    '  stop_at_current_offsets: true',
    `  segment_max_bytes: ${o.segmentBytes}`,
    'offset_storage:',
    `  db_path: "${o.offsetsDb}"`,
    '',
  ].join('\n');
}

/** Its defaults otherwise (acks=-1, produce_batch_size 1000, max_concurrent_partitions 4). */
export function kafkaBackupRestoreConfig(o: {
  backupId: string;
  brokers: string[];
  topic: string;
  storage: string;
  target: string;
}): string {
  return [
    'mode: restore',
    `backup_id: "${o.backupId}"`,
    'target:',
    `  bootstrap_servers: ${list(o.brokers)}`,
    '  topics:',
    `    include: ["${o.topic}"]`,
    'storage:',
    '  backend: filesystem',
    `  path: "${o.storage}"`,
    'restore:',
    '  topic_mapping:',
    `    "${o.topic}": "${o.target}"`,
    '',
  ].join('\n');
}
