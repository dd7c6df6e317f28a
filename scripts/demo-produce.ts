// Creates the demo topics and produces sample events; prints {topic: records} as JSON.
// ztf_alerts: a ZTF-like alert stream (16 partitions, lz4). cluster1.sample / cluster1.job:
// HPC job monitoring streams. Deterministic content.
import { createKafkajsClient, createLogger, loadConfig } from '../src/index.js';

const config = loadConfig();
const log = createLogger({ level: 'error' });
const kafka = createKafkajsClient(config.kafka, log);
const admin = await kafka.admin();
await admin.createTopics([
  {
    name: 'ztf_alerts',
    partitions: 16,
    replicationFactor: 1,
    configs: { 'compression.type': 'lz4', 'retention.ms': '-1' },
  },
  {
    name: 'cluster1.sample',
    partitions: 4,
    replicationFactor: 1,
    configs: { 'retention.ms': '-1' },
  },
  { name: 'cluster1.job', partitions: 2, replicationFactor: 1, configs: { 'retention.ms': '-1' } },
]);
const producer = await kafka.producer();
const t0 = Date.UTC(2026, 10, 1, 3, 0, 0);
const counts: Record<string, number> = {
  ztf_alerts: 16_000,
  'cluster1.sample': 6_000,
  'cluster1.job': 600,
};
for (let i = 0; i < counts.ztf_alerts!; i += 500) {
  await producer.send(
    'ztf_alerts',
    Array.from({ length: 500 }, (_, j) => {
      const n = i + j;
      const alert = {
        objectId: `ZTF26aa${(n * 7919).toString(36)}`,
        candid: 2_500_000_000_000 + n,
        ra: (n * 0.37) % 360,
        dec: ((n * 0.11) % 180) - 90,
        magpsf: 15 + (n % 60) / 10,
        cutout: 'x'.repeat(600 + (n % 200)),
      };
      return {
        key: null,
        value: Buffer.from(JSON.stringify(alert)),
        timestamp: BigInt(t0 + n * 50),
        headers: [{ key: 'schema', value: Buffer.from('ztf-4.02') }],
      };
    }),
  );
}
for (const [topic, every] of [
  ['cluster1.sample', 10],
  ['cluster1.job', 100],
] as const) {
  for (let i = 0; i < counts[topic]!; i += 500) {
    await producer.send(
      topic,
      Array.from({ length: Math.min(500, counts[topic]! - i) }, (_, j) => {
        const n = i + j;
        const host = `node${String(n % 64).padStart(3, '0')}`;
        const body =
          topic === 'cluster1.job'
            ? {
                jobid: 900_000 + n,
                user: `u${n % 17}`,
                state: n % 5 === 0 ? 'FAILED' : 'COMPLETED',
              }
            : { host, cpu: (n * 13) % 100, mem_gb: (n * 7) % 512 };
        return {
          key: Buffer.from(host),
          value: Buffer.from(JSON.stringify(body)),
          timestamp: BigInt(t0 + n * every),
        };
      }),
    );
  }
}
await producer.disconnect();
await admin.disconnect();
process.stdout.write(`${JSON.stringify(counts)}\n`);
