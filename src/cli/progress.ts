import cliProgress from 'cli-progress';
import { formatBytes } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { RestoreProgress } from '../restore/index.js';

/**
 * Restore progress: a bar with rate and ETA on a terminal (cli-progress, on stderr), else one
 * log line per interval (and one at the end).
 */
export interface ProgressView {
  update(p: RestoreProgress): void;
  stop(p: RestoreProgress | null): void;
}

export function progressView(options: {
  tty: boolean;
  log: Logger;
  intervalMs: number;
}): ProgressView {
  const t0 = performance.now();
  let startRecords = -1;
  const rate = (p: RestoreProgress) => {
    const s = (performance.now() - t0) / 1000;
    return s > 0 ? (p.records - Math.max(0, startRecords)) / s : 0;
  };
  if (options.tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format:
          'restore {job} [{bar}] {percentage}% | {value}/{total} records | {bytes} | {rate} rec/s | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        if (startRecords < 0) startRecords = p.records;
        const payload = {
          job: p.jobId,
          bytes: formatBytes(p.recordBytes),
          rate: Math.round(rate(p)),
        };
        if (!started) {
          bar.start(Math.max(p.totalRecords, 1), p.records, payload);
          started = true;
        } else bar.update(p.records, payload);
      },
      stop(p) {
        if (started && p !== null) bar.update(p.records);
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  const line = (p: RestoreProgress, msg: string) =>
    options.log.info(
      {
        event: 'restore_progress',
        job: p.jobId,
        records: p.records,
        totalRecords: p.totalRecords,
        bytes: p.recordBytes,
        transactions: p.transactions,
        partitionsDone: p.partitionsDone,
        partitions: p.partitions,
        recordsPerSecond: Math.round(rate(p)),
      },
      msg,
    );
  return {
    update(p) {
      if (startRecords < 0) startRecords = p.records;
      const now = performance.now();
      if (now - last < options.intervalMs) return;
      last = now;
      const pct = p.totalRecords > 0 ? ((100 * p.records) / p.totalRecords).toFixed(1) : '100';
      line(
        p,
        `restore ${p.jobId}: ${p.records}/${p.totalRecords} records (${pct}%), ${formatBytes(p.recordBytes)}`,
      );
    },
    stop(p) {
      if (p !== null) line(p, `restore ${p.jobId}: ${p.records}/${p.totalRecords} records`);
    },
  };
}
