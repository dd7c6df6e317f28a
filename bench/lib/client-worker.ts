/**
 * One measurement of bench/kafka-clients.ts in its own process; prints one JSON line.
 *
 *   read:    a bare consumer in a new group reads a topic from the beginning until every
 *            partition's high-water mark (--hwm) is reached, counting payload bytes only
 *            (key + value + header keys and values), read_committed.
 *              --mode read --client platformatic[-tuned|-1m]|confluent[-tuned|-rdkafka] --brokers B --topic T --group G --hwm 0:n,...
 *            (the kafkajs reader is bench/lib/baseline-consumer.ts, the archive benchmark's baseline)
 *   produce: idempotent producer, acks=all, lz4, the benchmark's records (bench/lib/records.ts,
 *            seed 7) generated before the clock starts, partition = index % partitions,
 *            --batch records per send() call, up to --in-flight send() calls outstanding.
 *              --mode produce --client kafkajs|platformatic|confluent --brokers B --topic T
 *                --records N --value-bytes 1024 --partitions 8 [--batch 8000] [--in-flight 4]
 */
import { performance } from 'node:perf_hooks';
import type * as KafkaJS from 'kafkajs';
import { LoopMonitor } from './monitor.js';
import { decodeHwm, loadKafkajs, newKafka } from './kafka.js';
import { RecordGenerator, payloadBytes as recordPayload } from './records.js';
import { parseFlags, intFlag } from './util.js';
import {
  loadConfluent,
  loadPlatformatic,
  type CkHeaders,
  type CkMessage,
  type PlatProduceMessage,
} from './clients.js';

const flags = parseFlags(process.argv.slice(2), {
  mode: '',
  client: '',
  brokers: '',
  topic: '',
  group: '',
  hwm: '',
  records: '1000000',
  'value-bytes': '1024',
  partitions: '8',
  batch: '8000',
  'in-flight': '4',
  compression: 'lz4',
});
const client = String(flags.client);
const brokers = String(flags.brokers).split(',');
const topic = String(flags.topic);

function emit(o: Record<string, unknown>): never {
  process.stdout.write(`${JSON.stringify(o)}\n`);
  process.exit(0);
}

// ---- read ---------------------------------------------------------------------------------------

