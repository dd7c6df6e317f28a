import { ArchiveError, ErrorCodes, type ErrorCode } from '../../errors.js';

/**
 * kafkajs errors as ArchiveErrors with the product's codes, so callers above the adapter can
 * tell an unreachable cluster, refused credentials, a missing ACL and an oversized record apart
 * without knowing the client library. kafkajs wraps the broker's error in retry errors
 * (`cause`) and aggregate errors (`errors`): the whole chain is searched.
 */

interface KafkajsLike {
  name?: string;
  type?: string;
  message?: string;
  cause?: unknown;
  errors?: unknown[];
}

function chain(err: unknown): KafkajsLike[] {
  const out: KafkajsLike[] = [];
  const todo: unknown[] = [err];
  while (todo.length > 0 && out.length < 20) {
    const e = todo.shift();
    if (e === null || typeof e !== 'object') continue;
    const k = e as KafkajsLike;
    out.push(k);
    if (k.cause !== undefined) todo.push(k.cause);
    if (Array.isArray(k.errors)) todo.push(...k.errors);
  }
  return out;
}

const AUTHZ: Record<string, string> = {
  TOPIC_AUTHORIZATION_FAILED: 'the topic (ACL on the Topic resource: Describe, Write, Create)',
  GROUP_AUTHORIZATION_FAILED: 'the consumer group (ACL on the Group resource: Read, Describe)',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    'the transactional id (ACL on the TransactionalId resource: Write, Describe)',
  CLUSTER_AUTHORIZATION_FAILED: 'the cluster (ACL on the Cluster resource)',
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 'delegation tokens',
};

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** The code of an already mapped error, or of a kafkajs error in the chain. */
export function kafkaErrorCode(err: unknown): ErrorCode | null {
  for (const e of chain(err)) {
    if (e instanceof ArchiveError) return e.code;
    if (e.type !== undefined && AUTHZ[e.type] !== undefined)
      return ErrorCodes.KAFKA_AUTHORIZATION_FAILED;
    if (e.name === 'KafkaJSSASLAuthenticationError' || e.type === 'SASL_AUTHENTICATION_FAILED')
      return ErrorCodes.KAFKA_AUTHENTICATION_FAILED;
    if (e.type !== undefined && TOO_LARGE.has(e.type)) return ErrorCodes.KAFKA_RECORD_TOO_LARGE;
  }
  for (const e of chain(err)) {
    if (e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSBrokerNotFound')
      return ErrorCodes.KAFKA_UNAVAILABLE;
  }
  return null;
}

/** Wraps a kafkajs failure of `what` (e.g. "creating topic x") in an ArchiveError. */
export function kafkaError(err: unknown, what: string): ArchiveError {
  if (err instanceof ArchiveError) return err;
  const links = chain(err);
  const root = links.find((e) => e.type !== undefined) ?? links[links.length - 1] ?? {};
  const message = root.message ?? String(err);
  const code = kafkaErrorCode(err);
  switch (code) {
    case ErrorCodes.KAFKA_AUTHORIZATION_FAILED: {
      const type = links.find((e) => e.type !== undefined && AUTHZ[e.type] !== undefined)
        ?.type as string;
      return new ArchiveError(
        code,
        `not authorized: ${what}: Kafka refused access to ${AUTHZ[type]} (${type}); grant the ACL to this client's principal`,
        { userFacing: true, cause: err, details: { kafkaError: type } },
      );
    }
    case ErrorCodes.KAFKA_AUTHENTICATION_FAILED:
      return new ArchiveError(code, `authentication failed: ${what}: ${message}`, {
        userFacing: true,
        cause: err,
      });
    case ErrorCodes.KAFKA_RECORD_TOO_LARGE:
      return new ArchiveError(code, `${what}: ${message}`, { cause: err });
    case ErrorCodes.KAFKA_UNAVAILABLE:
      return new ArchiveError(code, `Kafka unreachable: ${what}: ${message}`, {
        userFacing: true,
        retryable: true,
        cause: err,
      });
    default:
      return new ArchiveError(ErrorCodes.KAFKA_REQUEST_FAILED, `${what}: ${message}`, {
        retryable: true,
        cause: err,
      });
  }
}
