// kafkajs's log lines made fit for an operator's log, and its connection failures as codes.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/index.js';
import { connectError, throttledLogCreator } from '../../src/kafka/kafkajs/diagnostics.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _e, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  });
  return { lines, log };
}

describe('kafkajs log lines', () => {
  it('errors become warnings with a code and no stack; a repeat within the window is dropped', () => {
    const { lines, log } = capture();
    let now = 0;
    const logger = throttledLogCreator(log, { windowMs: 60_000, now: () => now })(0);
    const entry = (message: string) => ({
      namespace: 'Connection',
      level: 1,
      label: 'ERROR',
      log: {
        timestamp: 'x',
        logger: 'kafkajs',
        message,
        broker: '127.0.0.1:1',
        stack: 'Error: connect ECONNREFUSED\n    at TCPConnectWrap.afterConnect (node:net:1:1)',
      },
    });
    logger(entry('Connection error: connect ECONNREFUSED 127.0.0.1:1'));
    now = 1_000;
    logger(entry('Connection error: connect ECONNREFUSED 127.0.0.1:1'));
    logger(entry('Failed to connect to seed broker (retry 3 in 1200 ms)'));
    now = 30_000;
    logger(entry('Failed to connect to seed broker (retry 4 in 2400 ms)')); // same shape
    now = 61_000;
    logger(entry('Connection error: connect ECONNREFUSED 127.0.0.1:1'));
    logger(entry('SASL SCRAM-SHA-256 authentication failed'));
    expect(lines.map((l) => [l.level, l.code, l.msg, l.repeatedInWindow])).toEqual([
      [40, 'KAFKA_UNAVAILABLE', 'Connection error: connect ECONNREFUSED 127.0.0.1:1', undefined],
      [40, 'KAFKA_UNAVAILABLE', 'Failed to connect to seed broker (retry 3 in 1200 ms)', undefined],
      [40, 'KAFKA_UNAVAILABLE', 'Connection error: connect ECONNREFUSED 127.0.0.1:1', 1],
      [40, 'KAFKA_AUTHENTICATION_FAILED', 'SASL SCRAM-SHA-256 authentication failed', undefined],
    ]);
    for (const l of lines) {
      expect(l).not.toHaveProperty('stack');
      expect(l.broker).toBe('127.0.0.1:1');
    }
  });
});

describe('connection errors', () => {
  const brokers = ['b1:9093'];
  it('an untrusted broker certificate: KAFKA_TLS_FAILED naming kafka.tls.caFile', () => {
    const tlsErr = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    const kafkajsErr = Object.assign(
      new Error('Connection error: self-signed certificate in certificate chain'),
      { name: 'KafkaJSConnectionError', code: 'SELF_SIGNED_CERT_IN_CHAIN' },
    );
    for (const e of [
      kafkajsErr,
      Object.assign(new Error('retries exhausted'), { cause: tlsErr }),
    ]) {
      const a = connectError(e, brokers);
      expect(a.code).toBe('KAFKA_TLS_FAILED');
      expect(a.message).toMatch(
        /^TLS to Kafka at b1:9093 failed: .*SELF_SIGNED_CERT_IN_CHAIN.*kafka\.tls\.caFile/,
      );
      expect(a.kind).toBe('auth');
    }
  });

  it('refused SASL credentials: KAFKA_AUTHENTICATION_FAILED; anything else KAFKA_UNAVAILABLE (retryable)', () => {
    const sasl = Object.assign(
      new Error('SASL SCRAM-SHA-512 authentication failed: bad credentials'),
      {
        name: 'KafkaJSSASLAuthenticationError',
      },
    );
    const a = connectError(
      Object.assign(new Error('retries'), { name: 'KafkaJSNonRetriableError', cause: sasl }),
      brokers,
    );
    expect(a.code).toBe('KAFKA_AUTHENTICATION_FAILED');
    expect(a.message).toContain('check kafka.sasl.mechanism, username and password');
    const u = connectError(new Error('Connection error: connect ECONNREFUSED'), brokers);
    expect([u.code, u.retryable]).toEqual(['KAFKA_UNAVAILABLE', true]);
  });
});
