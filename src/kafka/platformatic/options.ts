import {
  ConnectionPool,
  type Base,
  type ConnectionOptions,
  type SASLOptions,
} from '@platformatic/kafka';
import type { KafkaConfig } from '../../config/index.js';
import type { Logger } from '../../log/index.js';
import { describeKafkaError } from './errors.js';
import { kafkaTlsOptions } from '../tls.js';

/** Connection settings shared by every client object (and the consumer's fetch connections). */
export interface ClientSettings extends ConnectionOptions {
  clientId: string;
  bootstrapBrokers: string[];
  /** Broker-side timeout of produce, create-topics and similar requests. */
  timeout: number;
  retries: number;
  retryDelay: (client: object, operationId: string, attempt: number) => number;
  metadataMaxAge: number;
}

/** Exponential back-off between the client's own retries: 300 ms doubling up to 30 s. */
const retryDelay = (_client: object, _operationId: string, attempt: number): number =>
  Math.min(30_000, 300 * 2 ** Math.max(0, attempt - 1));

const SASL_MECHANISMS = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/**
 * The same KafkaConfig the kafkajs client reads: brokers, client id, TLS (the system CA store,
 * SNI from the broker host), SASL PLAIN/SCRAM, connect and request timeouts.
 */
export function clientSettings(config: KafkaConfig): ClientSettings {
  const sasl: SASLOptions | undefined =
    config.sasl === undefined
      ? undefined
      : {
          mechanism: SASL_MECHANISMS[config.sasl.mechanism],
          username: config.sasl.username,
          password: config.sasl.password,
        };
  return {
    clientId: config.clientId,
    bootstrapBrokers: config.brokers,
    connectTimeout: config.connectionTimeoutMs,
    // The broker answers a request with a timeout of `timeout`; the connection gives up a little
    // later, so a broker-side timeout is reported as such.
    requestTimeout: config.requestTimeoutMs + 5_000,
    timeout: config.requestTimeoutMs,
    // As the kafkajs client: 8 retries, 300 ms doubling up to 30 s.
    retries: 8,
    retryDelay,
    metadataMaxAge: 5_000,
    // kafka.tls.*: the CA, a client certificate, host name verification (as for kafkajs).
    ...(config.ssl ? { tls: kafkaTlsOptions(config) ?? {}, tlsServerName: true } : {}),
    ...(sasl !== undefined ? { sasl } : {}),
  };
}

const brokerOf = (payload: unknown): string | undefined => {
  const b = (payload as { broker?: { host?: unknown; port?: unknown } } | undefined)?.broker;
  return b === undefined ? undefined : `${String(b.host)}:${String(b.port)}`;
};

/**
 * The client's diagnostics in our log. @platformatic/kafka writes nothing itself (its `debug`
 * loggers are off unless DEBUG=plt:kafka* is set); it emits events, mapped here: connection
 * failures and heartbeat trouble as warnings, connects, disconnects and retries as debug.
 */
export function forwardClientEvents(client: Base, log: Logger): void {
  const on = client.on.bind(client) as (event: string, fn: (...args: unknown[]) => void) => void;
  on('client:broker:connect', (p) => log.debug({ broker: brokerOf(p) }, 'connected to broker'));
  on('client:broker:disconnect', (p) =>
    log.debug({ broker: brokerOf(p) }, 'disconnected from broker'),
  );
  on('client:broker:failed', (p) => log.warn({ broker: brokerOf(p) }, 'broker connection failed'));
  on('client:performWithRetry:retry', (operation, attempt, retries, delay) =>
    log.debug({ operation, attempt, retries, delayMs: delay }, 'retrying a Kafka request'),
  );
  on('consumer:heartbeat:error', (p) =>
    log.warn(
      { err: describeKafkaError((p as { error?: unknown } | undefined)?.error) },
      'consumer heartbeat failed',
    ),
  );
  on('consumer:heartbeat:stalled', (p) => {
    const s = p as { stalledFor?: number; lastError?: unknown } | undefined;
    log.error(
      { stalledForMs: s?.stalledFor, err: describeKafkaError(s?.lastError) },
      'consumer heartbeats have been failing; the group may have moved this member’s partitions',
    );
  });
  on('consumer:group:rebalance', () => log.info('consumer group rebalancing'));
  on('consumer:group:leave', () => log.debug('left the consumer group'));
}

/**
 * A connection pool of its own for fetches (as the client's MessagesStream has): a long-polling
 * Fetch does not queue group requests (heartbeats, commits) behind it on one connection.
 */
export function fetchPool(settings: ClientSettings, log: Logger): ConnectionPool {
  const pool = new ConnectionPool(settings.clientId, {
    connectTimeout: settings.connectTimeout,
    requestTimeout: settings.requestTimeout,
    ...(settings.tls !== undefined ? { tls: settings.tls } : {}),
    ...(settings.tlsServerName !== undefined ? { tlsServerName: settings.tlsServerName } : {}),
    ...(settings.sasl !== undefined ? { sasl: settings.sasl } : {}),
  });
  pool.on('failed', (p) =>
    log.warn({ broker: `${p.broker.host}:${p.broker.port}` }, 'fetch connection failed'),
  );
  return pool;
}
