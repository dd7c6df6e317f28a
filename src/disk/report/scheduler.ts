import { join, resolve } from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import type { Config } from '../../config/index.js';
import { ArchiveError, codeOf, ErrorCodes } from '../../errors.js';
import type { Logger } from '../../log/index.js';
import {
  collectDiskReport,
  summarizeDiskReport,
  type DiskReport,
  type DiskReportOptions,
} from './collect.js';
import { writeDiskReportFiles } from './write.js';

/**
 * The disk report on a schedule (node-cron, always UTC): each run collects the report (which
 * records a history sample), writes report.html and report.json, and logs a one-line summary.
 * Runs never overlap: a tick that comes while the previous run is still going is skipped (and
 * counted, and logged). Used by the service; `disk report` is the on-demand form.
 */

export interface DiskReportSchedulerOptions {
  config: Config;
  log: Logger;
  /** Cron expression, 5 or 6 fields (with seconds), UTC (default disk.reportSchedule). */
  schedule?: string;
  /** Default <disk.historyDir>/report.html; null: do not write. */
  htmlFile?: string | null;
  /** Default <disk.historyDir>/report.json; null: do not write. */
  jsonFile?: string | null;
  report?: DiskReportOptions;
  /** What a run collects (default collectDiskReport(config, report)); for tests. */
  collect?: () => Promise<DiskReport>;
}

export interface DiskReportSchedulerStats {
  runs: number;
  skipped: number;
  failures: number;
  running: boolean;
  lastStartedAt: string | null;
  lastFinishedAt: string | null;
  lastDurationMs: number | null;
  lastSummary: string | null;
  lastError: string | null;
}

export type DiskReportRun =
  | { status: 'done'; summary: string; files: string[]; durationMs: number }
  | { status: 'skipped' }
  | { status: 'failed'; error: Error };

export class DiskReportScheduler {
  readonly schedule: string;
  readonly htmlFile: string | null;
  readonly jsonFile: string | null;
  private task: ScheduledTask | null = null;
  private current: Promise<DiskReportRun> | null = null;
  private readonly stats_: DiskReportSchedulerStats = {
    runs: 0,
    skipped: 0,
    failures: 0,
    running: false,
    lastStartedAt: null,
    lastFinishedAt: null,
    lastDurationMs: null,
    lastSummary: null,
    lastError: null,
  };

  /** The last report written (its numbers are also exported as Prometheus gauges). */
  lastReport: DiskReport | null = null;

  constructor(private readonly options: DiskReportSchedulerOptions) {
    const disk = options.config.disk;
    this.schedule = (options.schedule ?? disk.reportSchedule).trim();
    const dir = resolve(disk.historyDir);
    this.htmlFile =
      options.htmlFile === null ? null : resolve(options.htmlFile ?? join(dir, 'report.html'));
    this.jsonFile =
      options.jsonFile === null ? null : resolve(options.jsonFile ?? join(dir, 'report.json'));
    const check = cron.validateDetailed(this.schedule);
    if (!check.valid) {
      throw new ArchiveError(
        ErrorCodes.CONFIG_INVALID,
        `config error: disk.reportSchedule: got ${JSON.stringify(this.schedule)}: ${check.errors.map((e) => e.message).join('; ') || 'not a cron expression'}`,
      );
    }
  }

  get stats(): DiskReportSchedulerStats {
    return { ...this.stats_ };
  }

  /** Start ticking (idempotent). */
  start(): void {
    if (this.task !== null) return;
    this.task = cron.createTask(this.schedule, () => this.runOnce().then(() => undefined), {
      timezone: 'UTC',
      name: 'disk-report',
      // Our own guard skips (and counts) overlapping ticks; node-cron's would hide them.
      noOverlap: false,
    });
    void this.task.start();
    this.options.log.info(
      {
        event: 'disk_report_scheduled',
        schedule: this.schedule,
        timezone: 'UTC',
        next: this.task.getNextRun()?.toISOString() ?? null,
      },
      `disk report scheduled: "${this.schedule}" (UTC)`,
    );
  }

  /** Stop ticking and wait for a run in progress. */
  async stop(): Promise<void> {
    const task = this.task;
    this.task = null;
    if (task !== null) {
      await task.stop();
      await task.destroy();
    }
    if (this.current !== null) await this.current;
  }

  /** One run now, unless one is going (then it is skipped). */
  runOnce(): Promise<DiskReportRun> {
    if (this.current !== null) {
      this.stats_.skipped++;
      this.options.log.warn(
        { event: 'disk_report_skipped', startedAt: this.stats_.lastStartedAt },
        'disk report skipped: the previous run is still going',
      );
      return Promise.resolve({ status: 'skipped' });
    }
    const run = this.execute().finally(() => {
      this.current = null;
      this.stats_.running = false;
    });
    this.current = run;
    return run;
  }

  private async execute(): Promise<DiskReportRun> {
    const started = Date.now();
    this.stats_.running = true;
    this.stats_.lastStartedAt = new Date(started).toISOString();
    try {
      const report = await (
        this.options.collect ?? (() => collectDiskReport(this.options.config, this.options.report))
      )();
      const files = await writeDiskReportFiles(report, {
        ...(this.htmlFile !== null ? { htmlFile: this.htmlFile } : {}),
        ...(this.jsonFile !== null ? { jsonFile: this.jsonFile } : {}),
      });
      const summary = summarizeDiskReport(report);
      this.lastReport = report;
      const durationMs = Date.now() - started;
      this.stats_.runs++;
      this.stats_.lastSummary = summary;
      this.stats_.lastError = null;
      this.stats_.lastDurationMs = durationMs;
      this.stats_.lastFinishedAt = new Date().toISOString();
      this.options.log.info({ event: 'disk_report', durationMs, files }, summary);
      return { status: 'done', summary, files, durationMs };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.stats_.failures++;
      this.stats_.lastError = error.message;
      this.stats_.lastFinishedAt = new Date().toISOString();
      this.options.log.error(
        { event: 'disk_report_failed', code: codeOf(err), err: error },
        `disk report failed: ${error.message}`,
      );
      return { status: 'failed', error };
    }
  }
}
