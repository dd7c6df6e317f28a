/** The machine around a benchmark: load average, whole-machine CPU, the local broker's pid. */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';

export const loadNote = (): string =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;

/** /proc/stat: busy and total jiffies of the whole machine (Linux), to see outside load. */
export async function machineCpu(): Promise<{ busy: number; total: number } | null> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] as string;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** The pid of the process listening on the first broker's port (a local broker), if visible. */
export function brokerPid(brokers: string[]): number | null {
  const port = brokers[0]?.split(':')[1];
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`]).toString();
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
