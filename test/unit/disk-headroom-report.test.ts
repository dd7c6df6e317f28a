import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ArchiveError, loadConfig } from '../../src/index.js';
import {
  collectDiskReport,
  DiskReportScheduler,
  REPORT_COLORS,
  renderDiskReportHtml,
  renderDiskReportText,
  summarizeDiskReport,
  type DiskReport,
} from '../../src/disk/index.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');

/** A stopped broker's log.dir: one topic, two 1 MiB segments without index files. */
function fakeLogDir(root: string): string {
  const logDir = join(root, 'kafka');
  const p = join(logDir, 'events-0');
  mkdirSync(p, { recursive: true });
  writeFileSync(join(p, '00000000000000000000.log'), Buffer.alloc(2 ** 20, 1));
  writeFileSync(join(p, '00000000000000001000.log'), Buffer.alloc(2 ** 20, 2));
  writeFileSync(join(logDir, 'recovery-point-offset-checkpoint'), '0\n1\nevents 0 0\n');
  writeFileSync(join(logDir, 'meta.properties'), 'node.id=1\nversion=1\n');
  return logDir;
}

function configFor(root: string, logDir: string) {
  return loadConfig({
    env: {
      KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: join(root, 'hot'),
      KAFKA_ARCHIVE_DISK__HISTORY_DIR: join(root, 'history'),
      KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '0',
      KAFKA_ARCHIVE_DISK__KAFKA__LOG_DIRS: logDir,
    },
  });
}

