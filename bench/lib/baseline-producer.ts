/**
 * Baseline for bench/restore-throughput.ts: a bare kafkajs producer writes the benchmark's
 * records (bench/lib/records.ts, seed 7, partition = i % partitions, the archived timestamps) to
 * a topic: idempotent, acks=all, the product's producer settings (one request in flight), one
 * send() per batch of at most --batch-records records / --batch-bytes record bytes (the
 * defaults of restore.batchRecords / restore.batchBytes), each partition's share of a batch
 * kept under --max-message-bytes like the restore's produce calls. --transactional: one
 * transaction per batch (begin, send, commit), as the restore commits one per batch.
 * Records are generated between the sends, outside the clock and outside the CPU count (the
 * clock runs from the first send to the last acknowledgement; CPU = process.cpuUsage() over
 * those windows, so lz4 on the thread pool counts). Prints one JSON line.
 *
 *   npx tsx bench/lib/baseline-producer.ts --brokers H:P --topic T --records N [--value-bytes 1024]
 *     [--partitions 8] [--compression lz4|none] [--batch-records 50000] [--batch-bytes 4194304]
 *     [--max-message-bytes 1048588] [--transactional]
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type * as KafkaJS from 'kafkajs';
import { loadKafkajs, newKafka, procStats } from './kafka.js';
import { RecordGenerator, payloadBytes } from './records.js';
import { intFlag, parseFlags } from './util.js';
import type { KafkaRecord } from '../../src/record.js';

const flags = parseFlags(process.argv.slice(2), {
  brokers: '',
  topic: '',
  records: '',
  'value-bytes': '1024',
  partitions: '8',
  compression: 'lz4',
  'batch-records': '50000',
  'batch-bytes': String(4 * 2 ** 20),
  'max-message-bytes': '1048588',
  transactional: false,
});
const M = intFlag(flags, 'records');
const partitions = intFlag(flags, 'partitions');
const batchRecords = intFlag(flags, 'batch-records');
const batchBytes = intFlag(flags, 'batch-bytes');
/** Room for the record batch header and per-record overhead, as the restore leaves. */
const perPartitionMax = intFlag(flags, 'max-message-bytes') - 64 * 1024;
const topic = String(flags.topic);
const transactional = flags.transactional === true;

const kafkajs = loadKafkajs();
const kafka = newKafka(kafkajs, String(flags.brokers).split(','), 'bench-baseline-producer');
const codec =
  flags.compression === 'lz4' ? kafkajs.CompressionTypes.LZ4 : kafkajs.CompressionTypes.None;
// The product's settings (src/kafka/kafkajs/client.ts): idempotent, one request in flight.
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  ...(transactional
    ? {
        transactionalId: `bench-baseline-${randomBytes(4).toString('hex')}`,
        transactionTimeout: 60_000,
        retry: { retries: 10, initialRetryTime: 20, maxRetryTime: 30_000 },
      }
    : {}),
});

let cpuMicros = 0;
let ms = 0;
/** Runs fn on the clock: wall time and process CPU of its window are added to the totals. */
async function timed<T>(fn: () => Promise<T>): Promise<T> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    ms += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuMicros += c.user + c.system;
  }
}

const tConnect0 = performance.now();
await timed(() => producer.connect());
const connectMs = performance.now() - tConnect0;

const gen = new RecordGenerator({ valueBytes: intFlag(flags, 'value-bytes'), seed: 7 });
let payload = 0;
let sends = 0;
/** Transaction markers written into the topic: one per partition per committed transaction. */
let markers = 0;
let i = 0;
/** A record drawn from the generator that did not fit the previous batch. */
let pending: KafkaRecord | null = null;
while (i < M) {
  const messages: KafkaJS.Message[] = [];
  const perPartition = new Array<number>(partitions).fill(0);
  let bytes = 0;
  while (i < M && messages.length < batchRecords) {
    const r: KafkaRecord = pending ?? gen.next(BigInt(i));
    pending = null;
    const size = payloadBytes(r);
    const p = i % partitions;
    if (
      messages.length > 0 &&
      (bytes + size > batchBytes || (perPartition[p] as number) + size > perPartitionMax)
    ) {
      pending = r;
      break;
    }
    const headers: KafkaJS.IHeaders = {};
    for (const h of r.headers) headers[h.key] = h.value ?? undefined;
    messages.push({
      key: r.key,
      value: r.value,
      headers,
      partition: p,
      timestamp: String(r.timestamp),
    });
    bytes += size;
    perPartition[p] = (perPartition[p] as number) + size;
    payload += size;
    i++;
  }
  await timed(async () => {
    if (transactional) {
      const txn = await producer.transaction();
      try {
        await txn.send({ topic, acks: -1, compression: codec, messages });
        await txn.commit();
      } catch (err) {
        await txn.abort().catch(() => undefined);
        throw err;
      }
    } else {
      await producer.send({ topic, acks: -1, compression: codec, messages });
    }
  });
  sends++;
  if (transactional) markers += perPartition.filter((n) => n > 0).length;
}
await producer.disconnect();
const ps = await procStats(process.pid);
console.log(
  JSON.stringify({
    records: i,
    payloadBytes: payload,
    sends,
    markers,
    connectMs,
    ms,
    cpuSeconds: cpuMicros / 1e6,
    peakRssBytes: ps?.peakRssBytes ?? NaN,
  }),
);
process.exit(0);
