/**
 * Feature check of one Kafka client for bench/kafka-clients.ts, every item a real round trip on the
 * broker; fixtures are written and results read back with neutral tools (kcat, plain kafkajs
 * admin, Kafka's own TopicCommand / DumpLogSegments). Prints one JSON line: feature -> result.
 *
 *   npx tsx bench/lib/client-features.ts --client kafkajs|platformatic|confluent --brokers B
 *     --kafka-libs DIR [--broker-dir DIR]
 *
 *  tx:          transactional producer: records + sendOffsets to a consumer group committed
 *               atomically (one committed transaction, then one aborted: neither its records nor
 *               its offsets may become visible)
 *  readCommitted / readUncommitted: the client's consumer reads the transactional topic
 *  headersConsume: a record written by kcat with headers b=1,a=2,b=3,10=x,2=y read back in order
 *  headersProduce: the client writes that header list; kcat reads it back (-f %h)
 *  nullEmpty*:  null key / null value / empty value / empty key kept apart, both directions
 *  zstd*:       client produces zstd (read back by kcat; codec of the stored batch checked with
 *               DumpLogSegments when --broker-dir is given) and consumes kcat's zstd
 *  topicId:     the topic id the client's metadata reports vs Kafka's TopicCommand
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { zstdCompress, zstdDecompress } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import type * as KafkaJS from 'kafkajs';
import { loadKafkajs, newKafka } from './kafka.js';
import { parseFlags, sleep } from './util.js';
import { loadConfluent, loadPlatformatic, type CkHeaders, type PlatMessage } from './clients.js';

const flags = parseFlags(process.argv.slice(2), {
  client: '',
  brokers: '',
  'kafka-libs': '',
  'broker-dir': '',
});
const client = String(flags.client);
const brokers = String(flags.brokers).split(',');
const B = brokers.join(',');
const tag = `${client}-${randomBytes(3).toString('hex')}`;
const kafkajs = loadKafkajs();
const neutral = newKafka(kafkajs, brokers, `features-neutral-${tag}`);
const admin = neutral.admin();
await admin.connect();

type Result = { ok: boolean | null; detail: string };
const results: Record<string, Result> = {};
const topics: string[] = [];

/** One consumed record, normalised: hex key/value or null; headers [key, hex value] in order. */
interface Norm {
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
}
const hex = (b: Buffer | null | undefined): string | null =>
  b === null || b === undefined ? null : b.toString('hex');
const H = (s: string) => Buffer.from(s).toString('hex');

async function topic(name: string): Promise<string> {
  const t = `feat-${name}-${tag}`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: t,
        numPartitions: 1,
        replicationFactor: 1,
        configEntries: [{ name: 'compression.type', value: 'producer' }],
      },
    ],
  });
  topics.push(t);
  return t;
}

