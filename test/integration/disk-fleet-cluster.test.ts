// The disk fleet against a real three-broker KRaft cluster on 127.0.0.1 (scripts/kafka.sh
// start-cluster, test/helpers/cluster.ts), each broker's log.dir on its own small tmpfs of a
// different size. One cluster for the whole file (it takes 15-20 s to start on 2 cores):
//  1. DescribeLogDirs (both clients) against the log-dir scanner of each broker's log.dir, and
//     the estimate's index bytes against the scanned truth.
//  2. The fleet: an agent per broker, one broker's disk filled, an agent killed, a broker
//     without an agent.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger, loadConfig } from '../../src/index.js';
import { createKafkaClient, type KafkaClient } from '../../src/kafka/index.js';
import { scanLogDir, type LogDirScan } from '../../src/disk/index.js';
import { estimateFromLogDirs, type TopicEstimateOverrides } from '../../src/disk/fleet/estimate.js';
import type { BrokerLogDirs } from '../../src/kafka/types.js';
import { clusterLogDirs, startCluster, type TestCluster } from '../helpers/cluster.js';

const kafkaInfo = inject('kafka');
const log = createLogger({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'ka-fleet-cluster-'));
// A different size per broker; small enough to fill in a second.
const TMPFS = ['40m', '56m', '72m'];
const mounts = clusterLogDirs(root, TMPFS);
if (mounts.refused !== null)
  console.log(`[disk-fleet-cluster test] skipped: cannot mount a tmpfs (${mounts.refused})`);

const major = Number(kafkaInfo.version.split('.')[0]);
// Kafka 4 raised the minimum segment.bytes to 1 MiB (KIP-1030); 3.x accepts smaller.
const SEGMENT_BYTES = major >= 4 ? 2 ** 20 : 256 * 1024;

let cluster: TestCluster;
const clients: Record<'kafkajs' | 'platformatic', KafkaClient> = {} as never;

function kafkaConfig(kind: 'kafkajs' | 'platformatic') {
  return { ...loadConfig({ env: {} }).kafka, brokers: cluster.bootstrap, client: kind };
}

