import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaConfig } from '../config/index.js';
import { ArchiveError, ErrorCodes } from '../errors.js';

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ArchiveError(
      ErrorCodes.CONFIG_INVALID,
      `config error: kafka.tls.${key}: cannot read ${JSON.stringify(path)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Node TLS options for the broker connections from `kafka.ssl` and `kafka.tls.*` (shared by the
 * client adapters), or undefined for plaintext. The broker's certificate is always verified:
 * against `caFile` when given, else the system CA store; its host name too unless
 * `verifyHostname` is false (Kafka's ssl.endpoint.identification.algorithm="").
 */
export function kafkaTlsOptions(config: KafkaConfig): ConnectionOptions | undefined {
  if (!config.ssl) return undefined;
  const t = config.tls;
  return {
    rejectUnauthorized: true,
    ...(t.caFile !== undefined ? { ca: readPem(t.caFile, 'caFile') } : {}),
    ...(t.certFile !== undefined ? { cert: readPem(t.certFile, 'certFile') } : {}),
    ...(t.keyFile !== undefined ? { key: readPem(t.keyFile, 'keyFile') } : {}),
    ...(t.keyPassword !== undefined ? { passphrase: t.keyPassword } : {}),
    ...(t.verifyHostname ? {} : { checkServerIdentity: () => undefined }),
  };
}
