import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ArchiveError, ErrorCodes } from '../errors.js';
import { fsyncDir, pidAlive } from '../util/fs.js';
import type { CanonicalSpec } from './spec.js';
import type { Gap, JobStatus, PartitionPlan, TargetPlan } from './types.js';

/**
 * A job's directory `<restore.stateDir>/<job id>/`:
 *   job.json          spec, frozen plan, targets, status (rewritten through a temporary + rename)
 *   offset-map.jsonl  original -> new offsets (offset-map.ts)
 *   lock              pid@host of the process running the job
 */
export interface JobState {
  version: 1;
  id: string;
  spec: CanonicalSpec;
  status: JobStatus;
  createdAt: string;
  updatedAt: string;
  groupId: string;
  plan: PartitionPlan[];
  gaps: Gap[];
  targets: TargetPlan[];
  /** Totals of the last run that ended (done or failed). */
  result: JobResult | null;
  error: { code: string; message: string } | null;
}

export interface JobResult {
  records: number;
  recordBytes: number;
  transactions: number;
  seconds: number;
  bytesRead: number;
}

const bigKeys = new Set(['startOffset', 'endOffset', 'from', 'to']);

function encode(state: JobState): string {
  return JSON.stringify(state, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

function decode(text: string): JobState {
  return JSON.parse(text, (k, v: unknown) =>
    bigKeys.has(k) && typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : v,
  ) as JobState;
}

export class JobStore {
  constructor(readonly stateDir: string) {}

  dir(id: string): string {
    return join(this.stateDir, id);
  }

  mapPath(id: string): string {
    return join(this.dir(id), 'offset-map.jsonl');
  }

  async load(id: string): Promise<JobState | null> {
    let text: string;
    try {
      text = await readFile(join(this.dir(id), 'job.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return decode(text);
  }

  async require(id: string): Promise<JobState> {
    const s = await this.load(id);
    if (s === null) {
      const known = await this.list().catch(() => []);
      throw new ArchiveError(
        ErrorCodes.RESTORE_JOB_UNKNOWN,
        `no restore job ${id} in ${this.stateDir}${known.length > 0 ? `; jobs there: ${known.slice(0, 20).join(', ')}` : ''}`,
      );
    }
    return s;
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.stateDir).catch(() => [] as string[]);
    const out: string[] = [];
    for (const n of names.sort()) if ((await this.load(n).catch(() => null)) !== null) out.push(n);
    return out;
  }

  async save(state: JobState): Promise<void> {
    const dir = this.dir(state.id);
    await mkdir(dir, { recursive: true });
    state.updatedAt = new Date().toISOString();
    const path = join(dir, 'job.json');
    const tmp = `${path}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(`${encode(state)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await fsyncDir(dir);
  }

  /** Who holds the job's lock now (pid@host), or null: a dead holder on this host holds nothing. */
  async holder(id: string): Promise<string | null> {
    const holder = (await readFile(join(this.dir(id), 'lock'), 'utf8').catch(() => '')).trim();
    if (holder === '') return null;
    const [pidText, host] = holder.split('@');
    const pid = Number(pidText);
    return host === hostname() && Number.isInteger(pid) && !pidAlive(pid) ? null : holder;
  }

  /** Takes the job's lock: one process runs a job at a time (a dead holder's lock is taken over). */
  async lock(id: string): Promise<() => Promise<void>> {
    const dir = this.dir(id);
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'lock');
    const me = `${process.pid}@${hostname()}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(path, 'wx');
        await fh.writeFile(me);
        await fh.close();
        return () => unlink(path).catch(() => undefined);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = (await readFile(path, 'utf8').catch(() => '')).trim();
      const [pidText, host] = holder.split('@');
      const pid = Number(pidText);
      if (holder === '' || (host === hostname() && Number.isInteger(pid) && !pidAlive(pid))) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      throw new ArchiveError(
        ErrorCodes.RESTORE_JOB_LOCKED,
        `restore job ${id} is being run by another process (${holder}); wait for it or stop it`,
        { details: { holder } },
      );
    }
    throw new ArchiveError(ErrorCodes.RESTORE_JOB_LOCKED, `could not take the job lock ${path}`);
  }
}
