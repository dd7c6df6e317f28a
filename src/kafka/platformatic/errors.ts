import { findErrorBy } from '@platformatic/kafka';
import { ArchiveError, ErrorCodes, describeError, type ErrorCode } from '../../errors.js';
import { TLS_TRUST_CODES } from '../../util/tls.js';

/**
 * @platformatic/kafka reports failures as trees: MultipleErrors ("fetch failed 4 times.") over
 * ResponseErrors over one ProtocolError per failing partition, each with an `apiId` such as
 * OFFSET_OUT_OF_RANGE. These helpers classify such a tree and turn it into one ArchiveError.
 */

/** The client's own code (not ours) of an AuthenticationError. */
const PLT_AUTHENTICATION = 'PLT_KFK_AUTHENTICATION';

const AUTHENTICATION_API_ERRORS = [
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
];

/** What each authorization error refused, for the message (as the kafkajs adapter says it). */
const AUTHORIZATION_API_ERRORS: Record<string, string> = {
  TOPIC_AUTHORIZATION_FAILED: 'the topic (ACL on the Topic resource: Describe, Write, Create)',
  GROUP_AUTHORIZATION_FAILED: 'the consumer group (ACL on the Group resource: Read, Describe)',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    'the transactional id (ACL on the TransactionalId resource: Write, Describe)',
  CLUSTER_AUTHORIZATION_FAILED: 'the cluster (ACL on the Cluster resource)',
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 'delegation tokens',
};

function asError(err: unknown): Error | null {
  return err instanceof Error ? err : null;
}

/** The error tree contains a Kafka protocol error with this id (e.g. 'OFFSET_OUT_OF_RANGE'). */
export function hasApiError(err: unknown, apiId: string): boolean {
  return findErrorBy(asError(err), 'apiId', apiId) !== null;
}

/**
 * Every error of the tree, following `errors` and `cause`: the client's own `findBy` does not
 * follow `cause`, where a NetworkError keeps the AuthenticationError or TLS error under it.
 */
function errorTree(err: unknown): Array<Error & { code?: unknown }> {
  const out: Array<Error & { code?: unknown }> = [];
  const todo: unknown[] = [err];
  while (todo.length > 0 && out.length < 50) {
    const e = todo.shift();
    if (!(e instanceof Error)) continue;
    out.push(e);
    const nested = (e as Error & { errors?: unknown }).errors;
    if (Array.isArray(nested)) todo.push(...(nested as unknown[]));
    if (e.cause !== undefined) todo.push(e.cause);
  }
  return out;
}

/** The TLS error of a tree whose peer certificate was not trusted, if any. */
export function tlsTrustError(err: unknown): (Error & { code?: unknown }) | undefined {
  return errorTree(err).find((e) => typeof e.code === 'string' && TLS_TRUST_CODES.has(e.code));
}

/**
 * A failed connection (the first request of a client) as the kafkajs adapter reports it: refused
 * credentials, an untrusted certificate, else `toArchiveError`.
 */
export function connectError(err: unknown, at: string): ArchiveError {
  if (err instanceof ArchiveError) return err;
  const tls = tlsTrustError(err);
  if (tls !== undefined) {
    return new ArchiveError(
      ErrorCodes.KAFKA_TLS_FAILED,
      `TLS to Kafka at ${at} failed: ${describeError(tls)} (${String(tls.code)}); set kafka.tls.caFile to the CA that signed the brokers' certificates, and check the broker host names`,
      { cause: err },
    );
  }
  if (isAuthenticationError(err)) {
    const tree = errorTree(err);
    const auth = tree.find((e) => e.code === PLT_AUTHENTICATION);
    const server = [
      ...new Set(
        tree
          .map((e) => (e as { serverErrorMessage?: unknown }).serverErrorMessage)
          .filter((m): m is string => typeof m === 'string' && m !== ''),
      ),
    ];
    const detail = `${auth?.message ?? describeKafkaError(err)}${server.length > 0 ? ` ${server.join('; ')}` : ''}`;
    return new ArchiveError(
      ErrorCodes.KAFKA_AUTHENTICATION_FAILED,
      `Kafka at ${at} refused the SASL credentials: ${detail}; check kafka.sasl.mechanism, username and password`,
      { cause: err },
    );
  }
  return toArchiveError(err, `cannot connect to Kafka at ${at}`, ErrorCodes.KAFKA_UNAVAILABLE);
}

export function isAuthenticationError(err: unknown): boolean {
  if (errorTree(err).some((e) => e.code === PLT_AUTHENTICATION)) return true;
  return AUTHENTICATION_API_ERRORS.some((id) => hasApiError(err, id));
}

/** The authorization error's id, if the tree holds one. */
function authorizationError(err: unknown): string | undefined {
  return Object.keys(AUTHORIZATION_API_ERRORS).find((id) => hasApiError(err, id));
}

