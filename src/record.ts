/**
 * The one record type of the product: a Kafka record exactly as the broker stored it, as the
 * Kafka adapter delivers it, the segment writer archives it and the reader returns it.
 * Header order and duplicate header keys are kept; null and empty keys/values stay distinct.
 */
export interface KafkaHeader {
  key: string;
  value: Buffer | null;
}

export interface KafkaRecord {
  offset: bigint;
  timestamp: bigint;
  /** 0 = CreateTime, 1 = LogAppendTime */
  timestampType: 0 | 1;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeader[];
}
