/**
 * Baseline for bench/archive-throughput.ts --client platformatic: a bare @platformatic/kafka
 * consumer (the client's own MessagesStream, no processing, read_committed, the product's fetch
 * sizes) in a new group reads a topic from the beginning until every partition's high-water mark
 * is reached. No product code. Prints one JSON line, as bench/lib/baseline-consumer.ts.
 *
 *   npx tsx bench/lib/baseline-platformatic.ts --brokers H:P --topic T --group G --hwm 0:n,1:m
 */
import { performance } from 'node:perf_hooks';
import { Consumer, FetchIsolationLevels, MessagesStreamModes } from '@platformatic/kafka';
import { LoopMonitor } from './monitor.js';
import { decodeHwm } from './kafka.js';
import { parseFlags } from './util.js';

const flags = parseFlags(process.argv.slice(2), { brokers: '', topic: '', group: '', hwm: '' });
const hwm = decodeHwm(String(flags.hwm));
const topic = String(flags.topic);
const consumer = new Consumer({
  clientId: 'bench-baseline-platformatic',
  bootstrapBrokers: String(flags.brokers).split(','),
  groupId: String(flags.group),
  // The product's fetch sizes (the `kafka.fetch.*` defaults) and wait (platformatic FETCH).
  isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  maxBytes: 4 * 1024 * 1024,
  maxBytesPerPartition: 1024 * 1024,
  maxWaitTime: 500,
  sessionTimeout: 30_000,
  rebalanceTimeout: 60_000,
  heartbeatInterval: 3_000,
  autocommit: false,
});

const next = new Map<number, number>(); // partition -> next offset expected
let records = 0;
let payloadBytes = 0;
let tJoin = 0;
let tFirst = 0;
const complete = () => [...hwm].every(([p, h]) => (next.get(p) ?? 0) >= h);

const wall0 = Date.now();
const mon = new LoopMonitor();
mon.start();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
consumer.on('consumer:group:join', () => {
  if (tJoin === 0) tJoin = performance.now();
});
const stream = await consumer.consume({
  topics: [topic],
  mode: MessagesStreamModes.EARLIEST,
  autocommit: false,
});
for await (const m of stream) {
  if (tFirst === 0) tFirst = performance.now();
  const off = Number(m.offset);
  if (off < (next.get(m.partition) ?? 0)) continue; // re-delivered
  records++;
  payloadBytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const [k, v] of m.headerEntries) payloadBytes += k.length + (v?.length ?? 0);
  next.set(m.partition, off + 1);
  if (complete()) break;
}
const tEnd = performance.now();
const cpu = process.cpuUsage(cpu0);
const loop = mon.stop();
await stream.close().catch(() => undefined);
await consumer.close(true).catch(() => undefined);
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
