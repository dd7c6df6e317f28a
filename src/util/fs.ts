import { open, readdir } from 'node:fs/promises';
import { errnoCode } from '../errors.js';

/**
 * fsync a directory, so a rename, link or unlink in it survives a power loss. Strict by default.
 * `tolerant`: a directory that is gone is fine (nothing in it to make durable), and so is a
 * filesystem that cannot fsync directories (EINVAL/EISDIR/EBADF; the files were synced).
 */
export async function fsyncDir(dir: string, options: { tolerant?: boolean } = {}): Promise<void> {
  const tolerant = options.tolerant === true;
  let fh;
  try {
    fh = await open(dir, 'r');
  } catch (err) {
    if (tolerant && errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  try {
    await fh.sync();
  } catch (err) {
    const code = errnoCode(err);
    if (!tolerant || (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EBADF')) throw err;
  } finally {
    await fh.close();
  }
}

/** The names in a directory, or none when it does not exist. */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Whether a process with this pid exists on this host (EPERM: it exists, owned by another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
