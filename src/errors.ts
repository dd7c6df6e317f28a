/**
 * One error type for the whole product. Every error carries a stable string `code` (documented in
 * README, usable in alerts), a `retryable` flag and, for mistakes the user can fix (bad config,
 * unknown topic, bad arguments), `userFacing: true` so the CLI prints the message without a stack.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  CONFIG_FILE_UNREADABLE: 'CONFIG_FILE_UNREADABLE',
  USAGE: 'USAGE',
  KAFKA_UNAVAILABLE: 'KAFKA_UNAVAILABLE',
  KAFKA_TOPIC_UNKNOWN: 'KAFKA_TOPIC_UNKNOWN',
  KAFKA_COMMIT_FAILED: 'KAFKA_COMMIT_FAILED',
  KAFKA_CLIENT_UNSUPPORTED: 'KAFKA_CLIENT_UNSUPPORTED',
  KAFKA_AUTHORIZATION_FAILED: 'KAFKA_AUTHORIZATION_FAILED',
  KAFKA_AUTHENTICATION_FAILED: 'KAFKA_AUTHENTICATION_FAILED',
  KAFKA_RECORD_TOO_LARGE: 'KAFKA_RECORD_TOO_LARGE',
  KAFKA_REQUEST_FAILED: 'KAFKA_REQUEST_FAILED',
  SEGMENT_WRITE_FAILED: 'SEGMENT_WRITE_FAILED',
  SEGMENT_META_INVALID: 'SEGMENT_META_INVALID',
  SEGMENT_CORRUPT: 'SEGMENT_CORRUPT',
  DISK_FULL: 'DISK_FULL',
  RESERVE_NONE_ARMED: 'RESERVE_NONE_ARMED',
  RESERVE_NO_SPACE: 'RESERVE_NO_SPACE',
  RESERVE_NOT_ALLOCATED: 'RESERVE_NOT_ALLOCATED',
  KAFKA_LOGDIR_UNREADABLE: 'KAFKA_LOGDIR_UNREADABLE',
  KAFKA_CHECKPOINT_INVALID: 'KAFKA_CHECKPOINT_INVALID',
  ARCHIVE_TOPIC_UNKNOWN: 'ARCHIVE_TOPIC_UNKNOWN',
  OBJECT_EXISTS: 'OBJECT_EXISTS',
  OBJECT_NOT_FOUND: 'OBJECT_NOT_FOUND',
  OBJECT_RANGE_INVALID: 'OBJECT_RANGE_INVALID',
  STORAGE_KEY_INVALID: 'STORAGE_KEY_INVALID',
  STORAGE_AUTH: 'STORAGE_AUTH',
  STORAGE_BUCKET_MISSING: 'STORAGE_BUCKET_MISSING',
  STORAGE_UNAVAILABLE: 'STORAGE_UNAVAILABLE',
  ARCHIVE_OFFSET_OUT_OF_RANGE: 'ARCHIVE_OFFSET_OUT_OF_RANGE',
  ARCHIVE_NO_DATA_AT_TIME: 'ARCHIVE_NO_DATA_AT_TIME',
  CATALOG_LOCKED: 'CATALOG_LOCKED',
  DISK_REPORT_UNAVAILABLE: 'DISK_REPORT_UNAVAILABLE',
  CATALOG_CORRUPT: 'CATALOG_CORRUPT',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface ArchiveErrorOptions {
  retryable?: boolean;
  userFacing?: boolean;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class ArchiveError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly userFacing: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ArchiveErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ArchiveError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.userFacing = options.userFacing ?? false;
    this.details = options.details;
  }
}

/** Errno-style code of a Node system error (ENOSPC, EACCES, ...), searching the cause chain. */
export function errnoCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur !== null && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
    const errno = (cur as { details?: { errno?: unknown } }).details?.errno;
    if (typeof errno === 'string') return errno;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isArchiveError(err: unknown): err is ArchiveError {
  return err instanceof ArchiveError;
}

/** A short, single-line description of any thrown value, for logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
