import { lstat, readdir, stat, statfs } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Filesystem measurements shared by volumes, reserves and the Kafka log-dir scanner.
 *
 * Two sizes of a file matter here and they differ a lot on Kafka hosts: the apparent size
 * (st_size, what `ls -l` shows) and the allocated size (st_blocks × 512, what `du` shows and
 * what actually uses the disk). Kafka preallocates the index files of the active segment to
 * segment.index.bytes (10 MiB) with setLength: sparse on ext4/xfs/tmpfs, fully allocated on
 * filesystems without sparse files. Budgets and reserves are about allocated bytes.
 */

/** Bytes actually allocated on disk for a file: st_blocks is always in 512-byte units. */
export function allocatedBytes(st: BigIntStats): number {
  return Number(st.blocks * 512n);
}

/** Names of common filesystem magic numbers (statfs f_type) for reports. */
const FS_TYPES: Record<string, string> = {
  ef53: 'ext2/3/4',
  '58465342': 'xfs',
  '1021994': 'tmpfs',
  '9123683e': 'btrfs',
  '2fc12fc1': 'zfs',
  '794c7630': 'overlayfs',
  '6969': 'nfs',
  ff534d42: 'cifs',
  '65735546': 'fuse',
  '5346544e': 'ntfs',
  '4d44': 'vfat',
  '858458f6': 'ramfs',
  '73717368': 'squashfs',
  f15f: 'ecryptfs',
  '2011bab0': 'exfat',
  '6a656a63': 'fakeowner',
};

export function filesystemTypeName(type: number | bigint): string {
  const hex = BigInt(type).toString(16);
  return FS_TYPES[hex] ?? `0x${hex}`;
}

export interface FilesystemSample {
  /** The directory statfs was called on (the nearest existing ancestor of the volume path). */
  path: string;
  type: string;
  sizeBytes: number;
  /** Free blocks, including those only root may use (ext4 reserves 5% by default). */
  freeBytes: number;
  /** Free blocks an unprivileged writer may use (df "Avail"). */
  availableBytes: number;
  usedBytes: number;
  /** df-style Use%: used / (used + available), so 100% means no writer can allocate. */
  usedPercent: number;
}

/** The path itself if it exists, else its nearest existing ancestor. */
export async function nearestExisting(path: string): Promise<string> {
  let cur = resolve(path);
  for (;;) {
    try {
      await stat(cur);
      return cur;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const parent = dirname(cur);
      if (parent === cur) throw err;
      cur = parent;
    }
  }
}

/** statfs of the filesystem holding `path` (or, when it does not exist yet, its nearest ancestor). */
export async function measureFilesystem(path: string): Promise<FilesystemSample> {
  const at = await nearestExisting(path);
  const s = await statfs(at, { bigint: true });
  const size = s.blocks * s.bsize;
  const free = s.bfree * s.bsize;
  const avail = s.bavail * s.bsize;
  const used = size - free;
  const usable = used + avail;
  return {
    path: at,
    type: filesystemTypeName(s.type),
    sizeBytes: Number(size),
    freeBytes: Number(free),
    availableBytes: Number(avail),
    usedBytes: Number(used),
    usedPercent: usable === 0n ? 100 : (Number(used) / Number(usable)) * 100,
  };
}

export interface DirUsage {
  files: number;
  directories: number;
  apparentBytes: number;
  allocatedBytes: number;
  /** Entries that could not be read (permissions); their bytes are not counted. */
  unreadable: number;
}

export interface WalkOptions {
  /** Entry names to leave out (and not descend into), e.g. reserve files. */
  skip?: (name: string) => boolean;
  /** Parallel stat calls per directory (default 64). */
  concurrency?: number;
}

/**
 * Apparent and allocated bytes under a directory, like `du -x --apparent-size` and `du -x` in one
 * pass: symlinks are not followed, other filesystems mounted below are not entered, hard links
 * are counted once. Files that vanish during the walk (Kafka deleting segments) are ignored. A
 * missing directory has zero usage.
 */
export async function measureUsage(root: string, options: WalkOptions = {}): Promise<DirUsage> {
  const usage: DirUsage = {
    files: 0,
    directories: 0,
    apparentBytes: 0,
    allocatedBytes: 0,
    unreadable: 0,
  };
  let rootStat: BigIntStats;
  try {
    rootStat = await lstat(root, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return usage;
    throw err;
  }
  const seenInodes = new Set<bigint>();
  const concurrency = options.concurrency ?? 64;

  const visit = async (path: string, st: BigIntStats): Promise<void> => {
    if (st.dev !== rootStat.dev) return;
    if (st.isDirectory()) {
      usage.directories++;
      usage.allocatedBytes += allocatedBytes(st);
      let names: string[];
      try {
        names = await readdir(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code === 'EACCES' || code === 'EPERM') {
          usage.unreadable++;
          return;
        }
        throw err;
      }
      const children = names.filter((n) => options.skip?.(n) !== true);
      for (let i = 0; i < children.length; i += concurrency) {
        await Promise.all(
          children.slice(i, i + concurrency).map(async (name) => {
            const child = join(path, name);
            let cst: BigIntStats;
            try {
              cst = await lstat(child, { bigint: true });
            } catch (err) {
              const code = (err as NodeJS.ErrnoException).code;
              if (code === 'ENOENT') return;
              if (code === 'EACCES' || code === 'EPERM') {
                usage.unreadable++;
                return;
              }
              throw err;
            }
            await visit(child, cst);
          }),
        );
      }
      return;
    }
    if (st.nlink > 1n) {
      if (seenInodes.has(st.ino)) return;
      seenInodes.add(st.ino);
    }
    usage.files++;
    usage.apparentBytes += Number(st.size);
    usage.allocatedBytes += allocatedBytes(st);
  };

  await visit(root, rootStat);
  return usage;
}
