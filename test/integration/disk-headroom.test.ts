import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKafkajsClient, createLogger, formatBytes, loadConfig } from '../../src/index.js';
import {
  assessLogDirHeadroom,
  measureFilesystem,
  measureUsage,
  readServerProperties,
} from '../../src/disk/index.js';

// Calibration of the unclean-restart headroom model against a real broker's recovery. The test
// starts its own broker (scripts/kafka.sh, same version as the run's) in a temporary directory so
// it can kill it: a topic of many small segments, kill -9, every .index / .timeindex of the topic
// removed (a full rebuild), the model's prediction, then a restart while the log.dir's allocated
// bytes are sampled every ~50 ms until the broker is up. The prediction must be an upper bound of
// the measured peak growth, and not a loose one.

const kafkaInfo = inject('kafka');
const version = kafkaInfo.version;
const ROOT = join(import.meta.dirname, '../..');
const KAFKA_SH = join(ROOT, 'scripts/kafka.sh');
const log = createLogger({ level: 'silent' });
const major = Number(version.split('.')[0]);
// Kafka 4 raised the minimum segment.bytes to 1 MiB (KIP-1030); 3.x accepts 64 KiB.
const SEGMENT_BYTES = major >= 4 ? 2 ** 20 : 64 * 1024;
const TOTAL_BYTES = major >= 4 ? 96 * 2 ** 20 : 40 * 2 ** 20;
const RECORD_BYTES = 1000;
/** The prediction may exceed the measured peak by at most this factor. */
const MAX_FACTOR = 1.6;

