/**
 * The disk fleet, composed: the `disk agent` (FleetAgent + a Kafka producer on the compacted
 * fleet topic) and the fleet's readers (`disk report --fleet`, the service's gauges and
 * GET /api/disk/fleet), which read the topic from the beginning.
 */
import { hostname } from 'node:os';
import type { Config } from '../config/index.js';
import {
  buildFleetEntries,
  encodeFleetRecord,
  FleetAgent,
  FleetState,
  readServerProperties,
  estimateFromLogDirs,
  resolveVolumes,
  topicIndexOverrides,
  type FleetEstimate,
  type FleetRecord,
  type FleetReport,
  type TopicEstimateOverrides,
} from '../disk/index.js';
import { ArchiveError, describeError, ErrorCodes } from '../errors.js';
import type { Admin, KafkaClient, Producer } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { createKafkaClient } from './kafka.js';

export type FleetConfig = Config['disk']['fleet'];

/** staleAfterMs of the config: disk.fleet.staleAfterMs, else 3 × disk.fleet.intervalMs. */
export function fleetStaleAfterMs(config: Config): number {
  return config.disk.fleet.staleAfterMs ?? 3 * config.disk.fleet.intervalMs;
}

/** Create the fleet topic (compacted, one partition) when it does not exist. */
export async function ensureFleetTopic(admin: Admin, topic: string, log: Logger): Promise<void> {
  if ((await admin.listTopics()).includes(topic)) return;
  try {
    await admin.createTopics([
      { name: topic, partitions: 1, configs: { 'cleanup.policy': 'compact' } },
    ]);
    log.info({ topic }, 'created the disk fleet topic (compacted)');
  } catch (err) {
    // Another agent may have created it meanwhile.
    if (!(await admin.listTopics()).includes(topic)) throw err;
  }
}

/** Every record of the fleet topic, from the beginning, applied to a FleetState. */
export async function readFleetTopic(
  client: KafkaClient,
  admin: Admin,
  topic: string,
  state: FleetState = new FleetState(),
): Promise<FleetState> {
  if (!(await admin.listTopics()).includes(topic)) return state;
  const offsets = await admin.offsets(topic);
  await client.readCommitted(
    [...offsets].map(([partition, o]) => ({
      topic,
      partition,
      fromOffset: o.low,
      toOffset: o.high,
    })),
    (_tp, records) => {
      for (const r of records) state.apply(r.key, r.value);
    },
  );
  return state;
}

// ---------------------------------------------------------------------------------------------
// DescribeLogDirs estimates for brokers without an agent.
//
// The one place the fleet readers ask Kafka's DescribeLogDirs: every broker's log.dirs with the
// partitions' log sizes and (Kafka >= 3.3) the volume's total and usable bytes, turned into
// estimate rows by estimateFromLogDirs (index bytes estimated from log bytes; see estimate.ts).
// buildFleetEntries keeps them only for brokers without an agent record.

/** Topics whose segment.bytes / index settings are read for the estimate (DescribeConfigs each). */
const ESTIMATE_TOPIC_CONFIGS_MAX = 200;

export async function fleetEstimates(
  config: Config,
  admin: Admin,
  log: Logger,
): Promise<FleetEstimate[]> {
  const dirs = await admin.describeLogDirs();
  for (const d of dirs.filter((x) => x.error !== null))
    log.warn(
      { brokerId: d.brokerId, logDir: d.logDir || undefined, error: d.error },
      'DescribeLogDirs: a broker or log.dir answered with an error',
    );
  // Per-topic segment.bytes / segment.index.bytes / index.interval.bytes (set on the topic).
  const names = [...new Set(dirs.flatMap((d) => d.partitions.map((p) => p.topic)))].sort();
  const topics = new Map<string, TopicEstimateOverrides>();
  const wanted = names.slice(0, ESTIMATE_TOPIC_CONFIGS_MAX);
  for (let i = 0; i < wanted.length; i += 8) {
    await Promise.all(
      wanted.slice(i, i + 8).map(async (t) => {
        const info = await admin.describeTopic(t).catch(() => null);
        if (info === null) return;
        const o: TopicEstimateOverrides = topicIndexOverrides(info.configs);
        const seg = Number(info.configs['segment.bytes']);
        if (Number.isInteger(seg) && seg > 0) o.segmentBytes = seg;
        if (Object.keys(o).length > 0) topics.set(t, o);
      }),
    );
  }
  return estimateFromLogDirs(dirs, { watermarks: config.disk.watermarks, topics });
}
// ---------------------------------------------------------------------------------------------

/** The fleet report now: the topic read from the beginning, plus estimates. */
export async function collectFleetReport(
  config: Config,
  log: Logger,
  options: { client?: KafkaClient; estimates?: boolean; now?: number } = {},
): Promise<FleetReport> {
  const client = options.client ?? createKafkaClient(config, log);
  const admin = await client.admin();
  try {
    const topic = config.disk.fleet.topic;
    const state = await readFleetTopic(client, admin, topic);
    if (state.malformed > 0)
      log.warn(
        { topic, malformed: state.malformed, last: state.lastProblem },
        'disk fleet topic: values that could not be read were skipped',
      );
    let estimates: FleetEstimate[] = [];
    if (options.estimates !== false) {
      try {
        estimates = await fleetEstimates(config, admin, log);
      } catch (err) {
        log.warn({ err: describeError(err) }, 'DescribeLogDirs estimates unavailable');
      }
    }
    return fleetReportFrom(config, state, estimates, options.now ?? Date.now());
  } finally {
    await admin.disconnect();
  }
}

