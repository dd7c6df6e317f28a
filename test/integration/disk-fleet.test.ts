// The disk agent against the real broker of the test bed, watching a "log.dir" on a small tmpfs
// (a directory with a partition in it; not the broker's own log.dir): --once publishes one
// record that `disk report --fleet` shows; the running agent releases a reserve at flood and
// publishes state flood, re-arms below low and publishes ok; killed with SIGKILL, the report
// marks it stale within staleAfterMs.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLogger, loadConfig } from '../../src/index.js';
import type { FleetEntry, FleetRecord, FleetReport } from '../../src/disk/index.js';
import { collectFleetReport } from '../../src/service/index.js';
import { waitFor } from '../helpers/archive.js';
import { cliFromSource } from '../helpers/cli.js';
import { logTail, spawnArchiver, stopProcess, type ArchiverProcess } from '../helpers/process.js';
import { mountTmpfs, unmountTmpfs } from '../helpers/tmpfs.js';

const MiB = 2 ** 20;
const kafkaInfo = inject('kafka');
const log = createLogger({ level: 'silent' });
const mountDir = mkdtempSync(join(tmpdir(), 'ka-fleet-'));
const refused = mountTmpfs(mountDir, '64m');
if (refused !== null) console.log(`[disk fleet test] skipped: cannot mount a tmpfs (${refused})`);

let agent: ArchiverProcess | null = null;
afterAll(async () => {
  if (agent !== null) await stopProcess(agent, 'SIGKILL');
  if (refused === null) unmountTmpfs(mountDir);
  rmSync(mountDir, { recursive: true, force: true });
});

const topic = `_ka-disk-${Math.random().toString(36).slice(2, 8)}`;
const brokerId = 7;
const env: Record<string, string> = {
  KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
  KAFKA_ARCHIVE_DATA_DIR: join(mountDir, '..', `ka-fleet-data-${process.pid}`),
  KAFKA_ARCHIVE_DISK__KAFKA__LOG_DIRS: mountDir,
  KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '2',
  KAFKA_ARCHIVE_DISK__RESERVE__SIZE: '8MiB',
  KAFKA_ARCHIVE_DISK__WATERMARKS__LOW: '60',
  KAFKA_ARCHIVE_DISK__WATERMARKS__HIGH: '75',
  KAFKA_ARCHIVE_DISK__WATERMARKS__FLOOD: '85',
  KAFKA_ARCHIVE_DISK__MONITOR__INTERVAL_MS: '250',
  KAFKA_ARCHIVE_DISK__FLEET__TOPIC: topic,
  KAFKA_ARCHIVE_DISK__FLEET__BROKER_ID: String(brokerId),
  KAFKA_ARCHIVE_DISK__FLEET__INTERVAL_MS: '1000',
  KAFKA_ARCHIVE_DISK__FLEET__STALE_AFTER_MS: '6000',
  KAFKA_ARCHIVE_LOG__LEVEL: 'info',
};
const config = loadConfig({ env });

const report = () => collectFleetReport(config, log);
const entry = (r: FleetReport): FleetEntry | undefined =>
  r.entries.find((e) => e.brokerId === brokerId && e.logDir === mountDir);

const usedPercent = () => {
  const s = statfsSync(mountDir);
  return ((s.blocks - s.bavail) / s.blocks) * 100;
};

/** Fills the tmpfs with a file until it is `percent` used. */
function fillTo(percent: number, name: string): void {
  const s = statfsSync(mountDir);
  const want = Math.ceil(((percent / 100) * s.blocks - (s.blocks - s.bavail)) * s.bsize);
  if (want > 0) writeFileSync(join(mountDir, name), Buffer.alloc(want, 1));
}

