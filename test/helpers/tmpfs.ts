import { execFileSync } from 'node:child_process';

/**
 * Mounts a tmpfs of `size` (e.g. "64m") on `dir`: a small real filesystem that fault tests can
 * fill. Returns null when mounted, else why the mount was refused (tests then skip, saying so).
 */
export function mountTmpfs(dir: string, size: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
  }
}

export function unmountTmpfs(dir: string): void {
  execFileSync('umount', ['-l', dir]);
}
