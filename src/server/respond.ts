import type { ServerResponse } from 'node:http';
import type { ErrorBody } from './errors.js';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const NDJSON_TYPE = 'application/x-ndjson; charset=utf-8';

export function send(res: ServerResponse, status: number, body: string, type = JSON_TYPE): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, body: ErrorBody): void {
  send(res, status, `${JSON.stringify(body)}\n`);
}
