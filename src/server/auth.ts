import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/index.js';
import { ArchiveError, ErrorCodes } from '../errors.js';

/** What an endpoint needs: nothing (health, readiness, the API document), `read` or `admin`. */
export type Access = 'open' | 'read' | 'admin';
export type Role = 'read' | 'admin';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * Bearer-token checks of the HTTP API (server.auth). Tokens are kept only as SHA-256 digests and
 * a presented token is compared with every configured one by `timingSafeEqual` over the digests
 * (equal lengths, no early exit), so neither the time taken nor an error says how close a guess
 * was. Tokens never reach a log line, an error message or a metric label.
 */
export class Authenticator {
  private readonly tokens: Array<{ digest: Buffer; role: Role }>;

  constructor(auth: Config['server']['auth']) {
    this.tokens = [
      ...auth.readTokens.map((t) => ({ digest: digest(t), role: 'read' as const })),
      ...auth.adminTokens.map((t) => ({ digest: digest(t), role: 'admin' as const })),
    ];
  }

  /** Tokens are configured: every endpoint but the open ones needs one. */
  get enabled(): boolean {
    return this.tokens.length > 0;
  }

  /** The role of a presented token, or null. Constant time over the configured tokens. */
  roleOf(token: string): Role | null {
    const d = digest(token);
    let role: Role | null = null;
    for (const t of this.tokens) {
      // No break: every token is compared, whatever matched.
      if (timingSafeEqual(d, t.digest) && role !== 'admin') role = t.role;
    }
    return role;
  }

  /**
   * Throws AUTH_REQUIRED (no token), AUTH_INVALID_TOKEN (unknown or malformed) or
   * AUTH_FORBIDDEN (a read token where admin is needed); returns when the request may go on.
   */
  check(req: IncomingMessage, access: Access): void {
    if (access === 'open' || !this.enabled) return;
    const header = req.headers.authorization;
    if (header === undefined || header.trim() === '') {
      throw new ArchiveError(
        ErrorCodes.AUTH_REQUIRED,
        'this endpoint needs a bearer token: send "Authorization: Bearer <token>"',
      );
    }
    const m = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
    const role = m === null ? null : this.roleOf(m[1] as string);
    if (role === null) {
      throw new ArchiveError(
        ErrorCodes.AUTH_INVALID_TOKEN,
        m === null
          ? 'malformed Authorization header: expected "Bearer <token>"'
          : 'the bearer token is not valid',
      );
    }
    if (access === 'admin' && role !== 'admin') {
      throw new ArchiveError(
        ErrorCodes.AUTH_FORBIDDEN,
        'this endpoint needs a token of role admin (server.auth.adminTokens)',
      );
    }
  }
}

/** The WWW-Authenticate challenge of a 401 (RFC 6750). */
export function challenge(code: string): string {
  return code === ErrorCodes.AUTH_INVALID_TOKEN
    ? 'Bearer realm="kafka-archive", error="invalid_token"'
    : 'Bearer realm="kafka-archive"';
}
