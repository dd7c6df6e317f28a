// The CLI run the way the image runs it (Dockerfile): as a non-root user, from a read-only
// working directory, with only the image's environment (KAFKA_ARCHIVE_DATA_DIR on the volume)
// plus the stack's settings (brokers, topics, the S3 bucket, as docker-compose.yml sets them).
// It must start, reach readiness, archive and tier, stop cleanly, and write only under the data
// root; a "re-created container" (a new process on the same data root) still sees the archive.
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKafkajsClient, createLogger, loadConfig } from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';
import { logTail, metricOf, serverUrl, spawnArchiver, stopProcess } from '../helpers/process.js';
import { asRoot, NOBODY, serviceUser } from '../helpers/service-user.js';

const kafkaInfo = inject('kafka');
const s3 = inject('s3');
const BIN = join(import.meta.dirname, '../../bin/kafka-archive.js');
const root = mkdtempSync(join(tmpdir(), 'ka-container-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under a directory (relative paths), with its owner. */
function walk(dir: string, base = dir): Array<{ path: string; uid: number }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    const rel = p.slice(base.length + 1);
    const me = { path: rel, uid: statSync(p).uid };
    return d.isDirectory() ? [me, ...walk(p, base)] : [me];
  });
}

/** Files of `uid` in the world-writable places a non-root process could write besides its own. */
function strayFiles(uid: number, except: string): string[] {
  const out: string[] = [];
  for (const top of ['/tmp', '/var/tmp', '/dev/shm']) {
    try {
      const found = execFileSync('find', [top, '-xdev', '-user', String(uid)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      for (const f of found.split('\n')) if (f !== '' && !f.startsWith(except)) out.push(f);
    } catch (err) {
      // find exits 1 when some directory is unreadable; what it printed still counts
      const stdout = (err as { stdout?: string }).stdout ?? '';
      for (const f of stdout.split('\n')) if (f !== '' && !f.startsWith(except)) out.push(f);
    }
  }
  return out;
}

describe(`the CLI as the container runs it, on Kafka ${kafkaInfo.version}`, () => {
  if (serviceUser.unavailable !== null)
    console.log(`[container test] skipped: ${serviceUser.unavailable}`);
  it.skipIf(serviceUser.unavailable !== null)(
    'starts as a non-root user in a read-only directory, archives and tiers, writes only under the data root',
    async () => {
      chmodSync(root, 0o755);
      const app = join(root, 'app'); // like /app: root-owned, not writable by the service user
      mkdirSync(app, { mode: 0o555 });
      const data = join(root, 'data'); // like the volume /var/lib/kafka-archive
      mkdirSync(data);
      if (asRoot) chownSync(data, NOBODY, NOBODY);
      else console.log('[container test] not root: runs as the current user (no setpriv)');
      const topic = `container-${Math.random().toString(36).slice(2, 8)}`;
      const env = {
        // The image's environment (Dockerfile ENV) ...
        NODE_ENV: 'production',
        KAFKA_ARCHIVE_DATA_DIR: data,
        NODE_COMPILE_CACHE: join(data, 'node-compile-cache'),
        // ... and what docker-compose.yml adds (the test bed's broker and S3 server).
        KAFKA_ARCHIVE_KAFKA__BROKERS: kafkaInfo.brokers.join(','),
        KAFKA_ARCHIVE_ARCHIVER__TOPICS: topic,
        KAFKA_ARCHIVE_STORAGE__TYPE: 's3',
        KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: s3.endpoint,
        KAFKA_ARCHIVE_STORAGE__S3__BUCKET: s3.bucket,
        KAFKA_ARCHIVE_STORAGE__S3__PREFIX: topic,
        KAFKA_ARCHIVE_STORAGE__S3__ACCESS_KEY_ID: s3.accessKeyId,
        KAFKA_ARCHIVE_STORAGE__S3__SECRET_ACCESS_KEY: s3.secretAccessKey,
        // Test pacing: seal within a second, tier at once, small reserves, any free port.
        KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS: '1000',
        KAFKA_ARCHIVE_TIERING__MIN_AGE_MS: '1',
        KAFKA_ARCHIVE_TIERING__INTERVAL_MS: '1000',
        KAFKA_ARCHIVE_DISK__RESERVE__SIZE: '1MiB',
        KAFKA_ARCHIVE_SERVER__PORT: '0',
      };
      const wrap = serviceUser.wrap;
      const client = createKafkajsClient(
        { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
        createLogger({ level: 'silent' }),
      );
      const admin = await client.admin();
      await admin.createTopics([{ name: topic, partitions: 2 }]);
      const p = spawnArchiver(['run'], env, { cwd: app, wrap });
      try {
        await waitFor(
          'readiness',
          async () => {
            if (!p.isRunning()) throw new Error(`exited:\n${logTail(p)}`);
            const url = serverUrl(p);
            if (url === null) return false;
            return (await fetch(`${url}/readyz`).catch(() => null))?.status === 200;
          },
          90_000,
          200,
        );
        const producer = await client.producer();
        await producer.send(
          topic,
          Array.from({ length: 200 }, (_, i) => ({
            partition: i % 2,
            key: null,
            value: Buffer.from(`v${i}`),
          })),
        );
        await producer.disconnect();
        await waitFor('archived and tiered', async () => {
          if (!p.isRunning()) throw new Error(`exited:\n${logTail(p)}`);
          return (
            ((await metricOf(p, 'records_archived_total')) ?? 0) >= 200 &&
            ((await metricOf(p, 'tiering_segments_uploaded_total')) ?? 0) >= 2
          );
        });
      } finally {
        expect(await stopProcess(p), logTail(p)).toBe(0);
        await admin.disconnect();
      }
      expect(p.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
      // Everything it wrote is under the data root and owned by the service user.
      const files = walk(data);
      const top = new Set(files.map((f) => f.path.split('/')[0]));
      expect([...top].sort()).toEqual(['catalog', 'disk-history', 'hot', 'node-compile-cache']);
      for (const f of files) expect(f.uid, f.path).toBe(asRoot ? NOBODY : process.getuid?.());
      expect(readdirSync(app)).toEqual([]);
      if (asRoot) expect(strayFiles(NOBODY, data)).toEqual([]);

      // A re-created container (a new process, same volume) sees the archive, now in the cold tier.
      const [cmd, ...pre] = [...wrap, process.execPath];
      const out = execFileSync(cmd as string, [...pre, BIN, 'offsets', topic, '--json'], {
        cwd: app,
        env: { PATH: process.env.PATH ?? '', ...env },
        encoding: 'utf8',
      });
      const rows = JSON.parse(out) as Array<{ records: number; tiers: string[] }>;
      expect(rows.reduce((n, r) => n + r.records, 0)).toBe(200);
      for (const r of rows) expect(r.tiers).toContain('cold');
    },
  );
});