describe.skipIf(mounts.refused !== null)(
  `disk fleet on a 3-broker Kafka ${kafkaInfo.version} cluster`,
  () => {
    beforeAll(async () => {
      cluster = await startCluster({
        version: kafkaInfo.version,
        dir: join(root, 'cluster'),
        brokers: 3,
        logDirs: mounts.logDirs,
        unmount: mounts.unmount,
      });
      console.log(
        `[disk-fleet-cluster test] 3 brokers started and registered in ${cluster.startMs} ms`,
      );
      clients.kafkajs = createKafkaClient(kafkaConfig('kafkajs'), log);
      clients.platformatic = createKafkaClient(kafkaConfig('platformatic'), log);
    });

    afterAll(async () => {
      await cluster?.stop();
      mounts.unmount();
      rmSync(root, { recursive: true, force: true });
    });

    describe('DescribeLogDirs', () => {
      const topic = 'logdirs-data';
      let dirs: Record<'kafkajs' | 'platformatic', BrokerLogDirs[]>;
      const scans = new Map<number, LogDirScan>();
      let after: BrokerLogDirs[];

      beforeAll(async () => {
        const admin = await clients.kafkajs.admin();
        try {
          // 6 partitions, one replica each: every broker holds about two, of different sizes.
          await admin.createTopics([
            {
              name: topic,
              partitions: 6,
              replicationFactor: 1,
              configs: { 'segment.bytes': String(SEGMENT_BYTES) },
            },
          ]);
        } finally {
          await admin.disconnect();
        }
        const producer = await clients.kafkajs.producer();
        try {
          for (let p = 0; p < 6; p++) {
            // 0.5 .. 3 MiB per partition in 16-record batches of 1 KiB records.
            const batches = (p + 1) * 32;
            for (let b = 0; b < batches; b += 8) {
              await Promise.all(
                Array.from({ length: Math.min(8, batches - b) }, () =>
                  producer.send(
                    topic,
                    Array.from({ length: 16 }, (_, i) => ({
                      partition: p,
                      key: Buffer.from(`k${i}`),
                      value: randomBytes(1024),
                    })),
                  ),
                ),
              );
            }
          }
        } finally {
          await producer.disconnect();
        }
        const read = async (kind: 'kafkajs' | 'platformatic') => {
          const a = await clients[kind].admin();
          try {
            return await a.describeLogDirs();
          } finally {
            await a.disconnect();
          }
        };
        dirs = { kafkajs: await read('kafkajs'), platformatic: await read('platformatic') };
        for (const b of cluster.brokers) scans.set(b.id, await scanLogDir(b.logDir));
        after = await read('platformatic');
      });

      it('answers one log.dir per broker, with the volume of its tmpfs, from both clients', async () => {
        for (const kind of ['kafkajs', 'platformatic'] as const) {
          const got = dirs[kind];
          expect(got.map((d) => [d.brokerId, d.logDir, d.error])).toEqual(
            cluster.brokers.map((b) => [b.id, b.logDir, null]),
          );
          for (const d of got) {
            const fs = await statfs(d.logDir);
            // DescribeLogDirs v4 (Kafka >= 3.3): the volume's size and usable bytes.
            expect(d.totalBytes).toBe(fs.blocks * fs.bsize);
            expect(d.usableBytes).not.toBeNull();
            expect(Math.abs((d.usableBytes as number) - fs.bavail * fs.bsize)).toBeLessThan(
              2 ** 20,
            );
          }
        }
        const sizes = dirs.platformatic.map((d) => d.totalBytes);
        expect(sizes).toEqual(TMPFS.map((s) => parseInt(s, 10) * 2 ** 20));
        // Only some brokers asked.
        const a = await clients.kafkajs.admin();
        try {
          expect((await a.describeLogDirs([2])).map((d) => d.brokerId)).toEqual([2]);
        } finally {
          await a.disconnect();
        }
      });

      it('log bytes per partition agree with the scanner of each log.dir', () => {
        for (const b of cluster.brokers) {
          const scan = scans.get(b.id) as LogDirScan;
          const before = dirs.platformatic.find((d) => d.brokerId === b.id) as BrokerLogDirs;
          const later = after.find((d) => d.brokerId === b.id) as BrokerLogDirs;
          const key = (t: string, p: number) => `${t}-${p}`;
          const size = (d: BrokerLogDirs) =>
            new Map(
              d.partitions
                .filter((p) => !p.isFuture)
                .map((p) => [key(p.topic, p.partition), p.sizeBytes]),
            );
          const s0 = size(before);
          const s1 = size(later);
          const scanned = new Map(
            scan.partitions
              .filter((p) => p.state === 'live')
              .map((p) => [key(p.topic, p.partition), p.log.apparentBytes]),
          );
          expect([...scanned.keys()].sort()).toEqual([...s0.keys()].sort());
          for (const [k, bytes] of scanned) {
            // Within what the active segment grew between the two DescribeLogDirs reads.
            expect(bytes).toBeGreaterThanOrEqual(s0.get(k) as number);
            expect(bytes).toBeLessThanOrEqual(s1.get(k) as number);
          }
          expect([...s0.keys()].filter((k) => k.startsWith(`${topic}-`)).length).toBeGreaterThan(0);
        }
      });

      it('estimates index bytes from log bytes; the error against the scanned truth', async () => {
        const topics = new Map<string, TopicEstimateOverrides>([
          [topic, { segmentBytes: SEGMENT_BYTES }],
        ]);
        const rows = estimateFromLogDirs(dirs.platformatic, {
          sparse: true, // tmpfs
          blockBytes: (await statfs(cluster.brokers[0]!.logDir)).bsize,
          topics,
          kafkaVersion: kafkaInfo.version,
        });
        const lines: string[] = [];
        for (const row of rows) {
          const scan = scans.get(row.brokerId) as LogDirScan;
          const truth = scan.totals.index.allocatedBytes + scan.totals.timeindex.allocatedBytes;
          const errorPct = ((row.indexBytes - truth) / Math.max(1, truth)) * 100;
          lines.push(
            `broker ${row.brokerId}: log ${row.logBytes} B, index estimate ${row.indexBytes} B, scanned ${truth} B (${errorPct >= 0 ? '+' : ''}${errorPct.toFixed(1)} %)`,
          );
          expect(row.estimate).toBe(true);
          expect(row.logBytes).toBe(
            dirs.platformatic
              .find((d) => d.brokerId === row.brokerId)!
              .partitions.reduce((s, p) => s + p.sizeBytes, 0),
          );
          // An upper bound (one entry per index.interval.bytes), never far below the truth.
          expect(row.indexBytes).toBeGreaterThanOrEqual(truth * 0.9);
          expect(row.indexBytes).toBeLessThanOrEqual(Math.max(truth * 3, truth + 64 * 1024));
          expect(row.survivesUncleanRestart).toBe(true);
          expect(row.state).toBe('ok');
        }
        console.log(
          `[disk-fleet-cluster test] DescribeLogDirs index estimate:\n  ${lines.join('\n  ')}`,
        );
      });
    });
  },
);