async function read(): Promise<never> {
  const hwm = decodeHwm(String(flags.hwm));
  const next = new Map<number, number>();
  let records = 0;
  let payload = 0;
  let callbacks = 0;
  let maxPerCallback = 0;
  let tFirst = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const complete = () => [...hwm].every(([p, h]) => (next.get(p) ?? 0) >= h);
  const wall0 = Date.now();
  const mon = new LoopMonitor();
  mon.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let close: () => Promise<void>;

  if (
    client === 'platformatic' ||
    client === 'platformatic-tuned' ||
    client === 'platformatic-1m'
  ) {
    const plat = await loadPlatformatic();
    const consumer = new plat.Consumer({
      clientId: 'bench-platformatic',
      bootstrapBrokers: brokers,
      groupId: String(flags.group),
      autocommit: false,
      isolationLevel: plat.FetchIsolationLevels.READ_COMMITTED,
      // -tuned: the product's fetch sizes (src/kafka/kafkajs/client.ts) instead of 50 MB fetches.
      // -1m: 1 MiB fetches (it decodes and decompresses a whole fetch response synchronously).
      ...(client === 'platformatic-tuned'
        ? { maxBytes: 16 * 1024 * 1024, maxBytesPerPartition: 4 * 1024 * 1024 }
        : client === 'platformatic-1m'
          ? { maxBytes: 1024 * 1024, maxBytesPerPartition: 1024 * 1024 }
          : {}),
    });
    const stream = await consumer.consume({
      topics: [topic],
      mode: plat.MessagesStreamModes.EARLIEST,
      autocommit: false,
    });
    stream.on('error', (e) => {
      console.error(e);
      process.exit(2);
    });
    stream.on('data', (m) => {
      if (tFirst === 0) tFirst = performance.now();
      callbacks++;
      maxPerCallback = 1;
      const off = Number(m.offset);
      if (off < (next.get(m.partition) ?? 0)) return;
      records++;
      payload += (m.key?.length ?? 0) + (m.value?.length ?? 0);
      for (const [k, v] of m.headers) payload += k.length + (v?.length ?? 0);
      next.set(m.partition, off + 1);
      if (complete()) done();
    });
    close = async () => {
      await stream.close();
      await consumer.close(true);
    };
  } else if (client === 'confluent' || client === 'confluent-tuned') {
    const ck = loadConfluent();
    const kafka = new ck.KafkaJS.Kafka({
      kafkaJS: { brokers, logLevel: ck.KafkaJS.logLevel.ERROR },
    });
    const consumer = kafka.consumer({
      kafkaJS: { groupId: String(flags.group), fromBeginning: true, autoCommit: false },
      'isolation.level': 'read_committed',
      // -tuned: no cap on the records per eachBatch call (default 32).
      ...(client === 'confluent-tuned' ? { 'js.consumer.max.batch.size': -1 } : {}),
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (tFirst === 0) tFirst = performance.now();
        callbacks++;
        if (batch.messages.length > maxPerCallback) maxPerCallback = batch.messages.length;
        for (const m of batch.messages) {
          const off = Number(m.offset);
          if (off < (next.get(batch.partition) ?? 0)) continue;
          records++;
          payload += (m.key?.length ?? 0) + (m.value?.length ?? 0);
          for (const [k, v] of Object.entries(m.headers ?? {})) {
            for (const x of Array.isArray(v) ? v : [v]) {
              payload += Buffer.byteLength(k) + (x === undefined ? 0 : Buffer.byteLength(x));
            }
          }
          next.set(batch.partition, off + 1);
        }
        if (complete()) done();
      },
    });
    close = () => consumer.disconnect();
  } else if (client === 'confluent-rdkafka') {
    // The package's lower-level node-rdkafka API: consume(n) returns up to n messages per call.
    const ck = loadConfluent();
    const consumer = new ck.KafkaConsumer(
      {
        'metadata.broker.list': brokers.join(','),
        'group.id': String(flags.group),
        'enable.auto.commit': false,
        'isolation.level': 'read_committed',
      },
      { 'auto.offset.reset': 'earliest' },
    );
    await new Promise<void>((res, rej) => consumer.connect({}, (e) => (e ? rej(e) : res())));
    consumer.subscribe([topic]);
    const poll = (): void =>
      consumer.consume(10_000, (err, msgs) => {
        if (err) {
          console.error(err);
          process.exit(2);
        }
        if (msgs.length > 0) {
          if (tFirst === 0) tFirst = performance.now();
          callbacks++;
          if (msgs.length > maxPerCallback) maxPerCallback = msgs.length;
        }
        for (const m of msgs) {
          if (m.offset < (next.get(m.partition) ?? 0)) continue;
          records++;
          payload += (m.key?.length ?? 0) + (m.value?.length ?? 0);
          for (const h of m.headers ?? []) {
            for (const [k, v] of Object.entries(h)) payload += Buffer.byteLength(k) + v.length;
          }
          next.set(m.partition, m.offset + 1);
        }
        if (complete()) done();
        else setImmediate(poll);
      });
    poll();
    close = () => new Promise<void>((res) => consumer.disconnect(() => res()));
  } else {
    throw new Error(`read: unknown client ${client}`);
  }
  await finished;
  const tEnd = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const loop = mon.stop();
  await Promise.race([close(), new Promise((r) => setTimeout(r, 5000))]);
  emit({
    records,
    payloadBytes: payload,
    startedAtMs: wall0,
    totalMs: tEnd - t0,
    firstFetchMs: tFirst - t0,
    fromFirstFetchMs: tEnd - tFirst,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    callbacks,
    maxRecordsPerCallback: maxPerCallback,
    loop,
  });
}

// ---- produce --------------------------------------------------------------------------------------

interface Rec {
  key: Buffer;
  value: Buffer;
  headers: Array<{ key: string; value: Buffer }>;
  partition: number;
}

