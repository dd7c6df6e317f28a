import { describe, expect, it } from 'vitest';
import {
  buildFleetEntries,
  daysToPercentOf,
  decodeFleetRecord,
  encodeFleetRecord,
  FleetState,
  isStale,
  type FleetEstimate,
  type FleetRecord,
} from '../../src/disk/index.js';
import { loadConfig } from '../../src/index.js';
import { fleetBrokerId } from '../../src/service/index.js';

const DAY = 86_400_000;
const GiB = 2 ** 30;
const wm = { low: 85, high: 90, flood: 95 };

const rec = (over: Partial<FleetRecord> = {}): FleetRecord => ({
  v: 1,
  brokerId: 1,
  logDir: '/data/kafka',
  host: 'kafka-1',
  at: 1_000 * DAY,
  intervalMs: 60_000,
  sizeBytes: 100 * GiB,
  usedBytes: 50 * GiB,
  availableBytes: 50 * GiB,
  usedPercent: 50,
  state: 'ok',
  reserves: { armed: 2, total: 2, bytes: 512 * 2 ** 20 },
  logBytes: 40 * GiB,
  indexBytes: GiB,
  partitions: 12,
  headroom: { survives: true, needsBytes: 2 * GiB, hasBytes: 50 * GiB },
  growthBytesPerDay: null,
  ...over,
});

describe('fleet record', () => {
  it('round-trips, keyed broker|logDir', () => {
    const r = rec({ growthBytesPerDay: 1234 });
    const { key, value } = encodeFleetRecord(r);
    expect(key.toString()).toBe('1|/data/kafka');
    expect(decodeFleetRecord(value, key)).toEqual({ ok: true, record: r });
  });

  it('accepts a later version with extra fields, keeping the v1 fields only', () => {
    const value = Buffer.from(JSON.stringify({ ...rec(), v: 2, extra: 'x' }));
    const d = decodeFleetRecord(value);
    expect(d.ok && d.record.v).toBe(2);
    expect(d.ok && 'extra' in d.record).toBe(false);
  });

  it.each([
    [Buffer.from('not json'), 'value is not JSON'],
    [Buffer.from('[1]'), 'value is not a JSON object'],
    [Buffer.from(JSON.stringify({ ...rec(), v: 0 })), 'field v missing or invalid'],
    [Buffer.from(JSON.stringify({ ...rec(), state: 'full' })), 'field state missing or invalid'],
    [
      Buffer.from(JSON.stringify({ ...rec(), usedBytes: -1 })),
      'field usedBytes missing or invalid',
    ],
    [
      Buffer.from(JSON.stringify({ ...rec(), reserves: { armed: 1, total: 2 } })),
      'field reserves.bytes missing or invalid',
    ],
    [
      Buffer.from(JSON.stringify({ ...rec(), headroom: { survives: 'yes' } })),
      'field headroom.survives missing or invalid',
    ],
    [
      Buffer.from(JSON.stringify({ ...rec(), growthBytesPerDay: 'fast' })),
      'field growthBytesPerDay missing or invalid',
    ],
    [null, 'tombstone (null value)'],
  ])('refuses a bad value (%#)', (value, reason) => {
    expect(decodeFleetRecord(value)).toEqual({ ok: false, reason });
  });

  it('refuses a value published under another key', () => {
    const { value } = encodeFleetRecord(rec());
    expect(decodeFleetRecord(value, Buffer.from('2|/data/kafka'))).toEqual({
      ok: false,
      reason: 'key "2|/data/kafka" is not 1|/data/kafka',
    });
  });
});

describe('fleet state', () => {
  const apply = (s: FleetState, r: FleetRecord) => {
    const { key, value } = encodeFleetRecord(r);
    s.apply(key, value);
  };

  it('keeps the latest record per key; a tombstone removes the key; bad values are counted', () => {
    const s = new FleetState();
    apply(s, rec({ at: 10, usedBytes: 1 }));
    apply(s, rec({ at: 20, usedBytes: 2 }));
    apply(s, rec({ at: 15, usedBytes: 9 })); // older, arrives late: not the latest
    apply(s, rec({ brokerId: 2, at: 5 }));
    apply(s, rec({ brokerId: 1, logDir: '/data/b', at: 5 }));
    s.apply(Buffer.from('x'), Buffer.from('{'));
    expect(s.latest().map((r) => [r.brokerId, r.logDir, r.usedBytes])).toEqual([
      [1, '/data/b', 50 * GiB],
      [1, '/data/kafka', 2],
      [2, '/data/kafka', 50 * GiB],
    ]);
    expect(s.malformed).toBe(1);
    expect(s.series()['1|/data/kafka']?.map(([t]) => t)).toEqual([10, 15, 20]);
    s.apply(Buffer.from('2|/data/kafka'), null);
    expect(s.latest()).toHaveLength(2);
  });

  it('growth: the agent figure when given, else the slope of successive records', () => {
    const s = new FleetState();
    apply(s, rec({ at: 0, usedBytes: 10 * GiB }));
    expect(s.growthBytesPerDay(1, '/data/kafka')).toBeNull(); // one sample
    apply(s, rec({ at: DAY / 2, usedBytes: 11 * GiB }));
    apply(s, rec({ at: DAY, usedBytes: 12 * GiB }));
    expect(s.growthBytesPerDay(1, '/data/kafka')).toBeCloseTo(2 * GiB, 0);
    apply(s, rec({ at: 2 * DAY, usedBytes: 12 * GiB, growthBytesPerDay: 5 }));
    expect(s.growthBytesPerDay(1, '/data/kafka')).toBe(5);
    // Samples outside the window do not count.
    const w = new FleetState();
    apply(w, rec({ at: 0, usedBytes: 0 }));
    apply(w, rec({ at: 10 * DAY, usedBytes: GiB }));
    expect(w.growthBytesPerDay(1, '/data/kafka', 7 * DAY)).toBeNull();
  });

  it('staleness: older than staleAfterMs, default 3 intervals', () => {
    const r = rec({ at: 1000, intervalMs: 100 });
    expect(isStale(r, 1300)).toBe(false);
    expect(isStale(r, 1301)).toBe(true);
    expect(isStale(r, 1301, 1000)).toBe(false);
    expect(isStale(r, 2001, 1000)).toBe(true);
  });

  it('days to a watermark at a growth rate', () => {
    // 100 usable, 50 used: 90% is 40 away; at 10/day, 4 days.
    expect(daysToPercentOf(50, 50, 90, 10)).toBe(4);
    expect(daysToPercentOf(95, 5, 90, 10)).toBe(0);
    expect(daysToPercentOf(50, 50, 90, 0)).toBeNull();
    expect(daysToPercentOf(50, 50, 90, null)).toBeNull();
  });
});

