// Consumer-group offset translation and the archived group series, without a broker: the
// translation function at every edge (holes from compaction and aborted transactions, before
// and after the restored range, empty partitions), the refusals, the series' keys and lines
// (any group name, offsets beyond 2^53), the as-of lookup across days, the snapshotter over the
// in-memory Kafka and object store (writes on change only, a failing store is one coded
// warning and the next round catches up), and --apply's refusal of a group with members.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  decodeGroupName,
  encodeGroupName,
  findGroupSnapshot,
  formatGroupSnapshot,
  groupNameStorable,
  groupSnapshotKey,
  parseGroupSnapshot,
  parseGroupSnapshotKey,
  writeGroupSnapshot,
} from '../../src/archive/index.js';
import { GroupSnapshotter, groupMatcher } from '../../src/archiver/index.js';
import type { ArchiveError } from '../../src/errors.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import type { JobState } from '../../src/restore/job-store.js';
import type { OffsetRun } from '../../src/restore/offset-map.js';
import { canonicalSpec } from '../../src/restore/spec.js';
import {
  translateGroupOffsets,
  translateJob,
  translateOffset,
} from '../../src/restore/translate.js';
import type { PartitionPlan, RestoreRequest } from '../../src/restore/types.js';
import { MemoryObjectStore } from '../../src/storage/memory.js';
import { FakeKafka } from '../fakes/kafka.js';

const run = (from: bigint, to: bigint, newFrom: bigint, partition = 0): OffsetRun => ({
  topic: 'orders',
  partition,
  from,
  to,
  targetTopic: 'orders.restored',
  targetPartition: partition,
  newFrom,
  txn: 0,
  next: to + 1n,
});

// Original offsets 100..149, then 160..179 (150..159 compacted away), then 182..199 (180 an
// aborted record, 181 its abort marker); new offsets consecutive except one commit marker
// between transactions (new 70 is a marker).
const RUNS = [run(100n, 149n, 0n), run(160n, 179n, 50n), run(182n, 199n, 71n)];

describe('translateOffset', () => {
  it.each([
    [0n, 0n, 'before'], // long before the range: the first restored record
    [99n, 0n, 'before'],
    [100n, 0n, 'exact'], // the first record itself
    [120n, 20n, 'exact'],
    [149n, 49n, 'exact'],
    [150n, 50n, 'gap'], // compacted 150..159: the next record that exists, 160
    [159n, 50n, 'gap'],
    [160n, 50n, 'exact'],
    [179n, 69n, 'exact'],
    [180n, 71n, 'gap'], // aborted 180 and its marker 181: 182
    [181n, 71n, 'gap'],
    [182n, 71n, 'exact'],
    [199n, 88n, 'exact'], // the last restored record
    [200n, 89n, 'after'], // the group read everything: after the last restored record
    [10n ** 18n, 89n, 'after'],
  ])('offset %s -> %s (%s)', (x, offset, kind) => {
    expect(translateOffset(RUNS, x)).toEqual({ offset, kind });
  });

  it('a single one-record run, and no runs', () => {
    const one = [run(7n, 7n, 3n)];
    expect(translateOffset(one, 6n)).toEqual({ offset: 3n, kind: 'before' });
    expect(translateOffset(one, 7n)).toEqual({ offset: 3n, kind: 'exact' });
    expect(translateOffset(one, 8n)).toEqual({ offset: 4n, kind: 'after' });
    expect(translateOffset([], 5n)).toBeNull();
  });

  it('offsets beyond 2^53 keep every digit', () => {
    const big = 2n ** 60n;
    const runs = [run(big, big + 10n, big * 2n)];
    expect(translateOffset(runs, big + 3n)).toEqual({ offset: big * 2n + 3n, kind: 'exact' });
  });
});

const request = (over: Partial<RestoreRequest> = {}): RestoreRequest => ({
  topic: 'orders',
  partitions: null,
  fromTime: null,
  toTime: null,
  startOffset: null,
  endOffset: null,
  targetTopic: null,
  topicMap: new Map(),
  repartition: null,
  offsetHeader: false,
  targetBrokers: ['127.0.0.1:9092'],
  jobName: null,
  ...over,
});