async function produce(): Promise<never> {
  const M = intFlag(flags, 'records');
  const partitions = intFlag(flags, 'partitions');
  const batch = intFlag(flags, 'batch');
  const inFlightMax = intFlag(flags, 'in-flight');
  const compression = String(flags.compression);
  const gen = new RecordGenerator({ valueBytes: intFlag(flags, 'value-bytes'), seed: 7 });
  const recs: Rec[] = new Array<Rec>(M);
  let payload = 0;
  for (let i = 0; i < M; i++) {
    const r = gen.next(BigInt(i));
    payload += recordPayload(r);
    recs[i] = {
      key: r.key as Buffer,
      value: r.value as Buffer,
      headers: r.headers.map((h) => ({ key: h.key, value: h.value as Buffer })),
      partition: i % partitions,
    };
  }
  const objHeaders = (r: Rec): CkHeaders => {
    const o: CkHeaders = {};
    for (const h of r.headers) o[h.key] = h.value;
    return o;
  };

  let sendChunk: (chunk: Rec[]) => Promise<unknown>;
  let disconnect: () => Promise<void>;
  const tc = performance.now();
  if (client === 'kafkajs') {
    const kafkajs = loadKafkajs();
    const kafka = newKafka(kafkajs, brokers, 'bench-kafkajs-producer');
    // The product's producer settings (src/kafka/kafkajs/client.ts): idempotent, one request
    // in flight per broker.
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    const codec =
      compression === 'lz4' ? kafkajs.CompressionTypes.LZ4 : kafkajs.CompressionTypes.None;
    sendChunk = (chunk) =>
      producer.send({
        topic,
        acks: -1,
        compression: codec,
        messages: chunk.map((r): KafkaJS.Message => ({
          key: r.key,
          value: r.value,
          partition: r.partition,
          headers: objHeaders(r) as KafkaJS.IHeaders,
        })),
      });
    disconnect = () => producer.disconnect();
  } else if (client === 'platformatic') {
    const plat = await loadPlatformatic();
    const producer = new plat.Producer({
      clientId: 'bench-platformatic-producer',
      bootstrapBrokers: brokers,
      idempotent: true,
      acks: plat.ProduceAcks.ALL,
      compression,
      autocreateTopics: false,
    });
    sendChunk = (chunk) =>
      producer.send({
        messages: chunk.map((r): PlatProduceMessage => ({
          topic,
          partition: r.partition,
          key: r.key,
          value: r.value,
          headers: new Map(r.headers.map((h) => [Buffer.from(h.key), h.value])),
        })),
      });
    disconnect = () => producer.close();
  } else if (client === 'confluent') {
    const ck = loadConfluent();
    const kafka = new ck.KafkaJS.Kafka({
      kafkaJS: { brokers, logLevel: ck.KafkaJS.logLevel.ERROR },
    });
    const producer = kafka.producer({
      kafkaJS: {
        idempotent: true,
        acks: -1,
        compression: compression === 'lz4' ? ck.KafkaJS.CompressionTypes.LZ4 : 'none',
        allowAutoTopicCreation: false,
      },
    });
    await producer.connect();
    sendChunk = (chunk) =>
      producer.send({
        topic,
        messages: chunk.map((r): CkMessage => ({
          key: r.key,
          value: r.value,
          partition: r.partition,
          headers: objHeaders(r),
        })),
      });
    disconnect = () => producer.disconnect();
  } else {
    throw new Error(`produce: unknown client ${client}`);
  }
  const connectMs = performance.now() - tc;

  const mon = new LoopMonitor();
  mon.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  let failed: unknown = null;
  for (let i = 0; i < M && failed === null; i += batch) {
    const p = sendChunk(recs.slice(i, Math.min(M, i + batch)));
    inFlight.add(p);
    p.then(
      () => inFlight.delete(p),
      (err: unknown) => {
        inFlight.delete(p);
        failed = err;
      },
    );
    if (inFlight.size >= inFlightMax) await Promise.race(inFlight).catch(() => undefined);
  }
  await Promise.allSettled(inFlight);
  if (failed !== null) throw failed;
  const sendMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const loop = mon.stop();
  await disconnect();
  emit({
    records: M,
    payloadBytes: payload,
    connectMs,
    sendMs,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    loop,
  });
}

if (flags.mode === 'read') await read();
else if (flags.mode === 'produce') await produce();
else throw new Error('--mode read|produce');
