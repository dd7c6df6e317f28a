#!/usr/bin/env node
// Static checks for docker-compose.yml and the Dockerfile, runnable without a Docker engine:
//   node scripts/check-compose.mjs            (needs `npm run build`: the config loader is dist/)
// The checks themselves are in scripts/compose-checks.mjs (shared with test/unit/compose.test.ts).
// Then `docker compose config -q` runs when the compose CLI is available (skipped otherwise).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  PREFIX,
  checkCompose,
  checkDockerfile,
  dockerfileArchiveEnv,
  dockerfileInstructions,
  environmentOf,
  interpolate,
} from './compose-checks.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPOSE = `${ROOT}docker-compose.yml`;
const DOCKERFILE = `${ROOT}Dockerfile`;

function composeCli() {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const r = spawnSync(cmd[0], [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (r.status === 0) return cmd;
  }
  return null;
}

async function main() {
  const problems = [];
  const notes = [];
  const raw = parse(readFileSync(COMPOSE, 'utf8'), { uniqueKeys: true });
  const doc = interpolate(raw, notes, 'docker-compose.yml');

  const dockerfile = readFileSync(DOCKERFILE, 'utf8');
  problems.push(...checkDockerfile(dockerfile));

  const built = new URL('../dist/config/index.js', import.meta.url);
  if (!existsSync(built)) {
    console.error('check-compose: dist/ is missing; run `npm run build` first');
    process.exit(2);
  }
  const { loadConfig, envOverrides } = await import(built.href);
  const dockerfileEnv = dockerfileArchiveEnv(dockerfileInstructions(dockerfile));
  problems.push(...checkCompose(doc, { loadConfig, envOverrides, dockerfileEnv }));

  for (const n of notes) console.log(`note: ${n}`);
  if (problems.length > 0) {
    for (const p of problems) console.error(`problem: ${p}`);
    console.error(`check-compose: ${problems.length} problem(s)`);
    process.exit(1);
  }
  console.log('check-compose: structure OK (services, depends_on, volumes, ports, Dockerfile)');
  console.log(
    `check-compose: archiver config OK: ${Object.keys(environmentOf(doc.services.archiver))
      .filter((k) => k.startsWith(PREFIX))
      .join(', ')}`,
  );

  const cli = composeCli();
  if (cli === null) {
    console.log('check-compose: `docker compose config -q` skipped (no compose CLI here)');
    return;
  }
  const r = spawnSync(cli[0], [...cli.slice(1), '-f', COMPOSE, 'config', '-q'], {
    encoding: 'utf8',
    cwd: ROOT,
  });
  if (r.status !== 0) {
    console.error(`check-compose: \`${cli.join(' ')} config -q\` failed:\n${r.stderr}`);
    process.exit(1);
  }
  console.log(`check-compose: \`${cli.join(' ')} config -q\` OK`);
}

await main();