export function fleetReportFrom(
  config: Config,
  state: FleetState,
  estimates: FleetEstimate[],
  now: number,
): FleetReport {
  const staleAfterMs = config.disk.fleet.staleAfterMs;
  return {
    generatedAt: now,
    topic: config.disk.fleet.topic,
    staleAfterMs: fleetStaleAfterMs(config),
    entries: buildFleetEntries(state, estimates, {
      now,
      ...(staleAfterMs !== undefined ? { staleAfterMs } : {}),
      watermarks: config.disk.watermarks,
    }),
    malformed: state.malformed,
    series: state.series(),
  };
}

// ---------------------------------------------------------------------------------------------
// The agent

export interface DiskAgentHandle {
  agent: FleetAgent;
  /** One step now, published whatever changed (--once). */
  once(): Promise<FleetRecord[]>;
  start(): void;
  stop(): Promise<void>;
}

/** disk.fleet.brokerId, else node.id, else broker.id of disk.kafka.serverProperties. */
export function fleetBrokerId(config: Config, properties: Map<string, string> | undefined): number {
  if (config.disk.fleet.brokerId !== undefined) return config.disk.fleet.brokerId;
  for (const key of ['node.id', 'broker.id']) {
    const raw = properties?.get(key)?.trim();
    if (raw !== undefined && /^\d+$/.test(raw)) return Number(raw);
  }
  const file = config.disk.kafka.serverProperties;
  throw new ArchiveError(
    ErrorCodes.CONFIG_INVALID,
    `config error: disk.fleet.brokerId: required: ${file === undefined ? 'disk.kafka.serverProperties is not set' : `${file} has neither node.id nor broker.id`}; set disk.fleet.brokerId to the broker's id (a whole number >= 0)`,
  );
}

/** The agent of this host, wired to a producer on the fleet topic (created when missing). */
export async function createDiskAgent(
  config: Config,
  log: Logger,
  options: { kafkaVersion?: string } = {},
): Promise<DiskAgentHandle> {
  const volumes = (await resolveVolumes(config)).filter((v) => v.kind === 'kafka-log-dir');
  if (volumes.length === 0)
    throw new ArchiveError(
      ErrorCodes.CONFIG_INVALID,
      "config error: disk.kafka.logDirs: no Kafka log.dir to watch: set disk.kafka.serverProperties (the broker's log.dirs) or disk.kafka.logDirs",
    );
  const propsFile = config.disk.kafka.serverProperties;
  const properties =
    propsFile === undefined ? undefined : (await readServerProperties(propsFile)).properties;
  const brokerId = fleetBrokerId(config, properties);
  const topic = config.disk.fleet.topic;
  const client = createKafkaClient(config, log);
  const admin = await client.admin();
  let producer: Producer;
  const history = new FleetState();
  try {
    await ensureFleetTopic(admin, topic, log);
    await readFleetTopic(client, admin, topic, history);
    producer = await client.producer();
  } finally {
    await admin.disconnect();
  }
  const agent = new FleetAgent({
    volumes,
    brokerId,
    host: hostname(),
    intervalMs: config.disk.fleet.intervalMs,
    sampleIntervalMs: Math.min(config.disk.monitor.intervalMs, config.disk.fleet.intervalMs),
    publish: (records) =>
      producer.send(
        topic,
        records.map((r) => encodeFleetRecord(r)),
      ),
    log,
    ...(properties !== undefined ? { serverProperties: properties } : {}),
    ...(options.kafkaVersion !== undefined ? { kafkaVersion: options.kafkaVersion } : {}),
    history,
  });
  return {
    agent,
    async once() {
      return (await agent.step(true)) ?? [];
    },
    start: () => agent.start(),
    async stop() {
      await agent.stop();
      await producer.disconnect();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The service's view of the fleet (disk.fleet.enabled): the topic re-read every intervalMs.

/** What the HTTP server reads: the fleet report as of now (staleness judged at call time). */
export interface FleetView {
  /** Null until the topic was read once. */
  report(now?: number): FleetReport | null;
  /** The last read's error, when it failed (the previous read's data is kept). */
  lastError(): string | null;
}

export class FleetWatcher implements FleetView {
  private state: FleetState | null = null;
  private estimates: FleetEstimate[] = [];
  private error: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reading: Promise<void> | null = null;
  private readonly client: KafkaClient;
  reads = 0;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    client?: KafkaClient,
  ) {
    this.client = client ?? createKafkaClient(config, log);
  }

  /** Read the whole topic now (and the estimates). */
  async refresh(): Promise<void> {
    const admin = await this.client.admin();
    try {
      const state = await readFleetTopic(this.client, admin, this.config.disk.fleet.topic);
      let estimates: FleetEstimate[] = this.estimates;
      try {
        estimates = await fleetEstimates(this.config, admin, this.log);
      } catch (err) {
        this.log.warn({ err: describeError(err) }, 'DescribeLogDirs estimates unavailable');
      }
      this.state = state;
      this.estimates = estimates;
      this.error = null;
      this.reads++;
    } finally {
      await admin.disconnect();
    }
  }

  start(): void {
    if (this.timer !== null) return;
    const run = () => {
      if (this.reading !== null) return;
      this.reading = this.refresh()
        .catch((err: unknown) => {
          this.error = describeError(err);
          this.log.warn({ err: describeError(err) }, 'cannot read the disk fleet topic');
        })
        .finally(() => (this.reading = null));
    };
    run();
    this.timer = setInterval(run, this.config.disk.fleet.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.reading;
  }

  report(now = Date.now()): FleetReport | null {
    return this.state === null
      ? null
      : fleetReportFrom(this.config, this.state, this.estimates, now);
  }

  lastError(): string | null {
    return this.error;
  }
}
