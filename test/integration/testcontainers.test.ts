// The testcontainers variant of the Kafka test bed: when a Docker-compatible engine answers, start
// apache/kafka:4.1.1 as a single-node KRaft broker (broker and controller in one process) and run
// a tiny produce/consume through the project's adapter. When no engine answers, the whole file is
// skipped with one `[testcontainers] skipped: <reason>` line; deciding takes at most
// DETECT_TIMEOUT_MS and never throws.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GenericContainer,
  RandomPortGenerator,
  Wait,
  getContainerRuntimeClient,
  type ContainerRuntimeClient,
  type StartedTestContainer,
} from 'testcontainers';
import {
  createKafkajsClient,
  createLogger,
  loadConfig,
  type KafkaClient,
  type KafkaRecord,
} from '../../src/index.js';
import { waitFor } from '../helpers/archive.js';

const IMAGE = 'apache/kafka:4.1.1';
const DETECT_TIMEOUT_MS = 4_000;

type Detection = { runtime: ContainerRuntimeClient } | { reason: string };

/** The container runtime if one answers within DETECT_TIMEOUT_MS, else why not. */
async function detectRuntime(): Promise<Detection> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Detection>((resolve) => {
    timer = setTimeout(
      () => resolve({ reason: `no container runtime answered within ${DETECT_TIMEOUT_MS} ms` }),
      DETECT_TIMEOUT_MS,
    );
    timer.unref();
  });
  const probe = getContainerRuntimeClient().then(
    (runtime): Detection => ({ runtime }),
    (err: unknown): Detection => ({
      reason: `no container runtime (${err instanceof Error ? err.message : String(err)})`,
    }),
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const detection = await detectRuntime();
if ('reason' in detection) console.log(`[testcontainers] skipped: ${detection.reason}`);

describe.skipIf(!('runtime' in detection))(`Kafka in a container (${IMAGE})`, () => {
  const log = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });
  let container: StartedTestContainer | undefined;
  let client: KafkaClient;

  beforeAll(async () => {
    if (!('runtime' in detection)) return;
    const info = detection.runtime.info.containerRuntime;
    // Clients must reach the broker at the address it advertises, which has to be known before
    // the broker starts: bind a chosen free host port instead of a random mapped one.
    const hostPort = await new RandomPortGenerator().generatePort();
    const host = info.host === 'localhost' ? '127.0.0.1' : info.host;
    const t0 = Date.now();
    container = await new GenericContainer(IMAGE)
      .withExposedPorts({ container: 9092, host: hostPort })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_LISTENERS: 'EXTERNAL://:9092,INTERNAL://:19092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: `EXTERNAL://${host}:${hostPort},INTERNAL://localhost:19092`,
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:
          'EXTERNAL:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
        KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .withStartupTimeout(240_000)
      .start();
    const broker = `${host}:${hostPort}`;
    console.log(
      `[testcontainers] ${IMAGE} (KRaft) at ${broker} via ${info.host} in ${Date.now() - t0} ms`,
    );
    client = createKafkajsClient({ ...loadConfig({ env: {} }).kafka, brokers: [broker] }, log);
  }, 300_000);

  afterAll(async () => {
    await container?.stop();
  });

  it('produces and consumes through the adapter', async () => {
    const topic = `tc-${Math.random().toString(36).slice(2, 10)}`;
    const admin = await client.admin();
    try {
      await admin.createTopics([{ name: topic, partitions: 1 }]);
      const producer = await client.producer();
      try {
        await producer.send(topic, [
          {
            partition: 0,
            key: Buffer.from('k'),
            value: Buffer.from([0, 1, 2, 255]),
            headers: [
              { key: 'h', value: Buffer.from('1') },
              { key: 'h', value: null },
            ],
            timestamp: 1_700_000_000_000n,
          },
          { partition: 0, key: null, value: null, timestamp: 1_700_000_000_001n },
        ]);
      } finally {
        await producer.disconnect();
      }
      expect((await admin.offsets(topic)).get(0)).toEqual({ low: 0n, high: 2n });

      const records: KafkaRecord[] = [];
      const consumer = client.consumer({ groupId: `tc-g-${Math.random().toString(36).slice(2)}` });
      await consumer.start([topic], {
        onBatch: async (batch) => {
          records.push(...batch.records);
        },
        onAssignment: () => {},
      });
      try {
        await waitFor('2 records consumed', () => records.length >= 2);
      } finally {
        await consumer.stop();
      }
      expect(records).toEqual([
        {
          offset: 0n,
          timestamp: 1_700_000_000_000n,
          timestampType: 0,
          key: Buffer.from('k'),
          value: Buffer.from([0, 1, 2, 255]),
          headers: [
            { key: 'h', value: Buffer.from('1') },
            { key: 'h', value: null },
          ],
        },
        {
          offset: 1n,
          timestamp: 1_700_000_000_001n,
          timestampType: 0,
          key: null,
          value: null,
          headers: [],
        },
      ]);
    } finally {
      await admin.disconnect(); // the topic goes away with the container
    }
  });
});
