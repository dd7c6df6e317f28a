import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKafkajsClient, createLogger, loadConfig } from '../../src/index.js';
import { readServerProperties, scanLogDir, type LogDirScan } from '../../src/disk/index.js';
import { waitFor } from '../helpers/archive.js';
import { cliFromSource as cli } from '../helpers/cli.js';

// The Kafka log-dir scanner against the test run's real broker: its server.properties and
// data directory (scripts/kafka.sh: <dir>/server.properties, log.dirs=<dir>/data).
const kafkaInfo = inject('kafka');
const log = createLogger({ level: 'silent' });

if (kafkaInfo.dir === null)
  console.log(
    '[disk-scan test] skipped: the broker directory is unknown (set KAFKA_DIR with KAFKA_BROKERS)',
  );

describe.skipIf(kafkaInfo.dir === null)(`Kafka log.dir scan on Kafka ${kafkaInfo.version}`, () => {
  const dir = kafkaInfo.dir as string;
  const topic = `diskscan-${Math.random().toString(36).slice(2, 8)}`;
  const client = createKafkajsClient(
    { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
    log,
  );
  // Kafka 4 raised the minimum segment.bytes to 1 MiB (KIP-1030); 3.x accepts 64 KiB.
  const segmentBytes = Number(kafkaInfo.version.split('.')[0]) >= 4 ? 2 ** 20 : 64 * 1024;
  const totalBytes = Math.max(2_000_000, 14 * segmentBytes);
  let records = 0;

  afterAll(async () => {
    const admin = await client.admin();
    await admin.deleteTopics([topic]).catch(() => undefined);
    await admin.disconnect();
  });

  it('finds the log.dirs in server.properties', async () => {
    const props = await readServerProperties(join(dir, 'server.properties'));
    expect(props.source).toBe('log.dirs');
    expect(props.logDirs).toEqual([join(dir, 'data')]);
  });

  it('reports segments, index files, checkpoints and the running broker', async () => {
    const admin = await client.admin();
    await admin.createTopics([
      { name: topic, partitions: 2, configs: { 'segment.bytes': String(segmentBytes) } },
    ]);
    const producer = await client.producer();
    const batch = 16;
    const sends: Array<Promise<void>> = [];
    for (let sent = 0; sent < totalBytes; sent += batch * 1024) {
      sends.push(
        producer.send(
          topic,
          Array.from({ length: batch }, (_, i) => ({
            partition: 0,
            key: Buffer.from(`k${records + i}`),
            value: randomBytes(1024),
          })),
        ),
      );
      records += batch;
      if (sends.length >= 8) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    await producer.send(topic, [{ partition: 1, key: null, value: Buffer.from('one') }]);
    await producer.disconnect();
    await admin.disconnect();

    const logDir = join(dir, 'data');
    // The high-water mark checkpoint is written every 5 s (replica.high.watermark.checkpoint.interval.ms).
    let scan: LogDirScan | undefined;
    await waitFor(
      'the final high-water marks in replication-offset-checkpoint',
      async () => {
        scan = await scanLogDir(logDir);
        const hw = (partition: number) =>
          scan?.partitions.find((p) => p.topic === topic && p.partition === partition)
            ?.highWatermark;
        return hw(0) === BigInt(records) && hw(1) === 1n;
      },
      30_000,
    );
    scan = scan as LogDirScan;
    const p0 = scan.partitions.find((p) => p.topic === topic && p.partition === 0)!;
    const p1 = scan.partitions.find((p) => p.topic === topic && p.partition === 1)!;
    console.log(
      `[disk-scan test] Kafka ${kafkaInfo.version}: ${topic}-0 has ${p0.segments} segments of <= ${segmentBytes} B; ` +
        `.log ${p0.log.apparentBytes} B, .index ${p0.index.files} files ${p0.index.apparentBytes} B apparent / ${p0.index.allocatedBytes} B allocated, ` +
        `.timeindex ${p0.timeindex.files} files; sparse indexes: ${scan.sparseIndexesObserved}; last shutdown: ${scan.lastShutdown}`,
    );

    expect(p0.state).toBe('live');
    expect(p0.segments).toBeGreaterThan(10);
    expect(p0.log.files).toBe(p0.segments);
    expect(p0.log.apparentBytes).toBeGreaterThan(totalBytes);
    expect(p0.log.allocatedBytes).toBeGreaterThanOrEqual(p0.log.apparentBytes - p0.segments * 4096);
    // Every segment that received records has an offset index and a time index.
    expect(p0.index.files).toBeGreaterThanOrEqual(p0.segments - 1);
    expect(p0.timeindex.files).toBeGreaterThanOrEqual(p0.segments - 1);
    expect(p0.txnindex.files).toBe(0); // no aborted transactions
    expect(p0.firstBaseOffset).toBe(0n);
    expect(p0.activeBaseOffset).toBeGreaterThan(0n);
    expect(p0.highWatermark).toBe(BigInt(records));
    expect(p0.oldestSegmentMtime! <= p0.newestSegmentMtime!).toBe(true);
    expect(p1.segments).toBe(1);
    expect(p1.highWatermark).toBe(1n);

    // The active segment's indexes are preallocated to segment.index.bytes (10 MiB).
    const active = join(p0.dir, `${p0.activeBaseOffset!.toString().padStart(20, '0')}.index`);
    expect(statSync(active).size).toBe(10 * 2 ** 20);
    expect(p0.index.apparentBytes).toBeGreaterThan(p0.index.allocatedBytes);

    // All four checkpoint files exist at the log.dir root and parse.
    for (const c of scan.checkpoints) {
      expect(c, c.name).toMatchObject({ present: true, version: 0, error: null });
    }
    expect(scan.checkpoints.find((c) => c.name === 'replication-offset-checkpoint')!.entries).toBe(
      scan.partitions.filter((p) => p.highWatermark !== null).length,
    );
    expect(scan.unknownDirectories).toEqual([]);
    expect(scan.meta?.['node.id']).toBe('1');

    // A running broker has no clean-shutdown marker; its lock on .lock shows it is running.
    expect(scan.cleanShutdownMarker).toBe(false);
    expect(['running', 'unknown']).toContain(scan.lastShutdown);
  });

  it('prints the scan from the CLI (table and --json)', () => {
    const props = join(dir, 'server.properties');
    const text = cli(['disk', 'scan', '--server-properties', props]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`log.dir ${join(dir, 'data')}`);
    expect(text.stdout).toMatch(new RegExp(`^${topic}-0 +live +\\d+ `, 'm'));
    const json = cli(['--json', 'disk', 'scan', '--server-properties', props, '--probe-sparse']);
    expect(json.code, json.stderr).toBe(0);
    const scans = JSON.parse(json.stdout) as Array<{
      partitions: Array<{
        topic: string;
        partition: number;
        segments: number;
        highWatermark: string;
      }>;
      sparseProbe: { sparse: boolean; apparentBytes: number };
    }>;
    const p0 = scans[0]!.partitions.find((p) => p.topic === topic && p.partition === 0)!;
    expect(p0.segments).toBeGreaterThan(10);
    expect(p0.highWatermark).toBe(String(records)); // bigints are strings in JSON
    expect(scans[0]!.sparseProbe.apparentBytes).toBe(10 * 2 ** 20);

    const none = cli(['disk', 'scan']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/nothing to scan: give --log-dir DIR\.\.\. or --server-properties/);
    const missing = cli(['disk', 'scan', '--log-dir', join(dir, 'no-such-dir')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot scan Kafka log\.dir .*no-such-dir/);
  });
});
