// Running the CLI as an unprivileged service user (uid/gid 65534, "nobody"), as the container
// image does. Only root can switch users; and nobody must be able to reach the checkout (the
// built CLI, node_modules, the pinned Node under .cache/) — a clone inside a `mktemp -d`
// directory (mode 0700) is not reachable, so there the tests that need it say why they skip.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const NOBODY = 65534;
export const asRoot = process.getuid?.() === 0;
const ROOT = join(import.meta.dirname, '../..');
const WRAP = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];

function reachable(): string | null {
  const r = spawnSync(
    WRAP[0] as string,
    [...WRAP.slice(1), process.execPath, join(ROOT, 'bin/kafka-archive.js'), '--version'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (r.status === 0) return null;
  const lines = (r.stderr || r.error?.message || '').trim().split('\n');
  const cause = lines.find((l) => /Error|EACCES|denied/.test(l)) ?? lines[0];
  return `uid ${NOBODY} cannot run the CLI in ${ROOT} (${cause?.trim()}): give it o+x on every directory above the checkout, or clone elsewhere`;
}

/**
 * The command prefix that runs a process as the service user ([] when not root: the tests then
 * run as the current user), or the reason it cannot be done here.
 */
export const serviceUser: { wrap: string[]; unavailable: string | null } = (() => {
  if (!asRoot) return { wrap: [], unavailable: null };
  const why = reachable();
  return why === null ? { wrap: WRAP, unavailable: null } : { wrap: [], unavailable: why };
})();