const plan = (partition: number): PartitionPlan => ({
  topic: 'orders',
  partition,
  targetTopic: 'orders.restored',
  startOffset: 100n,
  endOffset: 200n,
  records: 0,
  recordBytes: 0,
  segments: 0,
  segmentBytes: 0,
  rowGroups: 0,
  rowGroupBytes: 0,
  tiers: [],
});

function job(over: Partial<JobState> = {}, req = request()): JobState {
  return {
    version: 1,
    id: 'orders-job',
    spec: canonicalSpec(req),
    status: 'done',
    createdAt: '',
    updatedAt: '',
    groupId: 'kafka-archive-restore.orders-job',
    plan: [plan(0), plan(1), plan(2)],
    gaps: [],
    targets: [
      {
        topic: 'orders.restored',
        sourceTopic: 'orders',
        partitions: 3,
        create: true,
        configs: {},
        startOffsets: { '0': '0', '1': '0', '2': '5' },
        maxMessageBytes: 1 << 20,
      },
    ],
    result: null,
    error: null,
    ...over,
  };
}

describe('translateJob', () => {
  const runs = [...RUNS, run(100n, 109n, 0n, 1)];

  it('every partition of the plan: translated, nothing restored (the start), no offset', () => {
    const rows = translateJob(
      job(),
      runs,
      new Map([
        [
          'orders',
          new Map([
            [0, 155n],
            [2, 40n],
          ]),
        ],
      ]),
    );
    expect(rows.map((r) => [r.partition, r.sourceOffset, r.restoredOffset, r.kind])).toEqual([
      [0, 155n, 50n, 'gap'],
      [1, null, null, 'none'],
      [2, 40n, 5n, 'empty'],
    ]);
    expect(rows[0]).toMatchObject({ targetTopic: 'orders.restored', targetPartition: 0 });
  });

  it('refuses an unfinished job and a repartitioned one, with a code', () => {
    const offsets = new Map([['orders', new Map([[0, 120n]])]]);
    const refused = (s: JobState) => {
      try {
        translateJob(s, runs, offsets);
      } catch (err) {
        return [(err as ArchiveError).code, (err as Error).message];
      }
      return null;
    };
    expect(refused(job({ status: 'running' }))).toEqual([
      'RESTORE_TRANSLATE_REFUSED',
      expect.stringMatching(/is running, not done/),
    ]);
    expect(refused(job({}, request({ repartition: 'by-key' })))).toEqual([
      'RESTORE_TRANSLATE_REFUSED',
      expect.stringMatching(/repartitioned \(--repartition by-key\)/),
    ]);
  });
});

