// A multi-broker KRaft cluster on 127.0.0.1 for integration tests (scripts/kafka.sh
// start-cluster): every node broker+controller, node i's log.dirs at the path the test gives
// (a small tmpfs per broker, see clusterLogDirs), its metadata log beside it (not on log.dirs).
// One cluster per test file: it takes 15-20 s to start on a loaded 2-core machine.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createKafkajsClient, createLogger, loadConfig } from '../../src/index.js';
import { mountTmpfs, unmountTmpfs } from './tmpfs.js';

const ROOT = join(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/kafka.sh');
const run = promisify(execFile);

export interface ClusterBroker {
  id: number;
  /** host:port of its PLAINTEXT listener. */
  address: string;
  logDir: string;
  serverProperties: string;
  /** The node's directory (server.log, pid, meta/). */
  dir: string;
}

export interface TestCluster {
  dir: string;
  /** Every broker's address (the bootstrap list). */
  bootstrap: string[];
  brokers: ClusterBroker[];
  /** How long start-cluster plus the registration check took. */
  startMs: number;
  /** kill -9 one node (fault tests). */
  killBroker(id: number): void;
  /** SIGTERM every node in parallel; then unmounts the tmpfs log.dirs made by clusterLogDirs. */
  stop(): Promise<void>;
}

export interface ClusterLogDirs {
  logDirs: string[];
  /** Why a tmpfs could not be mounted (tests then skip, saying so), else null. */
  refused: string | null;
  unmount(): void;
}

/** One tmpfs per broker under `root`, of the given sizes (e.g. ['40m', '56m', '72m']). */
export function clusterLogDirs(root: string, sizes: string[]): ClusterLogDirs {
  const mounted: string[] = [];
  const unmount = () => {
    for (const d of mounted.splice(0)) {
      try {
        unmountTmpfs(d);
      } catch {
        // already gone
      }
    }
  };
  const logDirs: string[] = [];
  for (const [i, size] of sizes.entries()) {
    const d = join(root, `logdir-${i + 1}`);
    mkdirSync(d, { recursive: true });
    const refused = mountTmpfs(d, size);
    if (refused !== null) {
      unmount();
      return { logDirs: [], refused, unmount };
    }
    mounted.push(d);
    logDirs.push(d);
  }
  return { logDirs, refused: null, unmount };
}

/**
 * Starts `brokers` nodes (formatted and started in parallel) and resolves once each logged
 * "Kafka Server started" and the cluster's metadata lists every broker, each answering
 * DescribeLogDirs.
 */
export async function startCluster(options: {
  version: string;
  dir: string;
  brokers: number;
  logDirs?: string[];
  unmount?: () => void;
}): Promise<TestCluster> {
  const t0 = Date.now();
  const { dir, brokers: n } = options;
  try {
    await run(
      'bash',
      [SCRIPT, 'start-cluster', options.version, dir, String(n), ...(options.logDirs ?? [])],
      {
        timeout: 300_000,
      },
    );
  } catch (err) {
    await run('bash', [SCRIPT, 'stop-cluster', dir]).catch(() => undefined);
    options.unmount?.();
    throw new Error(`start-cluster failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
  const brokers = readFileSync(join(dir, 'nodes'), 'utf8')
    .trim()
    .split('\n')
    .map((line): ClusterBroker => {
      const [id, address, logDir] = line.split(' ') as [string, string, string];
      const nodeDir = join(dir, `node-${id}`);
      return {
        id: Number(id),
        address,
        logDir,
        serverProperties: join(nodeDir, 'server.properties'),
        dir: nodeDir,
      };
    });
  const bootstrap = brokers.map((b) => b.address);
  await waitForBrokers(bootstrap, n);
  return {
    dir,
    bootstrap,
    brokers,
    startMs: Date.now() - t0,
    killBroker(id) {
      execFileSync('bash', [SCRIPT, 'kill-broker', dir, String(id)]);
    },
    async stop() {
      await run('bash', [SCRIPT, 'stop-cluster', dir], { timeout: 120_000 }).catch(() => undefined);
      options.unmount?.();
    },
  };
}

/** Every broker in the metadata and answering DescribeLogDirs (the cluster is usable). */
async function waitForBrokers(bootstrap: string[], n: number): Promise<void> {
  const log = createLogger({ level: 'silent' });
  const client = createKafkajsClient({ ...loadConfig({ env: {} }).kafka, brokers: bootstrap }, log);
  const deadline = Date.now() + 60_000;
  let last = '';
  for (let wait = 50; ; wait = Math.min(500, wait * 2)) {
    try {
      const admin = await client.admin();
      try {
        const dirs = await admin.describeLogDirs();
        const ok = new Set(dirs.filter((d) => d.error === null).map((d) => d.brokerId));
        if (ok.size >= n) return;
        last = `${ok.size} of ${n} brokers answer`;
      } finally {
        await admin.disconnect();
      }
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`cluster not ready after 60 s: ${last}`);
    await new Promise((r) => setTimeout(r, wait));
  }
}