describe.skipIf(refused !== null)(
  `disk agent and fleet report on Kafka ${kafkaInfo.version}`,
  () => {
    it('--once publishes one record per log.dir; disk report --fleet --json shows it', () => {
      // A partition directory with a segment, as in a real log.dir.
      const part = join(mountDir, 'fleet-0');
      mkdirSync(part);
      writeFileSync(join(part, '00000000000000000000.log'), Buffer.alloc(2 * MiB, 7));
      writeFileSync(join(part, '00000000000000000000.index'), Buffer.alloc(0));
      writeFileSync(join(part, '00000000000000000000.timeindex'), Buffer.alloc(0));

      const once = cliFromSource(['disk', 'agent', '--once', '--json'], env);
      expect(once.code, once.stderr).toBe(0);
      const records = JSON.parse(once.stdout) as FleetRecord[];
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        v: 1,
        brokerId,
        logDir: mountDir,
        state: 'ok',
        reserves: { armed: 2, total: 2, bytes: 16 * MiB },
        partitions: 1,
        logBytes: 2 * MiB,
        headroom: { survives: true },
        growthBytesPerDay: null,
      });

      const rep = cliFromSource(['disk', 'report', '--fleet', '--json'], env);
      expect(rep.code, rep.stderr).toBe(0);
      const fleet = JSON.parse(rep.stdout) as FleetReport;
      expect(fleet.topic).toBe(topic);
      // Stale once staleAfterMs (6 s) passed since the record: no agent runs after --once.
      const e = fleet.entries.find((x) => x.brokerId === brokerId) as FleetEntry;
      expect(e.stale).toBe(fleet.generatedAt - (e.lastSeen ?? 0) > 6000);
      // Measured after the reserves were armed: they count as used.
      expect(e.usedBytes).toBeGreaterThanOrEqual(18 * MiB);
      // The test bed's broker has no agent: a DescribeLogDirs estimate row for it.
      const estimates = fleet.entries.filter((x) => x.estimate);
      expect(estimates.length).toBeGreaterThan(0);
      for (const x of estimates)
        expect(x).toMatchObject({ source: 'describe-log-dirs', stale: false, reserves: null });
      expect(estimates.some((x) => x.brokerId === brokerId)).toBe(false);
      expect(fleet.entries.filter((x) => !x.estimate)).toEqual([
        expect.objectContaining({
          brokerId,
          logDir: mountDir,
          source: 'agent',
          estimate: false,
          state: 'ok',
          survivesUncleanRestart: true,
          reserves: { armed: 2, total: 2, bytes: 16 * MiB },
        }),
      ]);
      const html = join(mountDir, '..', `ka-fleet-${process.pid}.html`);
      const text = cliFromSource(['disk', 'report', '--fleet', '--html', html], env);
      console.log(`[disk fleet] sample report:\n${text.stdout}`);
      const page = readFileSync(html, 'utf8');
      rmSync(html);
      expect(page).toContain('<h1>kafka-archive disk fleet</h1>');
      expect(page).toContain(
        `broker ${brokerId}</b> ${mountDir}: survives an unclean restart today: yes`,
      );
      expect(page.match(/<svg/g)?.length).toBeGreaterThanOrEqual(2); // needs-vs-has, broker chart
      expect(text.stdout).toMatch(new RegExp(`7 +${mountDir} +agent +\\d+\\.\\d% +ok`));
    });

    it('running: flood -> one reserve released, state flood published; below low -> re-armed, ok', async () => {
      // The built CLI, as operators run it: its RSS is the agent's real footprint.
      agent = spawnArchiver(['disk', 'agent'], env);
      const a = agent;
      const published = () => a.logs.filter((l) => l.msg === 'disk agent published');
      await waitFor('the first publish', () => published().length > 0, 60_000).catch((err) => {
        throw new Error(`${(err as Error).message}\n${logTail(a)}`);
      });

      // 99%: still above flood once one 8 MiB block (12.5% of the volume) is released.
      fillTo(99, 'filler');
      // (The agent may already have released a block: 99% - 12.5% is still past flood.)
      expect(usedPercent()).toBeGreaterThan(85);
      let seen: FleetEntry | undefined;
      await waitFor(
        'a published flood record with one reserve released',
        async () => {
          seen = entry(await report());
          return seen?.state === 'flood' && seen.reserves?.armed === 1;
        },
        60_000,
        500,
      ).catch((err) => {
        throw new Error(`${(err as Error).message}\n${JSON.stringify(seen)}\n${logTail(a)}`);
      });
      expect(a.logs.filter((l) => l.code === 'DISK_FLOOD')).toHaveLength(1);

      rmSync(join(mountDir, 'filler'));
      await waitFor(
        'a published ok record with both reserves armed',
        async () => {
          seen = entry(await report());
          return seen?.state === 'ok' && seen.reserves?.armed === 2;
        },
        60_000,
        500,
      ).catch((err) => {
        throw new Error(`${(err as Error).message}\n${JSON.stringify(seen)}\n${logTail(a)}`);
      });
      expect(seen?.growthBytesPerDay).not.toBeNull();

      const scans = published().map((l) => ({
        rss: l.rssBytes as number,
        cpu: l.scanCpuMs as number,
        ms: l.scanMs as number,
      }));
      const max = (k: 'rss' | 'cpu' | 'ms') => Math.max(...scans.map((s) => s[k]));
      console.log(
        `[disk agent] ${scans.length} publishes: RSS max ${(max('rss') / MiB).toFixed(1)} MiB, CPU per scan max ${max('cpu').toFixed(1)} ms (median ${[...scans].sort((x, y) => x.cpu - y.cpu)[Math.floor(scans.length / 2)]?.cpu.toFixed(1)} ms), wall max ${max('ms').toFixed(1)} ms`,
      );
    });

    it('killed with SIGKILL: the report marks it stale within staleAfterMs', async () => {
      const a = agent as ArchiverProcess;
      const killedAt = Date.now();
      await stopProcess(a, 'SIGKILL');
      let seen: FleetEntry | undefined;
      await waitFor(
        'the entry marked stale',
        async () => {
          seen = entry(await report());
          return seen?.stale === true;
        },
        30_000,
        500,
      );
      // lastSeen was at most one interval before the kill; stale once staleAfterMs passed since.
      expect((seen?.lastSeen ?? 0) + 6000).toBeLessThanOrEqual(Date.now());
      expect(Date.now() - killedAt).toBeLessThan(6000 + 15_000);
    });

    it('started again: fresh, not stale; SIGTERM stops it with exit 0', async () => {
      const a = spawnArchiver(['disk', 'agent'], env);
      agent = a;
      let seen: FleetEntry | undefined;
      await waitFor(
        'the entry fresh again',
        async () => {
          seen = entry(await report());
          return seen?.stale === false;
        },
        60_000,
        500,
      ).catch((err) => {
        throw new Error(`${(err as Error).message}\n${logTail(a)}`);
      });
      expect(await stopProcess(a, 'SIGTERM')).toBe(0);
      expect(a.logs.some((l) => l.msg === 'disk agent stopping')).toBe(true);
    });
  },
);
