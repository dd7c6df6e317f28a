import type { Config } from '../config/index.js';
import { ArchiveError, ErrorCodes, isErrorCode } from '../errors.js';

/**
 * The running service's HTTP API as seen from a CLI command on the same host: commands that need
 * the catalog writer lock (`tier`, `catalog rebuild`) act through it while the service holds the
 * lock; `reserve release|rearm` act through its disk monitor whenever it answers.
 */
export interface ServiceApi {
  url: string;
  token: string | undefined;
}

/** Where the service of this config listens, or null when it serves no API this way. */
export function serviceApi(config: Config): ServiceApi | null {
  const s = config.server;
  if (!s.enabled || s.port === 0) return null;
  const host = s.host === '0.0.0.0' ? '127.0.0.1' : s.host === '::' ? '::1' : s.host;
  const scheme = s.tls.certFile !== undefined ? 'https' : 'http';
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return { url: `${scheme}://${h}:${s.port}`, token: s.auth.adminTokens[0] };
}

/**
 * POSTs to the service; answers the parsed JSON body, or throws the service's error (its code
 * and message). Null when nothing answers there (the service is not running its API).
 */
export function postService(api: ServiceApi, path: string): Promise<unknown> {
  return callService(api, 'POST', path);
}

/** GETs from the service (as postService). */
export function getService(api: ServiceApi, path: string): Promise<unknown> {
  return callService(api, 'GET', path);
}

async function callService(api: ServiceApi, method: string, path: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${api.url}${path}`, {
      method,
      headers: api.token !== undefined ? { authorization: `Bearer ${api.token}` } : {},
      signal: AbortSignal.timeout(3_600_000),
    });
  } catch {
    return null;
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // not JSON: reported below
  }
  if (res.ok && body !== null) return body;
  const e = body as { code?: unknown; error?: unknown } | null;
  const code = isErrorCode(e?.code) ? e.code : ErrorCodes.INTERNAL;
  const message =
    typeof e?.error === 'string' ? e.error : `HTTP ${res.status}: ${text.slice(0, 200)}`;
  throw new ArchiveError(code, `the running service at ${api.url} answered: ${message}`);
}
