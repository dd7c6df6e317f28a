import type * as KafkaJS from 'kafkajs';
import { ArchiveError, ErrorCodes, describeError } from '../../errors.js';
import type { Logger } from '../../log/index.js';
import { TLS_TRUST_CODES } from '../../util/tls.js';

/**
 * What kafkajs says, made fit for an operator's log, and its connection failures as product
 * errors. kafkajs logs every failed connection attempt at error level with a stack trace, so an
 * unreachable broker floods the log; here its lines become warnings without stacks, and the
 * same line is written at most once per window (with the number of repeats left out).
 */

/** The same kafkajs message is logged at most once per this window. */
export const KAFKAJS_LOG_WINDOW_MS = 60_000;

const LEVELS: Record<number, 'warn' | 'info' | 'debug'> = {
  1: 'warn', // kafkajs ERROR: retried connection failures, mostly; the product logs what matters
  2: 'warn',
  4: 'info',
  5: 'debug',
};

/** Digits (ports, retry counts, times) do not make a message new. */
const shapeOf = (message: string) => message.replace(/\d+/g, '#');

export interface ThrottleOptions {
  windowMs?: number;
  now?: () => number;
  /** Lines that are noise at warning level (retried protocol errors): logged at debug. */
  debugIf?: (message: string, fields: Record<string, unknown>) => boolean;
}

export function throttledLogCreator(
  log: Logger,
  options: ThrottleOptions = {},
): KafkaJS.logCreator {
  const windowMs = options.windowMs ?? KAFKAJS_LOG_WINDOW_MS;
  const now = options.now ?? Date.now;
  const last = new Map<string, { at: number; repeats: number }>();
  return () =>
    ({ level, log: entry }) => {
      // A stack trace of a retried connection error helps nobody; the message has the cause.
      const { message, stack: _stack, timestamp: _ts, ...rest } = entry;
      const lvl =
        options.debugIf?.(message, rest as Record<string, unknown>) === true
          ? 'debug'
          : (LEVELS[level] ?? 'info');
      if (lvl === 'debug' && !log.isLevelEnabled('debug')) return;
      const key = `${lvl}\u0000${shapeOf(message)}`;
      const t = now();
      const seen = last.get(key);
      if (seen !== undefined && t - seen.at < windowMs) {
        seen.repeats++;
        return;
      }
      last.set(key, { at: t, repeats: 0 });
      if (last.size > 1000) last.clear();
      const repeated = seen?.repeats ?? 0;
      log[lvl](
        {
          ...rest,
          component: 'kafkajs',
          ...(lvl === 'warn' ? { code: codeOfMessage(message) } : {}),
          ...(repeated > 0 ? { repeatedInWindow: repeated } : {}),
        },
        message,
      );
    };
}

function codeOfMessage(message: string): string {
  if (/SASL|authenticat/i.test(message)) return ErrorCodes.KAFKA_AUTHENTICATION_FAILED;
  if (/certificate|self.signed|\bTLS\b|\bSSL\b/i.test(message)) return ErrorCodes.KAFKA_TLS_FAILED;
  return ErrorCodes.KAFKA_UNAVAILABLE;
}

/** TLS failures that mean "this CA does not vouch for that broker" (Node's error codes). */

function chain(err: unknown): Array<{ name?: unknown; code?: unknown; message?: unknown }> {
  const out: Array<{ name?: unknown; code?: unknown; message?: unknown }> = [];
  let cur: unknown = err;
  for (let i = 0; i < 8 && cur !== null && typeof cur === 'object'; i++) {
    out.push(cur as { name?: unknown; code?: unknown; message?: unknown });
    const c = cur as { cause?: unknown; originalError?: unknown };
    cur = c.cause ?? c.originalError;
  }
  return out;
}

/**
 * A failed connection as an ArchiveError: refused credentials (KAFKA_AUTHENTICATION_FAILED), a broker
 * certificate the configured CA does not trust (KAFKA_TLS_FAILED), else KAFKA_UNAVAILABLE.
 */
export function connectError(err: unknown, brokers: string[]): ArchiveError {
  if (err instanceof ArchiveError) return err;
  const links = chain(err);
  const at = brokers.join(',');
  const tls = links.find((e) => typeof e.code === 'string' && TLS_TRUST_CODES.has(e.code));
  if (tls !== undefined) {
    return new ArchiveError(
      ErrorCodes.KAFKA_TLS_FAILED,
      `TLS to Kafka at ${at} failed: ${describeError(tls)} (${String(tls.code)}); set kafka.tls.caFile to the CA that signed the brokers' certificates, and check the broker host names`,
      { cause: err },
    );
  }
  if (links.some((e) => e.name === 'KafkaJSSASLAuthenticationError')) {
    return new ArchiveError(
      ErrorCodes.KAFKA_AUTHENTICATION_FAILED,
      `Kafka at ${at} refused the SASL credentials: ${describeError(err)}; check kafka.sasl.mechanism, username and password`,
      { cause: err },
    );
  }
  return new ArchiveError(
    ErrorCodes.KAFKA_UNAVAILABLE,
    `cannot connect to Kafka at ${at}: ${describeError(err)}`,
    { retryable: true, cause: err },
  );
}