describe('fleet rows', () => {
  const est = (over: Partial<FleetEstimate> = {}): FleetEstimate => ({
    brokerId: 3,
    logDir: '/kafka/3',
    sizeBytes: 100,
    availableBytes: 4,
    usedBytes: 96,
    usedPercent: 96,
    survivesUncleanRestart: false,
    needsBytes: 10,
    hasBytes: 4,
    ...over,
  });

  it('agent rows first per broker; estimates only for brokers without an agent', () => {
    const s = new FleetState();
    s.add(rec({ at: 0, usedBytes: 40 * GiB, availableBytes: 60 * GiB }));
    s.add(rec({ at: DAY, usedBytes: 50 * GiB, availableBytes: 50 * GiB }));
    s.add(
      rec({
        brokerId: 2,
        at: 0,
        state: 'flood',
        headroom: { survives: false, needsBytes: 9, hasBytes: 1 },
      }),
    );
    const rows = buildFleetEntries(
      s,
      [
        est(),
        est({ brokerId: 1, logDir: '/other' }),
        est({
          brokerId: 4,
          usedPercent: null,
          sizeBytes: null,
          availableBytes: null,
          survivesUncleanRestart: null,
          needsBytes: null,
          hasBytes: null,
        }),
      ],
      { now: DAY + 60_000, watermarks: wm },
    );
    expect(rows.map((r) => [r.brokerId, r.source, r.stale])).toEqual([
      [1, 'agent', false],
      [2, 'agent', true],
      [3, 'describe-log-dirs', false],
      [4, 'describe-log-dirs', false],
    ]);
    const [b1, b2, b3, b4] = rows;
    expect(b1).toMatchObject({
      growthBytesPerDay: 10 * GiB,
      daysToHigh: 4, // 90 GiB at +10 GiB/day from 50
      daysToFlood: 4.5,
      lastSeen: DAY,
      survivesUncleanRestart: true,
      estimate: false,
      host: 'kafka-1',
    });
    expect(b2).toMatchObject({ state: 'flood', survivesUncleanRestart: false, needsBytes: 9 });
    expect(b3).toMatchObject({
      state: 'flood',
      estimate: true,
      reserves: null,
      lastSeen: null,
      growthBytesPerDay: null,
      survivesUncleanRestart: false,
    });
    expect(b4).toMatchObject({ state: 'unknown', survivesUncleanRestart: null });
  });

  it('staleAfterMs overrides the default of 3 intervals', () => {
    const s = new FleetState();
    s.add(rec({ at: 0, intervalMs: 1000 }));
    expect(buildFleetEntries(s, [], { now: 5000, watermarks: wm })[0]?.stale).toBe(true);
    expect(
      buildFleetEntries(s, [], { now: 5000, staleAfterMs: 10_000, watermarks: wm })[0]?.stale,
    ).toBe(false);
  });
});

describe('fleet broker id', () => {
  const cfg = (env: Record<string, string>) => loadConfig({ env });
  it('disk.fleet.brokerId, else node.id, else broker.id; else a config error naming the key', () => {
    expect(fleetBrokerId(cfg({ KAFKA_ARCHIVE_DISK__FLEET__BROKER_ID: '4' }), undefined)).toBe(4);
    expect(fleetBrokerId(cfg({}), new Map([['node.id', '2']]))).toBe(2);
    expect(fleetBrokerId(cfg({}), new Map([['broker.id', ' 3 ']]))).toBe(3);
    expect(() => fleetBrokerId(cfg({}), undefined)).toThrow(
      /^config error: disk\.fleet\.brokerId: required: disk\.kafka\.serverProperties is not set; set disk\.fleet\.brokerId/,
    );
    expect(() =>
      fleetBrokerId(
        cfg({ KAFKA_ARCHIVE_DISK__KAFKA__SERVER_PROPERTIES: '/etc/kafka/server.properties' }),
        new Map([['node.id', 'x']]),
      ),
    ).toThrow(/\/etc\/kafka\/server\.properties has neither node\.id nor broker\.id/);
    expect(() => cfg({ KAFKA_ARCHIVE_DISK__FLEET__BROKER_ID: '-1' })).toThrow(
      /disk\.fleet\.brokerId/,
    );
  });
});
