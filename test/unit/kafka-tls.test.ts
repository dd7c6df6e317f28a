// The TLS options the Kafka adapters get from kafka.ssl / kafka.tls.*, used for real against a
// local TLS server whose certificate names another host: verified against the configured CA,
// host name checked unless verifyHostname is false, an unreadable file a config error.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type ConnectionOptions } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { kafkaTlsOptions } from '../../src/kafka/tls.js';

const dir = mkdtempSync(join(tmpdir(), 'ka-kafka-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (n: string) => join(dir, n);
const ssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
ssl([
  'req',
  '-x509',
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:prime256v1',
  '-nodes',
  '-keyout',
  f('ca-key.pem'),
  '-out',
  f('ca.pem'),
  '-days',
  '1',
  '-subj',
  '/CN=test CA',
]);
ssl([
  'req',
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:prime256v1',
  '-nodes',
  '-keyout',
  f('key.pem'),
  '-out',
  f('req.csr'),
  '-subj',
  '/CN=broker.example',
]);
execFileSync('bash', ['-c', `printf 'subjectAltName=DNS:broker.example\\n' > ${f('san.ext')}`]);
ssl([
  'x509',
  '-req',
  '-in',
  f('req.csr'),
  '-CA',
  f('ca.pem'),
  '-CAkey',
  f('ca-key.pem'),
  '-CAcreateserial',
  '-days',
  '1',
  '-extfile',
  f('san.ext'),
  '-out',
  f('cert.pem'),
]);

const options = (env: Record<string, string>) =>
  kafkaTlsOptions(loadConfig({ env: { KAFKA_ARCHIVE_KAFKA__SSL: 'true', ...env } }).kafka);

async function handshake(opts: ConnectionOptions): Promise<string> {
  const server = createServer(
    { cert: readFileSync(f('cert.pem')), key: readFileSync(f('key.pem')) },
    (s) => s.end(),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise<string>((resolve) => {
      const s = connect({ ...opts, host: '127.0.0.1', port }, () => {
        s.end();
        resolve('ok');
      });
      s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
  } finally {
    server.close();
  }
}

describe('Kafka TLS options', () => {
  it('plaintext without kafka.ssl; kafka.tls.* without ssl is a config error', () => {
    expect(kafkaTlsOptions(loadConfig({ env: {} }).kafka)).toBeUndefined();
    expect(() => loadConfig({ env: { KAFKA_ARCHIVE_KAFKA__TLS__CA_FILE: f('ca.pem') } })).toThrow(
      /kafka\.ssl: got false: kafka\.tls\.\* is set: set kafka\.ssl: true/,
    );
    expect(() =>
      loadConfig({
        env: { KAFKA_ARCHIVE_KAFKA__SSL: 'true', KAFKA_ARCHIVE_KAFKA__TLS__CERT_FILE: 'x' },
      }),
    ).toThrow(/set both certFile and keyFile/);
  });

  it('verifies the certificate against caFile, and the host name unless verifyHostname is false', async () => {
    expect(await handshake(options({}) ?? {})).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(await handshake(options({ KAFKA_ARCHIVE_KAFKA__TLS__CA_FILE: f('ca.pem') }) ?? {})).toBe(
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
    expect(
      await handshake(
        options({
          KAFKA_ARCHIVE_KAFKA__TLS__CA_FILE: f('ca.pem'),
          KAFKA_ARCHIVE_KAFKA__TLS__VERIFY_HOSTNAME: 'false',
        }) ?? {},
      ),
    ).toBe('ok');
  });

  it('an unreadable file names the key', () => {
    expect(() => options({ KAFKA_ARCHIVE_KAFKA__TLS__CA_FILE: f('missing.pem') })).toThrow(
      /^config error: kafka\.tls\.caFile: cannot read ".*missing\.pem": ENOENT/,
    );
  });
});
