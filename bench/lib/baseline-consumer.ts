/**
 * Baseline for bench/archive-throughput.ts: a bare kafkajs consumer (eachBatch, no processing,
 * the product's fetch sizes) in a new group reads a topic from the beginning until every
 * partition's high-water mark is reached. Prints one JSON line.
 *
 *   npx tsx bench/lib/baseline-consumer.ts --brokers H:P --topic T --group G --hwm 0:n,1:m
 */
import { performance } from 'node:perf_hooks';
import { LoopMonitor } from './monitor.js';
import { PRODUCT_FETCH, decodeHwm, loadKafkajs, newKafka } from './kafka.js';
import { parseFlags } from './util.js';

const flags = parseFlags(process.argv.slice(2), { brokers: '', topic: '', group: '', hwm: '' });
const hwm = decodeHwm(String(flags.hwm));
const topic = String(flags.topic);
const kafkajs = loadKafkajs();
const kafka = newKafka(kafkajs, String(flags.brokers).split(','), 'bench-baseline');
const consumer = kafka.consumer({ groupId: String(flags.group), ...PRODUCT_FETCH });

const next = new Map<number, number>(); // partition -> next offset expected
let records = 0;
let payloadBytes = 0;
let tJoin = 0;
let tFirst = 0;
let done!: () => void;
const finished = new Promise<void>((r) => (done = r));
const complete = () => [...hwm].every(([p, h]) => (next.get(p) ?? 0) >= h);

const wall0 = Date.now();
const mon = new LoopMonitor();
mon.start();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
consumer.on(consumer.events.GROUP_JOIN, () => {
  if (tJoin === 0) tJoin = performance.now();
});
await consumer.connect();
await consumer.subscribe({ topics: [topic], fromBeginning: true });
await consumer.run({
  autoCommit: false,
  partitionsConsumedConcurrently: 1,
  eachBatch: async ({ batch }) => {
    if (tFirst === 0) tFirst = performance.now();
    for (const m of batch.messages) {
      const off = Number(m.offset);
      if (off < (next.get(batch.partition) ?? 0)) continue; // re-delivered
      records++;
      payloadBytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
      for (const [k, v] of Object.entries(m.headers ?? {})) {
        for (const x of Array.isArray(v) ? v : [v]) {
          payloadBytes += Buffer.byteLength(k) + (x === undefined ? 0 : Buffer.byteLength(x));
        }
      }
      next.set(batch.partition, off + 1);
    }
    if (complete()) done();
  },
});
if (complete()) done();
await finished;
const tEnd = performance.now();
const cpu = process.cpuUsage(cpu0);
const loop = mon.stop();
await consumer.disconnect();
process.stdout.write(
  `${JSON.stringify({
    records,
    payloadBytes,
    startedAtMs: wall0,
    totalMs: tEnd - t0,
    joinMs: tJoin - t0,
    firstFetchMs: tFirst - t0,
    fromFirstFetchMs: tEnd - tFirst,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    loop,
  })}\n`,
);
process.exit(0);