export function isNetworkError(err: unknown): boolean {
  const e = asError(err);
  return (
    findErrorBy(e, 'code', 'PLT_KFK_NETWORK') !== null ||
    findErrorBy(e, 'code', 'PLT_KFK_TIMEOUT') !== null
  );
}

export function isFenced(err: unknown): boolean {
  return (
    hasApiError(err, 'PRODUCER_FENCED') ||
    hasApiError(err, 'INVALID_PRODUCER_EPOCH') ||
    hasApiError(err, 'TRANSACTIONAL_ID_NOT_FOUND')
  );
}

/** Every error of the tree has canRetry (the client's own verdict). */
export function isRetriable(err: unknown): boolean {
  return findErrorBy(asError(err), 'canRetry', false) === null;
}

function leaves(err: unknown, out: string[], depth = 0): void {
  if (depth > 6 || !(err instanceof Error)) {
    if (!(err instanceof Error)) out.push(String(err));
    return;
  }
  const nested = (err as Error & { errors?: unknown }).errors;
  if (Array.isArray(nested) && nested.length > 0) {
    for (const e of nested) leaves(e, out, depth + 1);
    return;
  }
  const e = err as Error & { apiId?: unknown; serverErrorMessage?: unknown };
  const id = typeof e.apiId === 'string' ? `${e.apiId}: ` : '';
  const server = typeof e.serverErrorMessage === 'string' ? ` (${e.serverErrorMessage})` : '';
  out.push(`${id}${e.message}${server}`);
}

/** One line: the top message and the distinct causes under it. */
export function describeKafkaError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const causes: string[] = [];
  leaves(err, causes);
  const distinct = [...new Set(causes)].filter((c) => c !== err.message);
  return distinct.length === 0 ? err.message : `${err.message} ${distinct.join('; ')}`;
}

/**
 * An ArchiveError for a failed client call: authentication, connectivity and unknown topics get
 * their own codes, anything else `fallback`. ArchiveErrors pass through unchanged.
 */
export function toArchiveError(
  err: unknown,
  what: string,
  fallback: ErrorCode = ErrorCodes.KAFKA_REQUEST_FAILED,
): ArchiveError {
  if (err instanceof ArchiveError) return err;
  const detail = describeKafkaError(err);
  const denied = authorizationError(err);
  if (denied !== undefined) {
    return new ArchiveError(
      ErrorCodes.KAFKA_AUTHORIZATION_FAILED,
      `not authorized: ${what}: Kafka refused access to ${AUTHORIZATION_API_ERRORS[denied]} (${denied}); grant the ACL to this client's principal`,
      { cause: err, details: { kafkaError: denied } },
    );
  }
  if (isAuthenticationError(err)) {
    return new ArchiveError(
      ErrorCodes.KAFKA_AUTHENTICATION_FAILED,
      `authentication failed: ${what}: ${detail}`,
      { cause: err },
    );
  }
  if (hasApiError(err, 'MESSAGE_TOO_LARGE') || hasApiError(err, 'RECORD_LIST_TOO_LARGE')) {
    return new ArchiveError(ErrorCodes.KAFKA_RECORD_TOO_LARGE, `${what}: ${detail}`, {
      cause: err,
    });
  }
  if (isFenced(err)) {
    // Another producer with the same transactional id took over: retrying cannot help.
    return new ArchiveError(ErrorCodes.KAFKA_REQUEST_FAILED, `${what}: fenced: ${detail}`, {
      cause: err,
      details: { fenced: true },
    });
  }
  if (hasApiError(err, 'UNKNOWN_TOPIC_OR_PARTITION') || /Unknown topic /.test(detail)) {
    return new ArchiveError(ErrorCodes.KAFKA_TOPIC_UNKNOWN, `${what}: ${detail}`, {
      cause: err,
    });
  }
  if (isNetworkError(err)) {
    return new ArchiveError(ErrorCodes.KAFKA_UNAVAILABLE, `Kafka unreachable: ${what}: ${detail}`, {
      retryable: true,
      cause: err,
    });
  }
  return new ArchiveError(fallback, `${what}: ${detail}`, {
    retryable: isRetriable(err),
    cause: err,
  });
}

/** The response a ResponseError carries (partial results: some partitions failed), if any. */
export function responseOf(err: unknown): unknown {
  let found: unknown;
  const walk = (e: unknown, depth: number) => {
    if (depth > 6 || !(e instanceof Error)) return;
    const r = (e as Error & { response?: unknown }).response;
    if (r !== undefined && r !== null) found = r;
    const nested = (e as Error & { errors?: unknown }).errors;
    if (Array.isArray(nested)) for (const n of nested) walk(n, depth + 1);
  };
  walk(err, 0);
  return found;
}
