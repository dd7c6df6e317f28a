/**
 * Baseline for bench/memory-partitions.ts: a bare kafkajs consumer (eachBatch, nothing kept,
 * the product's fetch sizes, given as JSON) in a new group reads every topic matching a pattern
 * from the beginning until it has seen --records records, then prints one JSON line with its
 * peak RSS. It imports no product code (only ./kafka.ts: kafkajs with an LZ4 codec), so it runs
 * on Node's own type stripping, with no loader in the process to inflate what is measured:
 *
 *   node bench/lib/bare-group-consumer.ts --brokers H:P --pattern 'mem-x-.*' --group G \
 *     --records 200000 --fetch '{"maxBytes":16777216,"maxBytesPerPartition":4194304}'
 */
import { parseArgs } from 'node:util';
import type * as KafkaJS from 'kafkajs';
import { loadKafkajs } from './kafka.ts';

const { values } = parseArgs({
  options: {
    brokers: { type: 'string' },
    pattern: { type: 'string' },
    group: { type: 'string' },
    records: { type: 'string' },
    fetch: { type: 'string', default: '{}' },
  },
});
if (values.brokers === undefined || values.pattern === undefined || values.group === undefined) {
  throw new Error('--brokers, --pattern and --group are required');
}
const want = Number(values.records);
const fetch = JSON.parse(values.fetch) as KafkaJS.ConsumerConfig;
const kafkajs = loadKafkajs(); // with the LZ4 codec
const kafka = new kafkajs.Kafka({
  brokers: values.brokers.split(','),
  clientId: 'bench-bare-group',
  logLevel: kafkajs.logLevel.ERROR,
});
const consumer = kafka.consumer({ ...fetch, groupId: values.group });
let records = 0;
let done!: () => void;
const finished = new Promise<void>((r) => (done = r));
consumer.on(consumer.events.CRASH, (e) => {
  // kafkajs restarts the consumer itself after a retriable error (a new cluster's coordinator
  // still loading its offsets, for one): only a crash it will not restart from ends the run.
  if (e.payload.restart) return;
  process.stderr.write(`bare consumer crashed: ${String(e.payload.error)}\n`);
  process.exit(1);
});
const t0 = performance.now();
await consumer.connect();
await consumer.subscribe({ topics: [new RegExp(`^${values.pattern}$`)], fromBeginning: true });
await consumer.run({
  autoCommit: false,
  partitionsConsumedConcurrently: 1,
  eachBatch: async ({ batch }) => {
    records += batch.messages.length;
    if (records >= want) done();
  },
});
await finished;
const seconds = (performance.now() - t0) / 1000;
await consumer.disconnect();
process.stdout.write(
  `${JSON.stringify({ records, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
process.exit(0);