function kcat(args: string[], input?: string): string {
  const r = spawnSync('kcat', ['-b', B, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kcat ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const kcatRead = (t: string, fmt: string, iso = 'read_committed') =>
  kcat(['-C', '-t', t, '-o', 'beginning', '-e', '-q', '-X', `isolation.level=${iso}`, '-f', fmt]);

async function check(name: string, fn: () => Promise<Result>): Promise<void> {
  try {
    results[name] = await fn();
  } catch (err) {
    results[name] = { ok: false, detail: `error: ${(err as Error).message.slice(0, 400)}` };
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what}: timed out`)), ms)),
  ]);

// ---- the client under test, behind one small interface -------------------------------------------

interface ProduceMsg {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Array<[string, Buffer]>;
}

interface Under {
  /** Read `count` records of a 1-partition topic from the beginning in a new group. */
  consume(t: string, count: number, opts?: { readUncommitted?: boolean }): Promise<Norm[]>;
  produce(t: string, msgs: ProduceMsg[], compression?: 'zstd'): Promise<void>;
  /** Commit txn 1 (records + offset 5 of `input` for `group`), abort txn 2 (offset 8). */
  transactions(input: string, output: string, group: string): Promise<string>;
  topicId(t: string): Promise<string | null>;
  close(): Promise<void>;
}

const objHeaders = (hs: Array<[string, Buffer]> | undefined): CkHeaders | undefined => {
  if (hs === undefined) return undefined;
  const o: CkHeaders = {};
  for (const [k, v] of hs) {
    const prev = o[k];
    if (prev === undefined) o[k] = v;
    else o[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return o;
};
const normObjHeaders = (h: CkHeaders | undefined): Array<[string, string | null]> => {
  const out: Array<[string, string | null]> = [];
  for (const [k, v] of Object.entries(h ?? {})) {
    for (const x of Array.isArray(v) ? v : [v]) {
      out.push([k, x === undefined ? null : Buffer.from(x).toString('hex')]);
    }
  }
  return out;
};
const txRecords = (n: number, from: number): Array<{ key: Buffer; value: Buffer }> =>
  Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`k${from + i}`),
    value: Buffer.from(`v${from + i}`),
  }));

function kafkajsUnder(): Under {
  const zstdEncode = promisify(zstdCompress);
  const zstdDecode = promisify(zstdDecompress);
  let zstdRegistered = false;
  const kafka = neutral;
  const producers: KafkaJS.Producer[] = [];
  return {
    async consume(t, count, opts = {}) {
      const c = kafka.consumer({
        groupId: `g-${t}-${randomBytes(3).toString('hex')}`,
        readUncommitted: opts.readUncommitted === true,
      });
      await c.connect();
      await c.subscribe({ topics: [t], fromBeginning: true });
      const got: Norm[] = [];
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      await c.run({
        eachMessage: async ({ message }) => {
          got.push({
            key: hex(message.key),
            value: hex(message.value),
            headers: normObjHeaders(message.headers as CkHeaders | undefined),
          });
          if (got.length >= count) done();
        },
      });
      await withTimeout(finished, 20_000, 'kafkajs consume').catch(() => undefined);
      await sleep(500);
      await c.disconnect();
      return got;
    },
    async produce(t, msgs, compression) {
      if (compression === 'zstd' && !zstdRegistered) {
        // kafkajs ships no zstd codec; first try without one (the answer is recorded by the
        // caller), so this registers one only when asked to after that.
        throw new Error('kafkajs has no built-in zstd codec');
      }
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await p.connect();
      producers.push(p);
      await p.send({
        topic: t,
        acks: -1,
        compression:
          compression === 'zstd' ? kafkajs.CompressionTypes.ZSTD : kafkajs.CompressionTypes.None,
        messages: msgs.map((m) => ({
          key: m.key,
          value: m.value,
          ...(m.headers ? { headers: objHeaders(m.headers) as KafkaJS.IHeaders } : {}),
        })),
      });
    },
    async transactions(input, output, group) {
      const p = kafka.producer({
        transactionalId: `tx-${tag}`,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await p.connect();
      producers.push(p);
      const t1 = await p.transaction();
      await t1.send({ topic: output, messages: txRecords(5, 0) });
      await t1.sendOffsets({
        consumerGroupId: group,
        topics: [{ topic: input, partitions: [{ partition: 0, offset: '5' }] }],
      });
      await t1.commit();
      const t2 = await p.transaction();
      await t2.send({ topic: output, messages: txRecords(3, 5) });
      await t2.sendOffsets({
        consumerGroupId: group,
        topics: [{ topic: input, partitions: [{ partition: 0, offset: '8' }] }],
      });
      await t2.abort();
      return 'transaction().sendOffsets({ consumerGroupId }): a group id is enough, no consumer needed';
    },
    async topicId(t) {
      const meta = await admin.fetchTopicMetadata({ topics: [t] });
      const m = meta.topics[0] as unknown as Record<string, unknown> | undefined;
      const id = m?.topicId;
      return typeof id === 'string' ? id : null;
    },
    async close() {
      for (const p of producers) await p.disconnect().catch(() => undefined);
    },
    // (the zstd codec is registered by enableZstd below)
    ...{
      enableZstd() {
        const codecs = kafkajs.CompressionCodecs as unknown as Record<
          number,
          () => {
            compress(e: { buffer: Buffer }): Promise<Buffer>;
            decompress(b: Buffer): Promise<Buffer>;
          }
        >;
        codecs[kafkajs.CompressionTypes.ZSTD] = () => ({
          compress: (e) => zstdEncode(e.buffer),
          decompress: (b) => zstdDecode(b),
        });
        zstdRegistered = true;
      },
    },
  } as Under & { enableZstd(): void };
}

async function platformaticUnder(): Promise<Under> {
  const plat = await loadPlatformatic();
  const closers: Array<() => Promise<void>> = [];
  const base = { clientId: `features-${tag}`, bootstrapBrokers: brokers };
  const consumeStream = async (
    t: string,
    count: number,
    group: string,
    readUncommitted: boolean,
  ) => {
    const consumer = new plat.Consumer({
      ...base,
      groupId: group,
      autocommit: false,
      isolationLevel: readUncommitted
        ? plat.FetchIsolationLevels.READ_UNCOMMITTED
        : plat.FetchIsolationLevels.READ_COMMITTED,
    });
    const stream = await consumer.consume({
      topics: [t],
      mode: plat.MessagesStreamModes.EARLIEST,
      autocommit: false,
    });
    const msgs: PlatMessage[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    stream.on('data', (m) => {
      msgs.push(m);
      if (msgs.length >= count) done();
    });
    await withTimeout(finished, 20_000, 'platformatic consume').catch(() => undefined);
    await sleep(500);
    return {
      consumer,
      msgs,
      close: async () => {
        await stream.close();
        await consumer.close(true);
      },
    };
  };
  return {
    async consume(t, count, opts = {}) {
      const { msgs, close } = await consumeStream(
        t,
        count,
        `g-${t}-${randomBytes(3).toString('hex')}`,
        opts.readUncommitted === true,
      );
      await close();
      return msgs.map((m) => ({
        key: hex(m.key),
        value: hex(m.value),
        headers: [...m.headers].map(([k, v]): [string, string | null] => [k.toString(), hex(v)]),
      }));
    },
    async produce(t, msgs, compression) {
      const p = new plat.Producer({
        ...base,
        idempotent: true,
        acks: plat.ProduceAcks.ALL,
        compression: compression ?? 'none',
        autocreateTopics: false,
      });
      closers.push(() => p.close());
      await p.send({
        messages: msgs.map((m) => ({
          topic: t,
          partition: 0,
          key: m.key,
          value: m.value,
          // Buffer keys: every header is its own Map entry, duplicates included, in order.
          ...(m.headers
            ? { headers: new Map(m.headers.map(([k, v]) => [Buffer.from(k), v])) }
            : {}),
        })),
      });
    },
    async transactions(input, output, group) {
      // The documented path: a consumer of the group reads the input, its messages are added.
      const { consumer, msgs, close } = await consumeStream(input, 10, group, false);
      closers.push(close);
      if (msgs.length < 8) throw new Error(`consumed ${msgs.length} input records, expected 10`);
      const p = new plat.Producer({
        ...base,
        idempotent: true,
        transactionalId: `tx-${tag}`,
        acks: plat.ProduceAcks.ALL,
        autocreateTopics: false,
      });
      closers.push(() => p.close());
      const toPlat = (ms: ProduceMsg[]) =>
        ms.map((m) => ({ topic: output, partition: 0, key: m.key, value: m.value }));
      const t1 = await p.beginTransaction();
      await t1.send({ messages: toPlat(txRecords(5, 0)) });
      await t1.addConsumer(consumer);
      await t1.addOffset(msgs[4] as PlatMessage); // commits offset 4 + 1 = 5
      await t1.commit();
      const t2 = await p.beginTransaction();
      await t2.send({ messages: toPlat(txRecords(3, 5)) });
      await t2.addConsumer(consumer);
      await t2.addOffset(msgs[7] as PlatMessage); // 8
      await t2.abort();
      return "beginTransaction(); addConsumer(consumer); addOffset(consumedMessage): commits message.offset + 1 with the consuming member's generation (needs a consumed Message, or a hand-built one)";
    },
    async topicId(t) {
      const a = new plat.Admin(base);
      try {
        const meta = await a.metadata({ topics: [t] });
        return meta.topics.get(t)?.id ?? null;
      } finally {
        await a.close();
      }
    },
    async close() {
      for (const c of closers.reverse()) await c().catch(() => undefined);
    },
  };
}

function confluentUnder(): Under {
  const ck = loadConfluent();
  const kafka = new ck.KafkaJS.Kafka({ kafkaJS: { brokers, logLevel: ck.KafkaJS.logLevel.ERROR } });
  const closers: Array<() => Promise<void>> = [];
  return {
    async consume(t, count, opts = {}) {
      const c = kafka.consumer({
        kafkaJS: {
          groupId: `g-${t}-${randomBytes(3).toString('hex')}`,
          fromBeginning: true,
          autoCommit: false,
        },
        'isolation.level': opts.readUncommitted === true ? 'read_uncommitted' : 'read_committed',
      });
      await c.connect();
      await c.subscribe({ topics: [t] });
      const got: Norm[] = [];
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      void c.run({
        eachMessage: async ({ message }) => {
          got.push({
            key: hex(message.key),
            value: hex(message.value),
            headers: normObjHeaders(message.headers),
          });
          if (got.length >= count) done();
        },
      });
      await withTimeout(finished, 30_000, 'confluent consume').catch(() => undefined);
      await sleep(500);
      await c.disconnect();
      return got;
    },
    async produce(t, msgs, compression) {
      const p = kafka.producer({
        kafkaJS: {
          idempotent: true,
          acks: -1,
          compression: compression === 'zstd' ? ck.KafkaJS.CompressionTypes.ZSTD : 'none',
        },
      });
      await p.connect();
      closers.push(() => p.disconnect());
      const hs = (m: ProduceMsg) => objHeaders(m.headers);
      await p.send({
        topic: t,
        messages: msgs.map((m) => {
          const h = hs(m);
          return { key: m.key, value: m.value, partition: 0, ...(h ? { headers: h } : {}) };
        }),
      });
    },
    async transactions(input, output, group) {
      const c = kafka.consumer({
        kafkaJS: { groupId: group, fromBeginning: true, autoCommit: false },
      });
      await c.connect();
      closers.push(() => c.disconnect());
      await c.subscribe({ topics: [input] });
      let seen = 0;
      let ready!: () => void;
      const got = new Promise<void>((r) => (ready = r));
      void c.run({
        eachMessage: async () => {
          if (++seen >= 10) ready();
        },
      });
      await withTimeout(got, 30_000, 'confluent tx input');
      const p = kafka.producer({
        kafkaJS: { transactionalId: `tx-${tag}`, idempotent: true, acks: -1 },
      });
      await p.connect();
      closers.push(() => p.disconnect());
      const t1 = await p.transaction();
      await t1.send({ topic: output, messages: txRecords(5, 0) });
      await t1.sendOffsets({
        consumer: c,
        topics: [{ topic: input, partitions: [{ partition: 0, offset: '5' }] }],
      });
      await t1.commit();
      const t2 = await p.transaction();
      await t2.send({ topic: output, messages: txRecords(3, 5) });
      await t2.sendOffsets({
        consumer: c,
        topics: [{ topic: input, partitions: [{ partition: 0, offset: '8' }] }],
      });
      await t2.abort();
      return 'transaction().sendOffsets({ consumer, topics }): needs a connected consumer of the group (a consumerGroupId alone is rejected)';
    },
    async topicId(t) {
      const a = kafka.admin();
      await a.connect();
      try {
        const meta = await a.fetchTopicMetadata({ topics: [t] });
        const id = meta[0]?.topicId;
        return id === undefined || id === null ? null : (id.base64 ?? id.base64str ?? null);
      } finally {
        await a.disconnect();
      }
    },
    async close() {
      for (const c of closers.reverse()) await c().catch(() => undefined);
    },
  };
}

// ---- checks ----------------------------------------------------------------------------------------

const under: Under =
  client === 'kafkajs'
    ? kafkajsUnder()
    : client === 'platformatic'
      ? await platformaticUnder()
      : client === 'confluent'
        ? confluentUnder()
        : (() => {
            throw new Error(`unknown client ${client}`);
          })();

const HEADERS: Array<[string, string]> = [
  ['b', '1'],
  ['a', '2'],
  ['b', '3'],
  ['10', 'x'],
  ['2', 'y'],
];
const headerText = HEADERS.map(([k, v]) => `${k}=${v}`).join(',');

try {
  await check('headersConsume', async () => {
    const t = await topic('hdr-in');
    kcat(['-P', '-t', t, ...HEADERS.flatMap(([k, v]) => ['-H', `${k}=${v}`])], 'v\n');
    const [m] = await under.consume(t, 1);
    const got = (m?.headers ?? [])
      .map(([k, v]) => `${k}=${v === null ? 'null' : Buffer.from(v, 'hex').toString()}`)
      .join(',');
    return { ok: got === headerText, detail: `written ${headerText}; read ${got}` };
  });

  if (client === 'confluent') {
    // The package's lower-level node-rdkafka API keeps librdkafka's header list as is.
    await check('headersConsumeRdkafkaApi', async () => {
      const t = await topic('hdr-in-rd');
      kcat(['-P', '-t', t, ...HEADERS.flatMap(([k, v]) => ['-H', `${k}=${v}`])], 'v\n');
      const ck = loadConfluent();
      const c = new ck.KafkaConsumer({
        'metadata.broker.list': B,
        'group.id': `g-${t}`,
        'enable.auto.commit': false,
      });
      await new Promise<void>((res, rej) => c.connect({}, (e) => (e ? rej(e) : res())));
      c.assign([{ topic: t, partition: 0, offset: 0 }]);
      let got = '';
      for (let i = 0; i < 50 && got === ''; i++) {
        const msgs = await new Promise<Parameters<Parameters<typeof c.consume>[1]>[1]>((res, rej) =>
          c.consume(10, (e, m) => (e ? rej(e) : res(m))),
        );
        const m = msgs[0];
        if (m !== undefined) {
          got = (m.headers ?? [])
            .flatMap((h) => Object.entries(h).map(([k, v]) => `${k}=${v.toString()}`))
            .join(',');
        }
      }
      await new Promise<void>((res) => c.disconnect(() => res()));
      return {
        ok: got === headerText,
        detail: `KafkaConsumer.consume(): written ${headerText}; read ${got}`,
      };
    });
  }

  await check('headersProduce', async () => {
    const t = await topic('hdr-out');
    await under.produce(t, [
      { key: null, value: Buffer.from('v'), headers: HEADERS.map(([k, v]) => [k, Buffer.from(v)]) },
    ]);
    const got = kcatRead(t, '%h\n').trim();
    return { ok: got === headerText, detail: `asked ${headerText}; kcat read ${got}` };
  });

  const NULLS = '-1 2|1 -1|1 0|0 2';
  await check('nullEmptyConsume', async () => {
    const t = await topic('null-in');
    const p = neutral.producer();
    await p.connect();
    await p.send({
      topic: t,
      messages: [
        { key: null, value: Buffer.from('v1') },
        { key: Buffer.from('k'), value: null },
        { key: Buffer.from('k'), value: Buffer.alloc(0) },
        { key: Buffer.alloc(0), value: Buffer.from('v4') },
      ],
    });
    await p.disconnect();
    const truth = kcatRead(t, '%K %S\n').trim().split('\n').join('|');
    const got = (await under.consume(t, 4))
      .map(
        (m) =>
          `${m.key === null ? -1 : m.key.length / 2} ${m.value === null ? -1 : m.value.length / 2}`,
      )
      .join('|');
    return {
      ok: got === NULLS && truth === NULLS,
      detail: `key/value lengths (-1 = null): kcat ${truth}; client ${got}`,
    };
  });

  await check('nullEmptyProduce', async () => {
    const t = await topic('null-out');
    await under.produce(t, [
      { key: null, value: Buffer.from('v1') },
      { key: Buffer.from('k'), value: null },
      { key: Buffer.from('k'), value: Buffer.alloc(0) },
      { key: Buffer.alloc(0), value: Buffer.from('v4') },
    ]);
    const got = kcatRead(t, '%K %S\n').trim().split('\n').join('|');
    return { ok: got === NULLS, detail: `asked ${NULLS}; kcat read ${got}` };
  });

  await check('zstdProduce', async () => {
    const t = await topic('zstd-out');
    const msgs = Array.from({ length: 10 }, (_, i) => ({
      key: null,
      value: Buffer.from(`zstd-${i}-${'x'.repeat(200)}`),
    }));
    let note = '';
    try {
      await under.produce(t, msgs, 'zstd');
    } catch (err) {
      const u = under as Under & { enableZstd?: () => void };
      if (u.enableZstd === undefined) throw err;
      note = `built in: no (${(err as Error).message}); with a node:zlib zstd codec registered (as src/kafka does): `;
      u.enableZstd();
      await under.produce(t, msgs, 'zstd');
    }
    const back = kcatRead(t, '%s\n').trim().split('\n');
    const same = back.length === 10 && back.every((v, i) => v === msgs[i]?.value.toString());
    let codec = 'codec not checked (no --broker-dir)';
    if (flags['broker-dir'] !== '') {
      const dir = join(String(flags['broker-dir']), 'data', `${t}-0`);
      const log = readdirSync(dir).find((f) => f.endsWith('.log'));
      const out = execFileSync(
        'java',
        [
          '-cp',
          `${String(flags['kafka-libs'])}/*`,
          'kafka.tools.DumpLogSegments',
          '--files',
          join(dir, log as string),
        ],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      ).toString();
      codec = `stored batch: ${/compresscodec: (\w+)/.exec(out)?.[1] ?? '?'}`;
    }
    return {
      ok: same && (!codec.startsWith('stored batch') || codec.endsWith('zstd')),
      detail: `${note}kcat read ${back.length}/10 equal=${same}; ${codec}`,
    };
  });

  await check('zstdConsume', async () => {
    const t = await topic('zstd-in');
    const lines = Array.from({ length: 10 }, (_, i) => `z${i}-${'y'.repeat(200)}`);
    kcat(['-P', '-t', t, '-z', 'zstd'], `${lines.join('\n')}\n`);
    const got = await under.consume(t, 10);
    const same = got.length === 10 && got.every((m, i) => m.value === H(lines[i] as string));
    return { ok: same, detail: `kcat -z zstd wrote 10; client read ${got.length}, equal=${same}` };
  });

  let txOut = '';
  await check('tx', async () => {
    const input = await topic('tx-in');
    txOut = await topic('tx-out');
    kcat(['-P', '-t', input], `${Array.from({ length: 10 }, (_, i) => `in${i}`).join('\n')}\n`);
    const group = `feat-tx-group-${tag}`;
    const how = await withTimeout(under.transactions(input, txOut, group), 90_000, 'transactions');
    const committed = await admin.fetchOffsets({ groupId: group, topics: [input] });
    const off = committed[0]?.partitions[0]?.offset;
    const rc = kcatRead(txOut, '%s\n').trim().split('\n').filter(Boolean);
    const ru = kcatRead(txOut, '%s\n', 'read_uncommitted').trim().split('\n').filter(Boolean);
    const ok = off === '5' && rc.join(',') === 'v0,v1,v2,v3,v4' && ru.length === 8;
    return {
      ok,
      detail: `${how}. After commit(5) + abort(8): group offset ${off}; kcat read_committed ${rc.length} records, read_uncommitted ${ru.length} (expected 5, 5, 8)`,
    };
  });

  await check('readCommitted', async () => {
    if (txOut === '') throw new Error('no transactional topic');
    const got = await under.consume(txOut, 5);
    await sleep(1000);
    const vals = got.map((m) => Buffer.from(m.value ?? '', 'hex').toString()).join(',');
    return { ok: vals === 'v0,v1,v2,v3,v4', detail: `read_committed read: ${vals}` };
  });

  await check('readUncommitted', async () => {
    if (txOut === '') throw new Error('no transactional topic');
    const got = await under.consume(txOut, 8, { readUncommitted: true });
    return {
      ok: got.length === 8,
      detail: `read_uncommitted read ${got.length} records (expected 8)`,
    };
  });

  await check('topicId', async () => {
    const t = topics[0] as string;
    const out = execFileSync(
      'java',
      [
        '-cp',
        `${String(flags['kafka-libs'])}/*`,
        'org.apache.kafka.tools.TopicCommand',
        '--bootstrap-server',
        B,
        '--describe',
        '--topic',
        t,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    ).toString();
    const truth = /TopicId:\s*(\S+)/.exec(out)?.[1] ?? '?';
    const truthHex = Buffer.from(truth, 'base64url').toString('hex');
    const id = await under.topicId(t);
    if (id === null)
      return { ok: false, detail: `not exposed by the client's metadata (Kafka: ${truth})` };
    const idHex = /^[0-9a-f-]{36}$/i.test(id)
      ? id.replace(/-/g, '').toLowerCase()
      : Buffer.from(id, 'base64url').toString('hex');
    return { ok: idHex === truthHex, detail: `client ${id}; Kafka TopicCommand ${truth}` };
  });
} finally {
  await under.close().catch(() => undefined);
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
