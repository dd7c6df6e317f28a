/**
 * The product in-process, for bench/archive-throughput.ts: the Archiver composed exactly as
 * createArchiverService() does (the Kafka client `kafka.client` selects, DuckDB SegmentWriter,
 * LocalSegmentIndex), with two thin
 * observers around it: the Kafka client's consumer handler (to see when every record has been
 * handed to the archiver) and the segment writer (to time each seal). Runs until every
 * partition's high-water mark is covered by sealed segments, then stops gracefully and prints one
 * JSON line. Configuration comes from KAFKA_ARCHIVE_* variables, as for the CLI.
 *
 *   npx tsx bench/lib/archiver-inproc.ts --hwm 0:n,1:m [--product-root DIR]
 */
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConsumerHandlers, GroupConsumer, KafkaClient } from '../../src/kafka/index.js';
import type * as ArchiverModule from '../../src/archiver/index.js';
import type * as SegmentModule from '../../src/segment/index.js';
import type * as LocalIndexModule from '../../src/archive/hot.js';
import type * as KafkaModule from '../../src/kafka/index.js';
import type * as ConfigModule from '../../src/config/index.js';
import type * as LogModule from '../../src/log/index.js';
import { LoopMonitor } from './monitor.js';
import { decodeHwm } from './kafka.js';
import { parseFlags } from './util.js';

const flags = parseFlags(process.argv.slice(2), { hwm: '', 'product-root': '' });
// The product checkout to load (default: this repository); only these few modules are used.
const root = resolve(String(flags['product-root']) || join(import.meta.dirname, '../..'));
const load = async <T>(rel: string) => (await import(pathToFileURL(join(root, rel)).href)) as T;
const { Archiver } = await load<typeof ArchiverModule>('src/archiver/index.ts');
const { SegmentWriter } = await load<typeof SegmentModule>('src/segment/index.ts');
const { LocalSegmentIndex } = await load<typeof LocalIndexModule>('src/archive/hot.ts');
const kafkaModule = await load<Partial<typeof KafkaModule>>('src/kafka/index.ts');
const { loadConfig } = await load<typeof ConfigModule>('src/config/index.ts');
const { createLogger } = await load<typeof LogModule>('src/log/index.ts');
const hwm = decodeHwm(String(flags.hwm));
const config = loadConfig();
const log = createLogger({ level: config.log.level, pretty: false });

const consumedNext = new Map<number, bigint>();
const sealedLast = new Map<number, bigint>();
let t0 = 0;
let tFirst = 0;
let tConsumed = 0;
let tArchived = 0;
let onArchived!: () => void;
const archived = new Promise<void>((r) => (onArchived = r));
const covered = (m: Map<number, bigint>, d: bigint) =>
  [...hwm].every(([p, h]) => (m.get(p) ?? -1n) + d >= BigInt(h));

// The client `kafka.client` selects (KAFKA_ARCHIVE_KAFKA__CLIENT); older checkouts: kafkajs.
const base =
  kafkaModule.createKafkaClient?.(config.kafka, log) ??
  (kafkaModule.createKafkajsClient as typeof KafkaModule.createKafkajsClient)(config.kafka, log);
const kafka: KafkaClient = {
  load: async () => (base as Partial<KafkaClient>).load?.(), // older checkouts have no load()
  admin: () => base.admin(),
  producer: (o) => base.producer(o),
  transactionalProducer: (o) => base.transactionalProducer(o),
  readCommitted: (ranges, onRecords) => base.readCommitted(ranges, onRecords),
  consumer(o) {
    const c = base.consumer(o);
    const wrapped: GroupConsumer = {
      start(topics: string[], handlers: ConsumerHandlers) {
        return c.start(topics, {
          ...handlers,
          async onBatch(batch, control) {
            if (tFirst === 0) tFirst = performance.now();
            await handlers.onBatch(batch, control);
            const prev = consumedNext.get(batch.partition) ?? 0n;
            if (batch.nextOffset > prev) consumedNext.set(batch.partition, batch.nextOffset);
            if (tConsumed === 0 && covered(consumedNext, 0n)) tConsumed = performance.now();
          },
        });
      },
      stop: () => c.stop(),
      commit: (offsets) => c.commit(offsets),
      seek: (p) => c.seek(p),
      pause: (p) => c.pause(p),
      resume: (p) => c.resume(p),
      committed: (t) => c.committed(t),
    };
    return wrapped;
  },
};

const seals: Array<{ startMs: number; ms: number; records: number; bytes: number }> = [];
class TimedWriter extends SegmentWriter {
  override async write(...args: Parameters<SegmentModule.SegmentWriter['write']>) {
    const t = performance.now();
    const res = await super.write(...args);
    seals.push({
      startMs: Math.round(t - t0),
      ms: Math.round(performance.now() - t),
      records: res.meta.recordCount,
      bytes: res.bytes,
    });
    return res;
  }
}

const writer = new TimedWriter();
const archiver = new Archiver({
  kafka,
  config: config.archiver,
  writer,
  index: new LocalSegmentIndex(config.archiver.hotDir),
  log: log.child({ component: 'archiver' }),
});
archiver.onSealed((e) => {
  const prev = sealedLast.get(e.partition) ?? -1n;
  if (e.lastOffset > prev) sealedLast.set(e.partition, e.lastOffset);
  if (tArchived === 0 && covered(sealedLast, 1n)) {
    tArchived = performance.now();
    onArchived();
  }
});

// Load the client library before the measured window (kafkajs is loaded with the modules above;
// @platformatic/kafka is imported on first use, which compiles its schemas: ~1 s of CPU once).
await (await base.admin()).disconnect();

const wall0 = Date.now();
const mon = new LoopMonitor();
mon.start();
const cpu0 = process.cpuUsage();
t0 = performance.now();
await archiver.start();
await archived;
const cpu = process.cpuUsage(cpu0);
const loop = mon.stop();
const stats = archiver.getStats();
await archiver.stop();
await writer.close();
const sealMs = seals.map((s) => s.ms).sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({
    startedAtMs: wall0,
    totalMs: tArchived - t0,
    firstFetchMs: tFirst - t0,
    consumedMs: tConsumed - t0,
    fromFirstFetchMs: tArchived - tFirst,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    loop,
    segments: seals.length,
    segmentBytes: seals.reduce((n, s) => n + s.bytes, 0),
    segmentRecords: seals.reduce((n, s) => n + s.records, 0),
    sealMsMedian: sealMs[Math.floor(sealMs.length / 2)] ?? 0,
    sealMsMax: sealMs[sealMs.length - 1] ?? 0,
    recordsArchived: stats.recordsArchived,
    seals,
  })}\n`,
);
process.exit(0);
