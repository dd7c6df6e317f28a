// GET /api/disk/fleet and the disk_fleet_* gauges with a stand-in fleet source (no Kafka):
// responses checked against the OpenAPI document; 404 while the fleet is off, 503 while unread.
import { afterEach, describe, expect, it } from 'vitest';
import {
  createLogger,
  loadConfig,
  type ArchiverStats,
  type SegmentSource,
} from '../../src/index.js';
import { FleetState, type FleetRecord } from '../../src/disk/index.js';
import { fleetReportFrom } from '../../src/service/index.js';
import { startServer, type FleetSource, type ServerHandle } from '../../src/server/index.js';
import { checkedFetch } from '../helpers/openapi.js';

const log = createLogger({ level: 'silent' });
const config = loadConfig({
  env: {
    KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '0',
    KAFKA_ARCHIVE_DISK__FLEET__ENABLED: 'true',
    KAFKA_ARCHIVE_DISK__FLEET__INTERVAL_MS: '10s',
  },
});
const archiverStats: ArchiverStats = {
  recordsArchived: 0,
  segmentsSealed: 0,
  bytesWritten: 0,
  sealFailures: 0,
  commitFailures: 0,
  lostRecords: 0,
  divergedPartitions: 0,
  pausedPartitions: 0,
  bufferedBytes: 0,
  assignedPartitions: 0,
  topics: [],
};
const stats = { getStats: () => archiverStats };
const servers: ServerHandle[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const rec = (over: Partial<FleetRecord>): FleetRecord => ({
  v: 1,
  brokerId: 1,
  logDir: '/data/kafka',
  host: 'kafka-1',
  at: 0,
  intervalMs: 10_000,
  sizeBytes: 1000,
  usedBytes: 500,
  availableBytes: 500,
  usedPercent: 50,
  state: 'ok',
  reserves: { armed: 2, total: 2, bytes: 20 },
  logBytes: 400,
  indexBytes: 10,
  partitions: 3,
  headroom: { survives: true, needsBytes: 10, hasBytes: 520 },
  growthBytesPerDay: 100,
  ...over,
});

async function start(fleet: FleetSource | null) {
  const s = await startServer(
    {
      archiver: stats,
      catalog: null,
      source: {} as SegmentSource,
      tierer: null,
      config,
      fleet,
    },
    { ...config.server, port: 0 },
    log,
  );
  servers.push(s);
  return s;
}

describe('disk fleet over HTTP', () => {
  it('404 when the fleet is off, 503 while it is not read yet', async () => {
    const off = await start(null);
    const r = await checkedFetch(`${off.url}/api/disk/fleet`);
    expect([r.status, JSON.parse(r.text).code]).toEqual([404, 'DISK_FLEET_OFF']);
    const unread = await start({ report: () => null, lastError: () => 'broker down' });
    const u = await checkedFetch(`${unread.url}/api/disk/fleet`);
    expect(u.status).toBe(503);
    expect(JSON.parse(u.text).error).toMatch(/not been read yet \(last attempt: broker down\)/);
  });

  it('serves the report and per broker / log.dir gauges', async () => {
    const now = Date.now();
    const state = new FleetState();
    state.add(rec({ at: now - 1000 }));
    state.add(
      rec({
        brokerId: 2,
        at: now - 60_000, // older than 3 × 10 s: stale
        usedPercent: 97,
        usedBytes: 970,
        availableBytes: 30,
        state: 'flood',
        reserves: { armed: 1, total: 2, bytes: 10 },
        headroom: { survives: false, needsBytes: 100, hasBytes: 40 },
      }),
    );
    const s = await start({
      report: (at) => fleetReportFrom(config, state, [], at ?? Date.now()),
      lastError: () => null,
    });
    const r = await checkedFetch(`${s.url}/api/disk/fleet`);
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text);
    expect(
      body.entries.map((e: { brokerId: number; stale: boolean }) => [e.brokerId, e.stale]),
    ).toEqual([
      [1, false],
      [2, true],
    ]);
    const m = (await checkedFetch(`${s.url}/metrics`)).text;
    const v = (name: string, broker: number) =>
      Number(
        m
          .split('\n')
          .find((l) =>
            l.startsWith(`kafka_archive_${name}{broker="${broker}",log_dir="/data/kafka"} `),
          )
          ?.split(' ')[1],
      );
    expect(v('disk_fleet_used_ratio', 1)).toBe(0.5);
    expect(v('disk_fleet_used_ratio', 2)).toBe(0.97);
    expect(v('disk_fleet_survives_unclean_restart', 1)).toBe(1);
    expect(v('disk_fleet_survives_unclean_restart', 2)).toBe(0);
    expect(v('disk_fleet_reserves_armed', 2)).toBe(1);
    expect(v('disk_fleet_reserves_total', 2)).toBe(2);
    expect(v('disk_fleet_agent_stale', 1)).toBe(0);
    expect(v('disk_fleet_agent_stale', 2)).toBe(1);
    expect(v('disk_fleet_last_seen_seconds', 2)).toBeGreaterThanOrEqual(60);
    // 90% of 1000 usable is 400 away at +100/day.
    expect(v('disk_fleet_days_to_flood', 1)).toBe(4.5);
  });
});