function kafkaSh(args: string[], timeout = 120_000): string {
  return execFileSync('bash', [KAFKA_SH, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout,
  }).trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`unclean-restart headroom calibration on Kafka ${version}`, () => {
  const dir = mkdtempSync(join(tmpdir(), `ka-headroom-${version}-`));
  const dataDir = join(dir, 'data');
  const topic = `headroom-${Math.random().toString(36).slice(2, 8)}`;

  afterAll(() => {
    try {
      kafkaSh(['kill', dir], 60_000);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('predicts an upper bound of the peak growth while the broker rebuilds every index', async () => {
    const t0 = Date.now();
    const bootstrap = kafkaSh(['start', version, dir]).split('\n').pop() as string;
    const client = createKafkajsClient(
      { ...loadConfig({ env: {} }).kafka, brokers: [bootstrap] },
      log,
    );
    const admin = await client.admin();
    await admin.createTopics([
      { name: topic, partitions: 2, configs: { 'segment.bytes': String(SEGMENT_BYTES) } },
    ]);
    await admin.disconnect();

    // 16 KiB batches (batch.size), so a segment holds several batches and gets index entries.
    const records = Math.ceil(TOTAL_BYTES / RECORD_BYTES);
    execFileSync(
      'java',
      [
        '-Xmx256m',
        '-cp',
        join(ROOT, `.cache/kafka/${version}/libs/*`),
        'org.apache.kafka.tools.ProducerPerformance',
        '--topic',
        topic,
        '--num-records',
        String(records),
        '--record-size',
        String(RECORD_BYTES),
        '--throughput',
        '-1',
        '--producer-props',
        `bootstrap.servers=${bootstrap}`,
        'acks=1',
        'batch.size=16384',
        'linger.ms=5',
        'compression.type=none',
      ],
      { stdio: 'ignore', timeout: 120_000 },
    );
    const produced = Date.now();

    // kill -9: no clean-shutdown marker; then lose every index file of the topic.
    kafkaSh(['kill', dir]);
    const partitionDirs = readdirSync(dataDir).filter((n) => n.startsWith(`${topic}-`));
    expect(partitionDirs).toHaveLength(2);
    let removed = 0;
    let segments = 0;
    for (const p of partitionDirs) {
      for (const f of readdirSync(join(dataDir, p))) {
        if (f.endsWith('.log')) segments++;
        if (f.endsWith('.index') || f.endsWith('.timeindex')) {
          unlinkSync(join(dataDir, p, f));
          removed++;
        }
      }
    }
    expect(segments).toBeGreaterThan(major >= 4 ? 60 : 300);

    const props = await readServerProperties(join(dir, 'server.properties'));
    const fs = await measureFilesystem(dataDir);
    const { state, headroom } = await assessLogDirHeadroom(dataDir, {
      serverProperties: props.properties,
      kafkaVersion: version,
      availableBytes: fs.availableBytes,
      reserveBytes: 0,
      partitionsShown: 1000,
    });
    expect(headroom.lastShutdown).toBe('unclean');
    const predicted = headroom.unclean.neededBytes;
    const predictedTopic = headroom.unclean.byPartition
      .filter((p) => p.topic === topic)
      .reduce((s, p) => s + p.peakBytes, 0);
    const topicSegments = state.partitions
      .filter((p) => p.topic === topic)
      .reduce((s, p) => s + p.segments.length, 0);
    expect(topicSegments).toBe(segments);
    expect(headroom.unclean.segmentsRecovered).toBeGreaterThanOrEqual(segments);

    // Restart; sample the log.dir's allocated bytes every ~50 ms until the broker is up.
    const serverLog = join(dir, 'server.log');
    const logBefore = readFileSync(serverLog, 'utf8').length;
    const baseline = (await measureUsage(dataDir)).allocatedBytes;
    const topicUsage = async () => {
      let sum = 0;
      for (const p of partitionDirs) sum += (await measureUsage(join(dataDir, p))).allocatedBytes;
      return sum;
    };
    const topicBaseline = await topicUsage();
    let peak = baseline;
    let topicPeak = topicBaseline;
    let samples = 0;
    const restartedAt = Date.now();
    let started = false;
    let startError: Error | null = null;
    const starting = new Promise<void>((resolve) => {
      execFile('bash', [KAFKA_SH, 'start', version, dir], { timeout: 120_000 }, (err) => {
        startError = err;
        started = true;
        resolve();
      });
    });
    const sample = async () => {
      peak = Math.max(peak, (await measureUsage(dataDir)).allocatedBytes);
      topicPeak = Math.max(topicPeak, await topicUsage());
      samples++;
    };
    while (!started) {
      await sample();
      await sleep(50);
    }
    await starting;
    expect(startError).toBeNull();
    const upMs = Date.now() - restartedAt;
    for (let i = 0; i < 10; i++) {
      await sample();
      await sleep(50);
    }
    const measured = peak - baseline;
    const measuredTopic = topicPeak - topicBaseline;
    const recoveryLog = readFileSync(serverLog, 'utf8').slice(logBefore);

    const ratio = predicted / Math.max(1, measured);
    console.log(
      `[disk-headroom test] Kafka ${version}: ${segments} segments of <= ${formatBytes(SEGMENT_BYTES)} in 2 partitions ` +
        `(${formatBytes(TOTAL_BYTES)} produced in ${produced - t0} ms incl. broker start), ${removed} index files removed; ` +
        `recovery took ${upMs} ms, ${samples} samples. ` +
        `Predicted peak growth ${predicted} B (${formatBytes(predicted)}), measured ${measured} B (${formatBytes(measured)}), ratio ${ratio.toFixed(3)}; ` +
        `topic only: predicted ${predictedTopic} B, measured ${measuredTopic} B, ratio ${(predictedTopic / Math.max(1, measuredTopic)).toFixed(3)}. ` +
        `Model: sparse=${headroom.sparse} (${headroom.sparseSource}), block ${headroom.blockBytes} B, ${headroom.recoveryThreads} recovery thread(s), ` +
        `index growth ${headroom.unclean.indexGrowthBytes} B, snapshots ${headroom.unclean.snapshotBytes} B, allowances ${headroom.unclean.allowanceBytes} B`,
    );

    // The broker really rebuilt the indexes it lost.
    expect(recoveryLog).toMatch(
      /rebuilding index files|Recovering unflushed segment|recovering segment/i,
    );
    for (const p of partitionDirs) {
      const files = readdirSync(join(dataDir, p));
      expect(files.filter((f) => f.endsWith('.index')).length).toBe(
        files.filter((f) => f.endsWith('.log')).length,
      );
    }
    expect(measured).toBeGreaterThan(0);
    expect(predicted).toBeGreaterThanOrEqual(measured);
    expect(predictedTopic).toBeGreaterThanOrEqual(measuredTopic);
    expect(ratio).toBeLessThanOrEqual(MAX_FACTOR);
    expect(Date.now() - t0).toBeLessThan(180_000);
  }, 200_000);
});
