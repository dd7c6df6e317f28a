import { execFile } from 'node:child_process';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { ArchiveError, ErrorCodes, errnoCode } from '../errors.js';
import type { Logger } from '../log/index.js';
import { formatBytes } from '../config/index.js';
import { fsyncDir, pidAlive, readdirOrEmpty } from '../util/fs.js';
import { allocatedBytes, measureFilesystem } from './fs-stats.js';

/**
 * Reserve (ballast) blocks: N files per volume, named .kafka-archive-reserve-<n> (n = 1..N),
 * allocated for real so that deleting one gives back that much space at once — the escape hatch
 * from the disk-full / unclean-restart / re-index death spiral. They are released one at a time,
 * highest n first, so the hatch works N times, and re-armed when space returns.
 *
 * A reserve counts as armed only when st_blocks × 512 >= its size: a sparse file (truncate -s)
 * holds no space and is not a reserve. Files are allocated under a temporary name, verified,
 * fsync'd and renamed into place, so a half-written file never looks armed.
 */

const execFileAsync = promisify(execFile);

export const RESERVE_PREFIX = '.kafka-archive-reserve-';
const NAME_RE = /^\.kafka-archive-reserve-(\d+)$/;
const TMP_RE = /^\.kafka-archive-reserve-(\d+)\.tmp-(\d+)$/;
const CHUNK = 1024 * 1024;

export interface ReserveSpec {
  /** Directory holding the files, on the volume it protects. */
  dir: string;
  count: number;
  sizeBytes: number;
}

export interface ReserveFile {
  n: number;
  path: string;
  present: boolean;
  apparentBytes: number;
  allocatedBytes: number;
  /** present and st_blocks × 512 >= sizeBytes */
  armed: boolean;
}

export interface ReserveStatus {
  dir: string;
  count: number;
  sizeBytes: number;
  armed: number;
  armedBytes: number;
  /** One entry per n = 1..count. */
  files: ReserveFile[];
  /** Reserve files with n > count (left from a larger count); not counted, released first. */
  extra: ReserveFile[];
  /** Temporary files of an allocation that did not finish. */
  partial: string[];
}

export function reserveFileName(n: number): string {
  return `${RESERVE_PREFIX}${n}`;
}

/** Reserve files and their temporaries, which volume usage leaves out. */
export function isReserveFileName(name: string): boolean {
  return name.startsWith(RESERVE_PREFIX);
}