describe('disk report', () => {
  it('collects volumes, headroom, history and growth; renders text, JSON-able data and HTML', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ka-report-'));
    const logDir = fakeLogDir(root);
    const config = configFor(root, logDir);

    const first = await collectDiskReport(config, { now: new Date(T0), kafkaVersion: '3.9.1' });
    expect(first.history.samplesInWindow).toBe(1);
    expect(first.topPartitions).toEqual([]);
    expect(first.volumes.map((v) => v.sample.name)).toEqual(['hot', 'kafka-1']);
    const k = first.volumes[1]!;
    expect(k.headroomError).toBeNull();
    const h = k.headroom!;
    expect(h.recoveryThreads).toBe(1);
    // Both segments lost their indexes: each is rebuilt, whatever the shutdown.
    expect(h.unclean.segmentsRecovered).toBe(2);
    expect(h.unclean.indexGrowthBytes).toBe(
      h.sparse ? 2 * 2 * h.blockBytes : h.unclean.indexGrowthBytes,
    );
    expect(h.unclean.verdict.verdict).toBe('yes');
    expect(h.unclean.summary).toMatch(/^survives an unclean restart today: yes, needs .+, has .+/);
    expect(first.indexVsLog[0]).toMatchObject({ volume: 'kafka-1', partitions: 1, segments: 2 });

    // A day later the partition has grown by 1 MiB.
    appendFileSync(join(logDir, 'events-0', '00000000000000001000.log'), Buffer.alloc(2 ** 20, 3));
    const second = await collectDiskReport(config, { now: new Date(T0 + DAY) });
    expect(second.history.samplesInWindow).toBe(2);
    const growth = second.topPartitions.find((p) => p.topic === 'events')!;
    expect(growth.partition).toBe(0);
    expect(growth.bytesPerDay).toBeGreaterThanOrEqual(2 ** 20);
    expect(second.volumes[1]!.forecast.allocatedBytesPerDay).toBeGreaterThanOrEqual(2 ** 20);

    const text = renderDiskReportText(second);
    expect(text).toContain('Unclean-restart headroom (Kafka log.dirs):');
    expect(text).toMatch(/kafka-1 .*kafka \(.*\):\n {2}survives an unclean restart today: yes/);
    expect(text).toMatch(/^events-0 +.*kafka/m);
    expect(summarizeDiskReport(second)).toMatch(
      /^disk report: hot .*; kafka-1 .*unclean restart: yes \(needs .*, has .*\); fastest partition events-0 \+/,
    );

    const html = renderDiskReportHtml(second);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|src=|@import|url\(/i);
    // The only URL is the SVG namespace.
    expect([...html.matchAll(/https?:\/\/[^"\s]+/g)].map((m) => m[0])).toSatisfy((urls: string[]) =>
      urls.every((u) => u === 'http://www.w3.org/2000/svg'),
    );
    expect(html.match(/<svg /g)!.length).toBeGreaterThanOrEqual(5);
    for (const c of [
      REPORT_COLORS.usage,
      REPORT_COLORS.forecast,
      REPORT_COLORS.growth,
      REPORT_COLORS.indexes,
    ])
      expect(html).toContain(c);
    expect(html).toContain('survives an unclean restart today: yes');
  });

  it('escapes names in HTML', () => {
    const report: DiskReport = {
      ...emptyReport(),
      topPartitions: [
        {
          logDir: '/x',
          topic: '<b>&"',
          partition: 0,
          bytesPerDay: 10,
          indexBytesPerDay: 0,
          allocatedBytes: 1,
          logBytes: 1,
          indexBytes: 0,
          segments: 1,
          samples: 2,
          spanMs: 1,
        },
      ],
    };
    const html = renderDiskReportHtml(report);
    expect(html).toContain('&lt;b&gt;&amp;&quot;-0');
    expect(html).not.toContain('<b>&"');
  });
});

function emptyReport(): DiskReport {
  return {
    generatedAt: new Date(T0).toISOString(),
    windowMs: 7 * DAY,
    history: {
      dir: '/h',
      file: '/h/samples.jsonl',
      samplesInWindow: 1,
      since: null,
      recorded: false,
      malformedLines: 0,
      trimmedSamples: 0,
    },
    volumes: [],
    topPartitions: [],
    indexVsLog: [],
  };
}

function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n'))
        if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduled disk report', () => {
  it('runs on a cron schedule without overlapping runs, writes the files, logs one line per run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ka-sched-'));
    const config = configFor(root, fakeLogDir(root));
    const { log, lines } = captureLogger();
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const scheduler = new DiskReportScheduler({
      config,
      log,
      schedule: '* * * * * *', // every second
      collect: async () => {
        calls++;
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(2300); // longer than the interval: the next ticks find it running
        active--;
        return emptyReport();
      },
    });
    scheduler.start();
    await sleep(5600);
    await scheduler.stop();
    const stats = scheduler.stats;

    expect(maxActive).toBe(1);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(stats.runs).toBe(calls);
    expect(stats.skipped).toBeGreaterThanOrEqual(2);
    expect(stats.failures).toBe(0);
    expect(stats.running).toBe(false);
    expect(existsSync(join(root, 'history', 'report.html'))).toBe(true);
    expect(JSON.parse(readFileSync(join(root, 'history', 'report.json'), 'utf8'))).toMatchObject({
      generatedAt: new Date(T0).toISOString(),
    });
    const done = lines.filter((l) => l.event === 'disk_report');
    expect(done).toHaveLength(stats.runs);
    expect(String(done[0]!.msg)).toMatch(/^disk report: /);
    expect(String(done[0]!.msg)).not.toContain('\n');
    expect(lines.filter((l) => l.event === 'disk_report_skipped')).toHaveLength(stats.skipped);
    expect(lines.find((l) => l.event === 'disk_report_scheduled')).toMatchObject({
      timezone: 'UTC',
    });
  }, 15_000);

  it('counts a failed run and keeps going; stop() waits for the run in progress', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ka-sched-'));
    const config = configFor(root, fakeLogDir(root));
    const { log, lines } = captureLogger();
    let n = 0;
    const scheduler = new DiskReportScheduler({
      config,
      log,
      htmlFile: null,
      jsonFile: join(root, 'out', 'r.json'),
      collect: async () => {
        n++;
        await sleep(200);
        if (n === 1) throw new Error('statfs failed');
        return emptyReport();
      },
    });
    expect(await scheduler.runOnce()).toMatchObject({ status: 'failed' });
    const second = scheduler.runOnce();
    expect(await scheduler.runOnce()).toEqual({ status: 'skipped' });
    await scheduler.stop();
    expect(scheduler.stats.running).toBe(false);
    expect(await second).toMatchObject({ status: 'done', files: [join(root, 'out', 'r.json')] });
    expect(scheduler.stats).toMatchObject({ runs: 1, failures: 1, skipped: 1, lastError: null });
    expect(lines.find((l) => l.event === 'disk_report_failed')).toMatchObject({
      msg: 'disk report failed: statfs failed',
    });
  });

  it('refuses a bad cron expression with the config key', () => {
    const root = mkdtempSync(join(tmpdir(), 'ka-sched-'));
    const config = configFor(root, fakeLogDir(root));
    const { log } = captureLogger();
    expect(() => new DiskReportScheduler({ config, log, schedule: '61 * * * *' })).toThrow(
      ArchiveError,
    );
    expect(() => new DiskReportScheduler({ config, log, schedule: '61 * * * *' })).toThrow(
      /disk\.reportSchedule: got "61 \* \* \* \*"/,
    );
    expect(new DiskReportScheduler({ config, log }).schedule).toBe('0 * * * *');
  });
});
