import { findErrorBy } from '@platformatic/kafka';
import { ArchiveError, ErrorCodes, type ErrorCode } from '../../errors.js';

/**
 * @platformatic/kafka reports failures as trees: MultipleErrors ("fetch failed 4 times.") over
 * ResponseErrors over one ProtocolError per failing partition, each with an `apiId` such as
 * OFFSET_OUT_OF_RANGE. These helpers classify such a tree and turn it into one ArchiveError.
 */

const AUTH_API_ERRORS = [
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
];

function asError(err: unknown): Error | null {
  return err instanceof Error ? err : null;
}

/** The error tree contains a Kafka protocol error with this id (e.g. 'OFFSET_OUT_OF_RANGE'). */
export function hasApiError(err: unknown, apiId: string): boolean {
  return findErrorBy(asError(err), 'apiId', apiId) !== null;
}

export function isAuthError(err: unknown): boolean {
  if (findErrorBy(asError(err), 'code', 'PLT_KFK_AUTHENTICATION') !== null) return true;
  return AUTH_API_ERRORS.some((id) => hasApiError(err, id));
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
  if (isAuthError(err)) {
    return new ArchiveError(ErrorCodes.KAFKA_AUTH_FAILED, `${what}: ${detail}`, {
      userFacing: true,
      cause: err,
    });
  }
  if (isFenced(err)) {
    return new ArchiveError(ErrorCodes.KAFKA_PRODUCER_FENCED, `${what}: ${detail}`, {
      cause: err,
    });
  }
  if (hasApiError(err, 'UNKNOWN_TOPIC_OR_PARTITION') || /Unknown topic /.test(detail)) {
    return new ArchiveError(ErrorCodes.KAFKA_TOPIC_UNKNOWN, `${what}: ${detail}`, {
      userFacing: true,
      cause: err,
    });
  }
  if (isNetworkError(err)) {
    return new ArchiveError(ErrorCodes.KAFKA_UNAVAILABLE, `${what}: ${detail}`, {
      userFacing: true,
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
