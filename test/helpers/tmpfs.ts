import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

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

/**
 * What occupies a mount, for a failing test's output: usage, every file under it with its size,
 * and every process's open descriptor or memory mapping into it (a deleted file still held open
 * or mapped keeps its space).
 */
export function describeMountUsage(dir: string): string {
  const out: string[] = [];
  const s = statfsSync(dir);
  out.push(
    `${dir}: ${((s.blocks - s.bfree) * s.bsize).toLocaleString('en-US')} of ${(s.blocks * s.bsize).toLocaleString('en-US')} bytes used`,
  );
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        try {
          out.push(`  file ${p} ${lstatSync(p).size.toLocaleString('en-US')} bytes`);
        } catch {
          out.push(`  file ${p} (gone)`);
        }
      }
    }
  };
  walk(dir);
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120);
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        let target = '';
        try {
          target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        if (target.startsWith(dir)) out.push(`  pid ${pid} (${cmd}) fd ${fd} -> ${target}`);
      }
      for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
        if (line.includes(dir)) out.push(`  pid ${pid} (${cmd}) maps ${line}`);
      }
    } catch {
      // the process ended, or its entries are not readable
    }
  }
  return out.join('\n');
}