describe('archived group series', () => {
  it('keys hold any group name (percent-encoded) and sort by capture time', () => {
    for (const g of ['billing', 'a/b c', 'ünï.cödé', '..hidden', '%41', 'x'.repeat(200)]) {
      const key = groupSnapshotKey(g, 1_764_583_200_123);
      expect(parseGroupSnapshotKey(key)).toEqual({ group: g, capturedAtMs: 1_764_583_200_123 });
      expect(decodeGroupName(encodeGroupName(g))).toBe(g);
    }
    expect(groupSnapshotKey('a/b', 1_764_583_200_123)).toBe(
      '_groups/group=a%2Fb/date=2025-12-01/00000001764583200123.jsonl',
    );
    expect(groupNameStorable('x'.repeat(240))).toBe(true);
    expect(groupNameStorable('/'.repeat(100))).toBe(false); // 300 bytes encoded
    expect(parseGroupSnapshotKey('topic=t/_topic.json')).toBeNull();
    expect(parseGroupSnapshotKey('_groups/group=a/date=2025-12-01/x.jsonl')).toBeNull();
  });

  it('JSON lines keep offsets beyond 2^53 and metadata; foreign lines are skipped', () => {
    const rows = [
      { topic: 'orders', partition: 0, offset: 2n ** 60n + 1n, metadata: null },
      { topic: 'orders', partition: 1, offset: 5n, metadata: 'm"x' },
    ];
    const text = formatGroupSnapshot('g', 0, rows);
    expect(text.split('\n')[0]).toBe(
      '{"group":"g","topic":"orders","partition":0,"offset":1152921504606846977,"metadata":null,"capturedAt":"1970-01-01T00:00:00.000Z"}',
    );
    expect(parseGroupSnapshot(`${text}garbage\n{"topic":1}\n`)).toEqual(rows);
  });

  it('as-of: the latest snapshot at or before T, across days and past a week of silence', async () => {
    const store = new MemoryObjectStore();
    const day = 86_400_000;
    const t0 = Date.UTC(2026, 0, 1, 12);
    const at = [t0, t0 + 1000, t0 + 3 * day, t0 + 30 * day];
    for (const [i, ms] of at.entries())
      await writeGroupSnapshot(store, 'g', ms, [
        { topic: 't', partition: 0, offset: BigInt(i), metadata: null },
      ]);
    await writeGroupSnapshot(store, 'other', t0 + 2000, [
      { topic: 't', partition: 0, offset: 99n, metadata: null },
    ]);
    const offsetAt = async (ms: number) =>
      (await findGroupSnapshot(store, 'g', ms))?.offsets[0]?.offset ?? null;
    expect(await offsetAt(t0 - 1)).toBeNull();
    expect(await offsetAt(t0)).toBe(0n);
    expect(await offsetAt(t0 + 5000)).toBe(1n); // not the other group's
    expect(await offsetAt(t0 + 3 * day - 1)).toBe(1n); // two days back
    expect(await offsetAt(t0 + 20 * day)).toBe(2n); // 17 days back: the whole series listed
    expect(await offsetAt(t0 + 40 * day)).toBe(3n);
    expect((await findGroupSnapshot(store, 'g', t0 + 40 * day))?.capturedAtMs).toBe(at[3]);
    // The same group and millisecond again (another instance): not overwritten.
    expect(
      (
        await writeGroupSnapshot(store, 'g', t0, [
          { topic: 't', partition: 0, offset: 7n, metadata: null },
        ])
      ).written,
    ).toBe(false);
  });
});

