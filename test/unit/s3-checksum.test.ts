// storage.s3.checksum against a fake S3 endpoint (node:http) that ignores or refuses
// x-amz-checksum-sha256, which the test bed's versitygw never does (it checks it: see
// test/integration/tiering-checksum.test.ts). Asserts which headers each upload carries.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore, type S3ChecksumMode } from '../../src/storage/index.js';

type Behaviour = 'echo' | 'ignore' | 'refuse';

let server: Server;
let endpoint = '';
let behaviour: Behaviour = 'echo';
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(req.headers);
      const checksum = req.headers['x-amz-checksum-sha256'];
      if (behaviour === 'refuse' && checksum !== undefined) {
        res.writeHead(501, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>',
        );
        return;
      }
      const headers: Record<string, string> = { etag: '"0123456789abcdef"' };
      if (behaviour === 'echo' && typeof checksum === 'string') {
        headers['x-amz-checksum-sha256'] = checksum;
      }
      res.writeHead(200, headers);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function store(checksum?: S3ChecksumMode): S3ObjectStore {
  return new S3ObjectStore({
    endpoint,
    region: 'us-east-1',
    bucket: 'b',
    accessKeyId: 'k',
    secretAccessKey: 's',
    maxAttempts: 1,
    ...(checksum !== undefined ? { checksum } : {}),
  });
}

const body = randomBytes(100_000);
const hex = createHash('sha256').update(body).digest('hex');
const b64 = createHash('sha256').update(body).digest('base64');
const md5 = createHash('md5').update(body).digest('base64');

async function put(s: S3ObjectStore, key: string) {
  seen.length = 0;
  const r = await s.put(key, body);
  return { r, requests: seen.map((h) => ({ ...h })) };
}

describe('storage.s3.checksum', () => {
  it('sha256 (auto, server echoes): one hash signs the request and is the checksum; no Content-MD5', async () => {
    behaviour = 'echo';
    const s = store();
    const { r, requests } = await put(s, 'a');
    expect(r).toMatchObject({ sha256: hex, verified: true });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      'x-amz-checksum-sha256': b64,
      'x-amz-content-sha256': hex,
    });
    expect(requests[0]?.['content-md5']).toBeUndefined();
    expect(s.checksumMode).toBe('sha256');
    await s.close();
  });

  it('auto, server ignores the checksum (no echo): that upload is unverified, later ones carry Content-MD5', async () => {
    behaviour = 'ignore';
    const s = store();
    const first = await put(s, 'a');
    expect(first.r).toMatchObject({ sha256: hex, verified: false });
    expect(first.requests[0]?.['x-amz-checksum-sha256']).toBe(b64);
    expect(s.checksumMode).toBe('md5');
    const second = await put(s, 'b');
    expect(second.r).toMatchObject({ sha256: hex, verified: true });
    expect(second.requests).toHaveLength(1);
    expect(second.requests[0]).toMatchObject({ 'content-md5': md5, 'x-amz-content-sha256': hex });
    expect(second.requests[0]?.['x-amz-checksum-sha256']).toBeUndefined();
    await s.close();
  });

  it('auto, server refuses the checksum (501 NotImplemented): the upload is sent again with Content-MD5', async () => {
    behaviour = 'refuse';
    const s = store();
    const first = await put(s, 'a');
    expect(first.r).toMatchObject({ sha256: hex, verified: true });
    expect(first.requests).toHaveLength(2);
    expect(first.requests[0]?.['x-amz-checksum-sha256']).toBe(b64);
    expect(first.requests[1]).toMatchObject({ 'content-md5': md5 });
    expect(first.requests[1]?.['x-amz-checksum-sha256']).toBeUndefined();
    const second = await put(s, 'b');
    expect(second.requests).toHaveLength(1);
    expect(second.requests[0]).toMatchObject({ 'content-md5': md5 });
    await s.close();
  });

  it('sha256 set explicitly: a refusal is an error, no echo means unverified (read back), never md5', async () => {
    behaviour = 'ignore';
    const s = store('sha256');
    const a = await put(s, 'a');
    expect(a.r).toMatchObject({ sha256: hex, verified: false });
    const b = await put(s, 'b');
    expect(b.requests[0]?.['content-md5']).toBeUndefined();
    expect(b.requests[0]?.['x-amz-checksum-sha256']).toBe(b64);
    behaviour = 'refuse';
    await expect(s.put('c', body)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await s.close();
  });

  it('md5 set explicitly: Content-MD5 and the signing hash, no checksum header', async () => {
    behaviour = 'echo';
    const s = store('md5');
    const { r, requests } = await put(s, 'a');
    expect(r).toMatchObject({ sha256: hex, verified: true });
    expect(requests[0]).toMatchObject({ 'content-md5': md5, 'x-amz-content-sha256': hex });
    expect(requests[0]?.['x-amz-checksum-sha256']).toBeUndefined();
    await s.close();
  });
});