async function describeFile(n: number, path: string, sizeBytes: number): Promise<ReserveFile> {
  try {
    const st = await stat(path, { bigint: true });
    const allocated = allocatedBytes(st);
    return {
      n,
      path,
      present: true,
      apparentBytes: Number(st.size),
      allocatedBytes: allocated,
      armed: st.isFile() && allocated >= sizeBytes,
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { n, path, present: false, apparentBytes: 0, allocatedBytes: 0, armed: false };
  }
}

export async function reserveStatus(spec: ReserveSpec): Promise<ReserveStatus> {
  const names = await readdirOrEmpty(spec.dir);
  const files: ReserveFile[] = [];
  for (let n = 1; n <= spec.count; n++)
    files.push(await describeFile(n, join(spec.dir, reserveFileName(n)), spec.sizeBytes));
  const extra: ReserveFile[] = [];
  const partial: string[] = [];
  for (const name of names) {
    const m = NAME_RE.exec(name);
    if (m !== null && Number(m[1]) > spec.count)
      extra.push(await describeFile(Number(m[1]), join(spec.dir, name), spec.sizeBytes));
    if (TMP_RE.test(name)) partial.push(join(spec.dir, name));
  }
  extra.sort((a, b) => a.n - b.n);
  const armedFiles = files.filter((f) => f.armed);
  return {
    dir: spec.dir,
    count: spec.count,
    sizeBytes: spec.sizeBytes,
    armed: armedFiles.length,
    armedBytes: armedFiles.reduce((s, f) => s + f.allocatedBytes, 0),
    files,
    extra,
    partial,
  };
}

export type AllocationMethod = 'fallocate' | 'write';

function noSpace(err: unknown): boolean {
  return (
    errnoCode(err) === 'ENOSPC' ||
    /No space left on device/i.test(String((err as { stderr?: unknown }).stderr ?? ''))
  );
}

async function writeZeros(path: string, sizeBytes: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    const zeros = Buffer.alloc(Math.min(CHUNK, sizeBytes));
    for (let done = 0; done < sizeBytes;) {
      const len = Math.min(zeros.length, sizeBytes - done);
      const { bytesWritten } = await fh.write(zeros, 0, len, done);
      done += bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Allocate one file of exactly sizeBytes for real: `fallocate -l` (util-linux) when it is there
 * and the filesystem supports it, else zeros written in 1 MiB chunks and fsync'd. Then verify
 * st_blocks: a filesystem that compresses or deduplicates zeros would leave a hollow file, which
 * is removed and reported. On failure nothing is left behind.
 */
export async function allocateFile(
  path: string,
  sizeBytes: number,
  method: 'auto' | AllocationMethod = 'auto',
): Promise<AllocationMethod> {
  let used: AllocationMethod = 'write';
  try {
    if (method !== 'write') {
      try {
        await execFileAsync('fallocate', ['-l', String(sizeBytes), path]);
        const fh = await open(path, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        used = 'fallocate';
      } catch (err) {
        if (noSpace(err) || method === 'fallocate') throw err;
        // fallocate(1) missing, or the filesystem does not support fallocate(2): write zeros.
        await unlink(path).catch(() => undefined);
      }
    }
    if (used === 'write') await writeZeros(path, sizeBytes);
    const st = await stat(path, { bigint: true });
    if (allocatedBytes(st) < sizeBytes) {
      throw new ArchiveError(
        ErrorCodes.RESERVE_NOT_ALLOCATED,
        `reserve file ${path} has ${formatBytes(allocatedBytes(st))} allocated after ${used}, less than its size ${formatBytes(sizeBytes)} (does the filesystem compress or deduplicate zeros?); it would not free space when released`,
      );
    }
    return used;
  } catch (err) {
    await unlink(path).catch(() => undefined);
    if (err instanceof ArchiveError) throw err;
    if (noSpace(err)) {
      throw new ArchiveError(
        ErrorCodes.RESERVE_NO_SPACE,
        `no space to allocate ${formatBytes(sizeBytes)} for reserve ${path}`,
        { cause: err, retryable: true },
      );
    }
    const msg = (err as { stderr?: unknown }).stderr ?? (err as Error).message;
    throw new ArchiveError(
      ErrorCodes.RESERVE_NOT_ALLOCATED,
      `cannot allocate reserve ${path}: ${String(msg).trim()}`,
      { cause: err },
    );
  }
}

export interface ReleaseResult {
  path: string;
  n: number;
  freedBytes: number;
  availableBeforeBytes: number;
  availableAfterBytes: number;
  /** Armed reserves left on this volume. */
  remainingArmed: number;
}

/**
 * Delete one armed reserve, the highest n first (left-over files above count before those), and
 * return how much space came back. Throws RESERVE_NONE_ARMED when there is nothing to release.
 */
export async function releaseReserve(spec: ReserveSpec, log?: Logger): Promise<ReleaseResult> {
  const status = await reserveStatus(spec);
  const candidates = [...status.extra, ...status.files].filter((f) => f.armed);
  const victim = candidates.sort((a, b) => b.n - a.n)[0];
  if (victim === undefined) {
    throw new ArchiveError(
      ErrorCodes.RESERVE_NONE_ARMED,
      `no armed reserve block in ${spec.dir} (0 of ${spec.count} armed): nothing to release; free space by removing data, then run "kafka-archive reserve rearm"`,
    );
  }
  const before = await measureFilesystem(spec.dir);
  await unlink(victim.path);
  await fsyncDir(spec.dir);
  const after = await measureFilesystem(spec.dir);
  const result: ReleaseResult = {
    path: victim.path,
    n: victim.n,
    freedBytes: victim.allocatedBytes,
    availableBeforeBytes: before.availableBytes,
    availableAfterBytes: after.availableBytes,
    remainingArmed: candidates.length - 1,
  };
  log?.warn({ event: 'reserve_released', ...result, dir: spec.dir }, 'reserve block released');
  return result;
}

export interface RearmRefusal {
  n: number;
  reason: string;
  availableBytes: number;
  /** Available bytes that must remain after re-arming (the flood watermark's). */
  minAvailableBytes: number;
}

export interface RearmResult {
  dir: string;
  /** Newly armed this call. */
  armed: Array<{ n: number; path: string; method: AllocationMethod }>;
  refused: RearmRefusal[];
  status: ReserveStatus;
}

export interface RearmOptions {
  /** Available bytes that must remain on the filesystem after each reserve is armed. */
  minAvailableBytes: number;
  method?: 'auto' | AllocationMethod;
  log?: Logger;
}

/**
 * Re-create missing (or hollow) reserves, lowest n first, each only if the space available after
 * allocating it stays at or above minAvailableBytes. Already-armed reserves are left alone; the
 * temporaries of an interrupted allocation by a process that is gone are removed.
 */
export async function rearmReserves(
  spec: ReserveSpec,
  options: RearmOptions,
): Promise<RearmResult> {
  await mkdir(spec.dir, { recursive: true });
  const before = await reserveStatus(spec);
  for (const tmp of before.partial) {
    const pid = Number(TMP_RE.exec(basename(tmp))?.[2]);
    if (pid === process.pid || !pidAlive(pid)) await unlink(tmp).catch(() => undefined);
  }
  const armed: RearmResult['armed'] = [];
  const refused: RearmRefusal[] = [];
  for (const file of before.files) {
    if (file.armed) continue;
    const fs = await measureFilesystem(spec.dir);
    // A hollow file at this name is replaced; the blocks it holds come back.
    const after = fs.availableBytes + file.allocatedBytes - spec.sizeBytes;
    if (after < options.minAvailableBytes) {
      refused.push({
        n: file.n,
        reason: `arming ${formatBytes(spec.sizeBytes)} would leave ${formatBytes(Math.max(0, after))} available, below ${formatBytes(options.minAvailableBytes)} (the flood watermark)`,
        availableBytes: fs.availableBytes,
        minAvailableBytes: options.minAvailableBytes,
      });
      continue;
    }
    const tmp = join(spec.dir, `${reserveFileName(file.n)}.tmp-${process.pid}`);
    let method: AllocationMethod;
    try {
      method = await allocateFile(tmp, spec.sizeBytes, options.method);
    } catch (err) {
      if (err instanceof ArchiveError && err.code === ErrorCodes.RESERVE_NO_SPACE) {
        refused.push({
          n: file.n,
          reason: err.message,
          availableBytes: fs.availableBytes,
          minAvailableBytes: options.minAvailableBytes,
        });
        continue;
      }
      throw err;
    }
    await rename(tmp, file.path);
    await fsyncDir(spec.dir);
    armed.push({ n: file.n, path: file.path, method });
    options.log?.info(
      { event: 'reserve_armed', path: file.path, n: file.n, bytes: spec.sizeBytes, method },
      'reserve block armed',
    );
  }
  for (const r of refused) {
    options.log?.warn(
      { event: 'reserve_rearm_refused', dir: spec.dir, ...r },
      'reserve block not re-armed: not enough space',
    );
  }
  return { dir: spec.dir, armed, refused, status: await reserveStatus(spec) };
}
