// Catalog and query against a real broker: archive with the service (which keeps the catalog),
// then offsets / lookup / read (library and CLI) agree with what was produced; deleting the
// catalog and rebuilding it from the segments gives identical answers; a corrupt segment is
// quarantined and reported.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  archivedOffsets,
  Catalog,
  createArchiverService,
  createKafkajsClient,
  createLogger,
  hotSource,
  loadConfig,
  lookupTime,
  openCatalogForRead,
  readRecords,
  type ProduceRecord,
} from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';
import { cliBuilt } from '../helpers/cli.js';

const kafkaInfo = inject('kafka');
const log = createLogger({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'ka-catalog-it-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T0 = 1_790_000_000_000n;
const topic = `catalog-${Math.random().toString(36).slice(2, 8)}`;
const env = {
  KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
  KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(root, 'hot'),
  KAFKA_ARCHIVE_CATALOG__DIR: join(root, 'catalog'),
  KAFKA_ARCHIVE_STORAGE__LOCAL__DIR: join(root, 'cold'),
  KAFKA_ARCHIVE_DISK__MONITOR__ENABLED: 'false',
  KAFKA_ARCHIVE_TIERING__ENABLED: 'false', // this file tests the hot tier; tiering.test.ts the cold
  KAFKA_ARCHIVE_ARCHIVER__GROUP_ID: `g-${topic}`,
  KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
  KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '500',
  KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS: '37',
};

const cli = (args: string[]) => cliBuilt(args, { ...env, KAFKA_ARCHIVE_LOG__LEVEL: 'warn' });

describe(`catalog and query on Kafka ${kafkaInfo.version}`, () => {
  // Per partition, records in offset order as produced: 3 partitions x 100 records, timestamps
  // 1 s apart, with one record per partition whose clock is an hour behind.
  const produced = new Map<number, ProduceRecord[]>();

  it('archives with the service, then offsets, lookup and read agree with what was produced', async () => {
    const client = createKafkajsClient(
      { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
      log,
    );
    const admin = await client.admin();
    await admin.createTopics([{ name: topic, partitions: 3 }]);
    const producer = await client.producer();
    for (let p = 0; p < 3; p++) {
      const records: ProduceRecord[] = Array.from({ length: 100 }, (_, i) => ({
        partition: p,
        key: i % 10 === 0 ? null : Buffer.from(`k${p}-${i}`),
        value: i % 17 === 0 ? Buffer.from([0xff, 0xfe, i]) : Buffer.from(`value ${p}/${i}`),
        headers: [{ key: 'n', value: Buffer.from(String(i)) }],
        timestamp: i === 50 ? T0 - 3_600_000n : T0 + BigInt(i) * 1000n,
      }));
      await producer.send(topic, records);
      produced.set(p, records);
    }
    await producer.disconnect();
    await admin.disconnect();

    const config = loadConfig({ env });
    const service = await createArchiverService(config, log);
    await service.start();
    try {
      await waitFor(
        'all 300 records in the catalog',
        async () => {
          const c = await openCatalogForRead(config.catalog.dir, config.archiver.hotDir, log);
          return [...c.entries()].reduce((n, e) => n + e.recordCount, 0) === 300;
        },
        60_000,
      );
    } finally {
      await service.close();
    }

    const catalog = await Catalog.open(config.catalog.dir, { writable: false });
    const source = hotSource(config.archiver.hotDir);
    const offsets = await archivedOffsets(catalog, source, topic);
    expect(offsets.map((o) => [o.partition, o.records, o.firstOffset, o.lastOffset])).toEqual([
      [0, 100, 0n, 99n],
      [1, 100, 0n, 99n],
      [2, 100, 0n, 99n],
    ]);
    for (const o of offsets) {
      expect(o.segments).toBe(3); // 37 + 37 + 26
      expect(o.gaps).toEqual([]);
      expect(o.minTimestamp).toBe(T0 - 3_600_000n);
      expect(o.maxTimestamp).toBe(T0 + 99_000n);
    }

    // Time lookup: first offset with timestamp >= T (the out-of-order record does not count).
    const at = await lookupTime(catalog, source, topic, T0 + 42_500n);
    expect(at.map((r) => [r.partition, r.offset, r.timestamp])).toEqual([
      [0, 43n, T0 + 43_000n],
      [1, 43n, T0 + 43_000n],
      [2, 43n, T0 + 43_000n],
    ]);
    expect(at[0]?.segment).toBe(
      `topic=${topic}/partition=0/00000000000000000037-00000000000000000073.parquet`,
    );
    const early = await lookupTime(catalog, source, topic, 0n);
    expect(early.map((r) => r.offset)).toEqual([0n, 0n, 0n]);
    const late = await lookupTime(catalog, source, topic, T0 + 100_000n);
    expect(late.map((r) => r.offset)).toEqual([null, null, null]);

    // Reads: by offset and count, across a segment boundary; by time range.
    const got = [];
    for await (const r of readRecords(catalog, source, {
      topic,
      partition: 1,
      fromOffset: 30n,
      count: 20,
    }))
      got.push(r);
    expect(got.map((r) => r.offset)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(30 + i)));
    for (const r of got) {
      const want = produced.get(1)![Number(r.offset)]!;
      expect(r.key?.toString('hex') ?? null).toBe(want.key?.toString('hex') ?? null);
      expect(r.value!.equals(want.value!)).toBe(true);
      expect(r.timestamp).toBe(want.timestamp);
      expect(r.headers).toEqual(want.headers);
    }
    const window = [];
    for await (const r of readRecords(catalog, source, {
      topic,
      partition: 2,
      fromTime: T0 + 45_000n,
      toTime: T0 + 55_000n,
    }))
      window.push(r.offset);
    // 45..54 except 50, whose clock is an hour behind.
    expect(window).toEqual([45n, 46n, 47n, 48n, 49n, 51n, 52n, 53n, 54n]);
    await expect(async () => {
      for await (const r of readRecords(catalog, source, { topic, partition: 0, fromOffset: 100n }))
        void r;
    }).rejects.toMatchObject({ code: 'ARCHIVE_OFFSET_OUT_OF_RANGE' });
  });

  it('the CLI prints the same answers, and a rebuilt catalog gives identical ones', async () => {
    const before = {
      offsets: await cli(['offsets', topic, '--json']),
      lookup: await cli([
        'lookup',
        topic,
        '--time',
        new Date(Number(T0 + 42_500n)).toISOString(),
        '--json',
      ]),
      read: await cli(['read', topic, '-p', '0', '--offset', '0', '--count', '100']),
    };
    expect(before.offsets.code).toBe(0);
    expect(before.lookup.code).toBe(0);
    expect(before.read.code).toBe(0);
    const lines = before.read.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(100);
    expect(lines[0]).toMatchObject({ offset: '0', key: null, valueEncoding: 'base64' });
    expect(Buffer.from(lines[0]!.value as string, 'base64')).toEqual(Buffer.from([0xff, 0xfe, 0]));
    expect(lines[1]).toMatchObject({
      offset: '1',
      key: 'k0-1',
      value: 'value 0/1',
      headers: [{ key: 'n', value: '1' }],
    });

    rmSync(env.KAFKA_ARCHIVE_CATALOG__DIR, { recursive: true, force: true });
    const rebuilt = await cli(['catalog', 'rebuild', '--footers', '--json']);
    expect(rebuilt.code).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({
      segments: 9,
      read: 9,
      indexed: 0,
      quarantined: [],
    });
    for (const [name, args] of [
      ['offsets', ['offsets', topic, '--json']],
      [
        'lookup',
        ['lookup', topic, '--time', new Date(Number(T0 + 42_500n)).toISOString(), '--json'],
      ],
      ['read', ['read', topic, '-p', '0', '--offset', '0', '--count', '100']],
    ] as const) {
      expect((await cli([...args])).stdout, name).toBe(before[name].stdout);
    }

    // Clear errors for user mistakes, no stack traces.
    const unknown = await cli(['offsets', 'no-such-topic']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no archived topic matches "no-such-topic"');
    expect(unknown.stderr).not.toMatch(/\bat .*\.js:\d+/);
    const beyond = await cli(['read', topic, '-p', '0', '--offset', '500']);
    expect(beyond.stderr).toContain('archived offsets are 0..99');
    const future = await cli(['lookup', topic, '--time', '2099-01-01T00:00:00Z']);
    expect(future.stderr).toContain('the latest archived time is');

    // A corrupt segment is quarantined and reported by the rebuild (exit 3).
    const bad = join(
      env.KAFKA_ARCHIVE_ARCHIVER__HOT_DIR,
      `topic=${topic}/partition=2/00000000000000000100-00000000000000000120.parquet`,
    );
    writeFileSync(bad, 'not parquet');
    const withBad = await cli(['catalog', 'rebuild', '--json']);
    expect(withBad.code).toBe(3);
    expect(JSON.parse(withBad.stdout).quarantined[0]).toContain('.quarantine');
    expect((await cli(['offsets', topic, '--json'])).stdout).toBe(before.offsets.stdout);
  });
});