describe('group snapshotter', () => {
  function capture() {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({
      level: 'warn',
      destination: new Writable({
        write(chunk: Buffer, _e, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    });
    return { log, lines };
  }

  it('archiver.groups: names and regexes, default none, every 60 s; a bad regex names the key', () => {
    const c = loadConfig({ env: { KAFKA_ARCHIVE_ARCHIVER__GROUPS: 'billing, alerts\\..*' } });
    expect(c.archiver.groups).toEqual(['billing', 'alerts\\..*']);
    expect(c.archiver.groupsIntervalMs).toBe(60_000);
    expect(loadConfig({ env: {} }).archiver.groups).toEqual([]);
    let message = '';
    try {
      loadConfig({ env: { KAFKA_ARCHIVE_ARCHIVER__GROUPS: 'ok,a(' } });
    } catch (err) {
      message = JSON.stringify(err) + String(err);
    }
    expect(message).toMatch(
      /archiver\.groups\.1: got \\?"a\(\\?": expected a valid JavaScript regular expression/,
    );
  });

  it('matches names and whole-name regexes', () => {
    const m = groupMatcher(['billing', 'alerts\\..*']);
    expect(['billing', 'billing2', 'alerts.eu', 'old-alerts.eu'].map(m)).toEqual([
      true,
      false,
      true,
      false,
    ]);
  });

  it('writes the matching groups on archived topics when they change; a failing store warns with a code and the next round catches up', async () => {
    const kafka = new FakeKafka();
    kafka.createTopic('orders', 2);
    kafka.createTopic('other', 1);
    const commit = (g: string, topic: string, p: number, o: bigint) => {
      const m = kafka.commits.get(g) ?? new Map<string, bigint>();
      m.set(`${topic}\u0000${p}`, o);
      kafka.commits.set(g, m);
    };
    commit('billing', 'orders', 0, 10n);
    commit('billing', 'orders', 1, 20n);
    commit('billing', 'other', 0, 5n); // not archived: left out
    commit('unrelated', 'orders', 0, 1n);
    commit('alerts.eu', 'other', 0, 3n); // matches, but no offset on an archived topic
    const store = new MemoryObjectStore();
    const { log, lines } = capture();
    let now = Date.UTC(2026, 5, 1);
    const s = new GroupSnapshotter({
      kafka,
      store,
      patterns: ['billing', 'alerts\\..*'],
      intervalMs: 60_000,
      topics: () => ['orders'],
      log,
      now: () => now,
    });
    expect(await s.runOnce()).toEqual({ groups: 2, written: 1, skipped: 1, failed: 0 });
    const snap = await findGroupSnapshot(store, 'billing', now);
    expect(snap?.offsets).toEqual([
      { topic: 'orders', partition: 0, offset: 10n, metadata: null },
      { topic: 'orders', partition: 1, offset: 20n, metadata: null },
    ]);
    now += 60_000;
    expect((await s.runOnce()).written).toBe(0); // unchanged
    commit('billing', 'orders', 0, 11n);
    store.available = false;
    now += 60_000;
    expect((await s.runOnce()).failed).toBe(1);
    expect(lines.map((l) => [l.code, l.cause, l.group])).toEqual([
      ['GROUP_SNAPSHOT_FAILED', 'STORAGE_UNAVAILABLE', 'billing'],
    ]);
    store.available = true;
    now += 60_000;
    expect((await s.runOnce()).written).toBe(1);
    expect((await findGroupSnapshot(store, 'billing', now))?.offsets[0]?.offset).toBe(11n);
    expect((await findGroupSnapshot(store, 'billing', now - 120_001))?.offsets[0]?.offset).toBe(
      10n,
    );
    expect(s.stats).toMatchObject({ written: 2, failures: 1, lastWrittenAtMs: now });
    await s.stop();
  });
});

describe('translateGroupOffsets', () => {
  it('--as-of uses the archived snapshot; --apply commits on the target and refuses a group with members', async () => {
    const kafka = new FakeKafka();
    kafka.createTopic('orders', 3);
    kafka.createTopic('orders.restored', 3);
    const store = new MemoryObjectStore();
    const t = Date.UTC(2026, 5, 1);
    await writeGroupSnapshot(store, 'billing', t, [
      { topic: 'orders', partition: 0, offset: 120n, metadata: null },
      { topic: 'orders', partition: 2, offset: 3n, metadata: null },
      { topic: 'elsewhere', partition: 0, offset: 9n, metadata: null },
    ]);
    const deps = {
      sourceAdmin: () => kafka.admin(),
      targetAdmin: () => kafka.admin(),
      snapshot: (g: string, ms: number) => findGroupSnapshot(store, g, ms),
    };
    const r = await translateGroupOffsets(deps, job(), RUNS, {
      group: 'billing',
      asOfMs: t + 10,
      apply: true,
    });
    expect(r.source).toMatchObject({ kind: 'archive', snapshotAtMs: t });
    expect(r.applied).toEqual([
      { topic: 'orders.restored', partition: 0, offset: 20n },
      { topic: 'orders.restored', partition: 2, offset: 5n },
    ]);
    expect(kafka.committed('billing', { topic: 'orders.restored', partition: 0 })).toBe(20n);

    const code = async (p: Promise<unknown>) =>
      p.then(
        () => null,
        (err: unknown) => (err as ArchiveError).code,
      );
    expect(
      await code(
        translateGroupOffsets(deps, job(), RUNS, { group: 'billing', asOfMs: t - 1, apply: false }),
      ),
    ).toBe('RESTORE_GROUP_UNKNOWN');
    expect(
      await code(
        translateGroupOffsets(deps, job(), RUNS, { group: 'nobody', asOfMs: null, apply: false }),
      ),
    ).toBe('RESTORE_GROUP_UNKNOWN');
    const member = kafka.consumer({ groupId: 'billing' });
    await member.start(['orders.restored'], { onBatch: async () => {}, onAssignment: () => {} });
    try {
      expect(
        await code(
          translateGroupOffsets(deps, job(), RUNS, { group: 'billing', asOfMs: t, apply: true }),
        ),
      ).toBe('RESTORE_GROUP_ACTIVE');
    } finally {
      await member.stop();
    }
  });
});
