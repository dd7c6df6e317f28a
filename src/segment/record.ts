/** One archived Kafka record. Structurally identical to the Kafka adapter's record. */
export interface ArchiveHeader {
  key: string;
  value: Buffer | null;
}

export interface ArchiveRecord {
  offset: bigint;
  timestamp: bigint;
  /** 0 = CreateTime, 1 = LogAppendTime */
  timestampType: 0 | 1;
  key: Buffer | null;
  value: Buffer | null;
  headers: ArchiveHeader[];
}
