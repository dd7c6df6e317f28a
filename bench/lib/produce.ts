/**
 * Fills a benchmark topic with the deterministic records of RecordGenerator (seed 7), spread
 * round-robin over its partitions, through plain kafkajs (acks=1, not idempotent, 8 requests in
 * flight): the same input for every benchmark that needs a source topic.
 */
import type * as KafkaJS from 'kafkajs';
import { payloadBytes, RecordGenerator } from './records.js';

export interface ProduceOptions {
  topic: string;
  records: number;
  partitions: number;
  valueBytes: number;
  compression: 'lz4' | 'none';
  /** Called every 100,000 records. */
  onProgress?: (records: number) => void;
}

export async function produceGenerated(
  kafkajs: typeof KafkaJS,
  kafka: KafkaJS.Kafka,
  o: ProduceOptions,
): Promise<{ ms: number; payload: number }> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
  await producer.connect();
  const gen = new RecordGenerator({ valueBytes: o.valueBytes, seed: 7 });
  const batch = 1000;
  const inFlight = new Set<Promise<unknown>>();
  let payload = 0;
  const t0 = performance.now();
  for (let i = 0; i < o.records; i += batch) {
    const messages: KafkaJS.Message[] = [];
    for (let j = i; j < Math.min(o.records, i + batch); j++) {
      const r = gen.next(BigInt(j));
      payload += payloadBytes(r);
      const headers: KafkaJS.IHeaders = {};
      for (const h of r.headers) headers[h.key] = h.value ?? undefined;
      messages.push({
        key: r.key,
        value: r.value,
        headers,
        partition: j % o.partitions,
        timestamp: String(r.timestamp),
      });
    }
    const p = producer.send({
      topic: o.topic,
      acks: 1,
      compression:
        o.compression === 'lz4' ? kafkajs.CompressionTypes.LZ4 : kafkajs.CompressionTypes.None,
      messages,
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    if (inFlight.size >= 8) await Promise.race(inFlight);
    if (i > 0 && i % 100_000 === 0) o.onProgress?.(i);
  }
  await Promise.all(inFlight);
  const ms = performance.now() - t0;
  await producer.disconnect();
  return { ms, payload };
}
