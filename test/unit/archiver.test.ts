/**
 * The archiver engine on an in-memory Kafka (test/fakes/kafka.ts) with the real segment writer
 * on a temp directory: rotation, resume, revocation, back-pressure, seal failure and retry,
 * and the catalog-before-commit order. No broker; the integration suite covers the real one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Archiver,
  archivedHighWatermark,
  createLogger,
  LocalSegmentIndex,
  loadConfig,
  readSegmentOffsets,
  localFileBuffer,
  openSegment,
  SegmentWriter,
  type ArchiverConfig,
  type SealedSegmentEvent,
} from '../../src/index.js';
import { ArchiveError, ErrorCodes } from '../../src/errors.js';
import { FakeKafka, type FakeConsumer } from '../fakes/kafka.js';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { archivedFromHot, waitFor } from '../helpers/archive.js';

const log = createLogger({ level: 'silent' });

/** A logger that keeps its lines as objects. */
function captureLog(lines: Array<Record<string, unknown>>) {
  return pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );
}
let dir: string;
let writer: SegmentWriter;
const archivers: Archiver[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ka-archiver-unit-'));
  writer = new SegmentWriter();
});

afterEach(async () => {
  for (const a of archivers.splice(0)) await a.stop(5_000);
  await writer.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(over: Partial<ArchiverConfig> = {}, hotDir = join(dir, 'hot')): ArchiverConfig {
  const base = loadConfig({ env: {} }).archiver;
  return {
    ...base,
    hotDir,
    groupId: 'g',
    topics: ['t'],
    flushIntervalMs: 60_000,
    metadataRefreshMs: 60_000,
    sealRetryInitialMs: 20,
    sealRetryMaxMs: 50,
    ...over,
    rotation: { ...base.rotation, maxRecords: 100, ...over.rotation },
  };
}

interface Started {
  archiver: Archiver;
  sealed: SealedSegmentEvent[];
  consumer: () => FakeConsumer;
}

async function startArchiver(
  kafka: FakeKafka,
  cfg: ArchiverConfig,
  extra: Partial<ConstructorParameters<typeof Archiver>[0]> = {},
): Promise<Started> {
  let consumer: FakeConsumer | null = null;
  const client = Object.assign(Object.create(kafka) as FakeKafka, {
    consumer: (o: { groupId: string }) => (consumer = kafka.consumer(o) as FakeConsumer),
  });
  const archiver = new Archiver({
    kafka: client,
    config: cfg,
    writer,
    index: archivedHighWatermark(new LocalSegmentIndex(cfg.hotDir), null),
    log,
    ...extra,
  });
  const sealed: SealedSegmentEvent[] = [];
  archiver.onSealed((e) => sealed.push(e));
  archivers.push(archiver);
  await archiver.start();
  return {
    archiver,
    sealed,
    consumer: () => {
      if (consumer === null) throw new Error('no consumer yet');
      return consumer;
    },
  };
}

/** Every archived offset of a partition, read back from the segment files. */
async function archivedOffsets(
  hotDir: string,
  topic: string,
  partition: number,
): Promise<bigint[]> {
  const out: bigint[] = [];
  for (const s of await new LocalSegmentIndex(hotDir).segments(topic, partition)) {
    out.push(...(await readSegmentOffsets(await openSegment(await localFileBuffer(s.path)))));
  }
  return out;
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => BigInt(from + i));

describe('Archiver (in-memory Kafka)', () => {
  it('rotates segments by record count and commits after each seal', async () => {
    const kafka = new FakeKafka();
    kafka.createTopic('t', 1);
    kafka.produce(
      't',
      0,
      Array.from({ length: 350 }, () => ({})),
    );
    const { archiver, sealed } = await startArchiver(kafka, config());
    await waitFor('three full segments', () => sealed.length >= 3, 10_000, 10);
    expect(sealed.slice(0, 3).map((e) => [e.firstOffset, e.lastOffset])).toEqual([
      [0n, 99n],
      [100n, 199n],
      [200n, 299n],
    ]);
    await waitFor(
      'commit of the third',
      () => kafka.committed('g', { topic: 't', partition: 0 }) === 300n,
      5_000,
      10,
    );
    await archiver.stop();
    // The graceful stop seals the open 50 and commits them.
    expect(sealed.map((e) => e.records)).toEqual([100, 100, 100, 50]);
    expect(kafka.committed('g', { topic: 't', partition: 0 })).toBe(350n);
    expect(await archivedOffsets(config().hotDir, 't', 0)).toEqual(range(0, 350));
  });

  it('works through a large batch in slices: timers fire while it is, each record archived once', async () => {
    const kafka = new FakeKafka();
    kafka.createTopic('t', 1);
    const n = 100_000;
    kafka.batchSize = n; // one batch
    kafka.produce(
      't',
      0,
      Array.from({ length: n }, (_, i) => ({ value: Buffer.alloc(64, i & 0xff) })),
    );
    // An interval timer fires at most once per event-loop turn: count its ticks inside onBatch.
    let inBatch = false;
    let ticksInBatch = 0;
    const timer = setInterval(() => {
      if (inBatch) ticksInBatch++;
    }, 1);
    const client = Object.assign(Object.create(kafka) as FakeKafka, {
      consumer: (o: { groupId: string }) => {
        const c = kafka.consumer(o) as FakeConsumer;
        const start = c.start.bind(c);
        c.start = (topics, handlers) =>
          start(topics, {
            ...handlers,
            onBatch: async (b, control) => {
              inBatch = true;
              try {
                await handlers.onBatch(b, control);
              } finally {
                inBatch = false;
              }
            },
          });
        return c;
      },
    });
    try {
      const cfg = config({
        rotation: { maxRecords: 40_000, maxBytes: 2 ** 30, maxAgeMs: 3_600_000 },
      });
      const { archiver, sealed } = await startArchiver(client, cfg);
      await waitFor('two full segments', () => sealed.length >= 2, 20_000, 10);
      await archiver.stop();
      expect(ticksInBatch).toBeGreaterThanOrEqual(2);
      expect(sealed.map((e) => e.records)).toEqual([40_000, 40_000, 20_000]);
      expect(await archivedOffsets(cfg.hotDir, 't', 0)).toEqual(range(0, n));
    } finally {
      clearInterval(timer);
    }
  });

  it('resumes at max(committed, archived high-water mark + 1)', async () => {
    const kafka = new FakeKafka();
    kafka.createTopic('t', 1);
    kafka.produce(
      't',
      0,
      Array.from({ length: 300 }, () => ({})),
    );
    const cfg = config();
    // A previous run archived 0..199 but crashed before committing past 100.
    const first = await startArchiver(kafka, cfg);
    await waitFor('two segments', () => first.sealed.length >= 2, 10_000, 10);
    await first.archiver.stop();
    kafka.commit('g', [{ topic: 't', partition: 0, offset: 100n }]);
    const before = first.sealed.reduce((n, e) => n + e.records, 0);
    expect(before).toBe(300);
    kafka.produce(
      't',
      0,
      Array.from({ length: 100 }, () => ({})),
    );
    const second = await startArchiver(kafka, cfg);
    await waitFor(
      'the new records',
      () => second.sealed.reduce((n, e) => n + e.records, 0) >= 100,
      10_000,
      10,
    );
    await second.archiver.stop();
    expect(second.sealed[0]?.firstOffset).toBe(300n);
    expect(await archivedOffsets(cfg.hotDir, 't', 0)).toEqual(range(0, 400));
  });

  it('a revoked partition is sealed without committing; the next owner archives each record once', async () => {
    const kafka = new FakeKafka();
    kafka.createTopic('t', 2);
    for (const p of [0, 1])
      kafka.produce(
        't',
        p,
        Array.from({ length: 150 }, () => ({})),
      );
    // Members share one hot directory, as two instances with one volume would.
    const cfg = config();
    const a = await startArchiver(kafka, cfg);
    await waitFor('a archived one segment per partition', () => a.sealed.length >= 2, 10_000, 10);
    const b = await startArchiver(kafka, cfg);
    for (const p of [0, 1])
      kafka.produce(
        't',
        p,
        Array.from({ length: 150 }, () => ({})),
      );
    await waitFor(
      'every record archived',
      async () =>
        (await archivedOffsets(cfg.hotDir, 't', 0)).length >= 300 &&
        (await archivedOffsets(cfg.hotDir, 't', 1)).length >= 300,
      20_000,
      20,
    ).catch(async () => {
      await a.archiver.stop();
      await b.archiver.stop();
    });
    await a.archiver.stop();
    await b.archiver.stop();
    for (const p of [0, 1]) {
      // No loss: every offset is in some segment. Both members may have sealed the revoked
      // span (the old owner's retiring seal races the new owner's first one); readers merge
      // such overlaps by offset, so each record is visible once.
      expect(new Set(await archivedOffsets(cfg.hotDir, 't', p))).toEqual(new Set(range(0, 300)));
    }
    const visible = await archivedFromHot(cfg.hotDir, 't');
    expect(visible.map((r) => [r.partition, r.records])).toEqual([
      [0, 300],
      [1, 300],
    ]);
  });

  it('a failing seal pauses the partition, retries with back-off, and commits only after it lands', async () => {
    const kafka = new FakeKafka();
    kafka.createTopic('t', 1);
    kafka.produce(
      't',
      0,
      Array.from({ length: 100 }, () => ({})),
    );
    let failures = 2;
    const flaky: Pick<SegmentWriter, 'write'> = {
      write: (...args) => {
        if (failures-- > 0) {
          return Promise.reject(
            Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }),
          );
        }
        return writer.write(...args);
      },
    };
    const { archiver, sealed, consumer } = await startArchiver(kafka, config(), { writer: flaky });
    await waitFor('the seal to land', () => sealed.length === 1, 10_000, 10);
    expect(archiver.getStats().sealFailures).toBe(2);
    expect(consumer().pauseCalls).toContainEqual({ topic: 't', partition: 0 });
    await waitFor(
      'commit',
      () => kafka.committed('g', { topic: 't', partition: 0 }) === 100n,
      5_000,
      10,
    );
    expect(consumer().isPaused({ topic: 't', partition: 0 })).toBe(false);
    expect(await archivedOffsets(config().hotDir, 't', 0)).toEqual(range(0, 100));
  });

  it('commits a segment only after the catalog recorded it, and not at all when that failed', async () => {
    const kafka = new FakeKafka();
    kafka.createTopic('t', 1);
    kafka.produce(
      't',
      0,
      Array.from({ length: 200 }, () => ({})),
    );
    const order: string[] = [];
    let calls = 0;
    const { sealed } = await startArchiver(kafka, config(), {
      recordSealed: async (e) => {
        order.push(`record ${e.lastOffset}`);
        expect(kafka.committed('g', { topic: 't', partition: 0 }) ?? -1n).toBeLessThan(
          e.lastOffset + 1n,
        );
        if (calls++ === 0) throw new Error('catalog disk unavailable');
      },
    });
    await waitFor('two seals', () => sealed.length === 1 && calls >= 2, 10_000, 10);
    await waitFor(
      'commit of the second',
      () => kafka.committed('g', { topic: 't', partition: 0 }) === 200n,
      5_000,
      10,
    );
    expect(order).toEqual(['record 99', 'record 199']);
    // The first segment's record failed: its onSealed listeners never ran and nothing was
    // committed for it; the second commit covers both.
    expect(sealed.map((e) => e.lastOffset)).toEqual([199n]);
  });

  it('holds no more than the buffer budget while seals are slow (back-pressure)', async () => {
    const kafka = new FakeKafka();
    kafka.createTopic('t', 4);
    const value = Buffer.alloc(1024, 1);
    for (let p = 0; p < 4; p++)
      kafka.produce(
        't',
        p,
        Array.from({ length: 400 }, () => ({ value })),
      );
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    let maxBuffered = 0;
    const slow: Pick<SegmentWriter, 'write'> = {
      write: async (...args) => {
        await gate;
        return writer.write(...args);
      },
    };
    const budget = 256 * 1024;
    const { archiver, sealed, consumer } = await startArchiver(
      kafka,
      config({
        maxBufferedBytes: budget,
        rotation: { maxRecords: 1_000_000, maxBytes: 128 * 2 ** 20, maxAgeMs: 3_600_000 },
      }),
      { writer: slow },
    );
    const sampler = setInterval(() => {
      maxBuffered = Math.max(maxBuffered, archiver.getStats().bufferedBytes);
    }, 2);
    try {
      await waitFor(
        'buffers at the budget',
        () => archiver.getStats().bufferedBytes > budget / 2,
        10_000,
        5,
      );
      // While seals are blocked, consumption stalls instead of growing memory without bound.
      const held = archiver.getStats().bufferedBytes;
      await new Promise((r) => setImmediate(r));
      release();
      gate = Promise.resolve();
      await waitFor('everything fetched', () => consumer().lag() === 0, 20_000, 10);
      await archiver.stop(); // seals what is still open
      expect(sealed.reduce((n, e) => n + e.records, 0)).toBe(1600);
      // One fetched batch (50 records of 1 KiB) may land on top of the budget.
      expect(held).toBeLessThanOrEqual(budget + 60 * 1024);
      expect(maxBuffered).toBeLessThanOrEqual(budget + 60 * 1024);
    } finally {
      clearInterval(sampler);
    }
  });

  it('Kafka unusable at start: start() returns, not subscribed, retries with back-off, then archives', async () => {
    const kafka = new FakeKafka();
    kafka.createTopic('t', 1);
    kafka.produce(
      't',
      0,
      Array.from({ length: 120 }, () => ({})),
    );
    let failures = 3;
    const client = Object.assign(Object.create(kafka) as FakeKafka, {
      admin: () =>
        failures-- > 0
          ? Promise.reject(
              new ArchiveError(
                ErrorCodes.KAFKA_AUTHENTICATION_FAILED,
                'Kafka refused the SASL credentials',
              ),
            )
          : kafka.admin(),
    });
    const lines: Array<Record<string, unknown>> = [];
    const { archiver, sealed } = await startArchiver(client, config(), {
      log: captureLog(lines),
    });
    const problem = archiver.getStats().kafkaProblem;
    expect(problem).toBe(
      '[KAFKA_AUTHENTICATION_FAILED] Kafka refused the SASL credentials (1 failed attempts; retrying)',
    );
    await waitFor(
      'the fourth attempt subscribes',
      () => archiver.getStats().topics.length === 1,
      20_000,
      20,
    );
    expect(archiver.getStats().kafkaProblem).toBeUndefined();
    await waitFor('a full segment', () => sealed.length >= 1, 10_000, 10);
    // The same problem three times in a row is one warning, and the recovery one info line.
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings.map((l) => [l.code, l.attempts])).toEqual([['KAFKA_AUTHENTICATION_FAILED', 1]]);
    expect(lines.some((l) => l.msg === 'Kafka reachable again' && l.attempts === 4)).toBe(true);
  });

  it('a stop while Kafka is still being retried ends start() and the retries', async () => {
    const kafka = new FakeKafka();
    let attempts = 0;
    const client = Object.assign(Object.create(kafka) as FakeKafka, {
      admin: () => {
        attempts++;
        return Promise.reject(new ArchiveError(ErrorCodes.KAFKA_UNAVAILABLE, 'down'));
      },
    });
    // Timers under the test's control: after the stop, jump past any back-off at once.
    vi.useFakeTimers({
      shouldAdvanceTime: true,
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'],
    });
    try {
      const { archiver } = await startArchiver(client, config());
      expect(attempts).toBe(1);
      await archiver.stop();
      await vi.advanceTimersByTimeAsync(120_000);
      expect(attempts).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
