/**
 * One error type for the whole product. Every error carries a stable string `code` from the one
 * table below (documented in README "Error codes", usable in alerts) and a `retryable` flag.
 * Each code has a kind, and the kind decides how the surfaces answer: the CLI exit code and the
 * HTTP status follow from it (`exitCodeOf`, `httpStatusOf`), nowhere else.
 */

/** What sort of failure a code is, from the caller's point of view. */
export type ErrorKind =
  /** Bad arguments or request: the caller can fix it. */
  | 'usage'
  /** Bad configuration: the message names the key, the value and what is allowed. */
  | 'config'
  /** Nothing at the asked place: no such topic, partition, offset or time. */
  | 'not_found'
  /** The archive or the data disagrees with itself (corrupt segment, conflict, mismatch). */
  | 'data'
  /** A dependency is down, full or busy (Kafka, object store, disk, catalog lock): try later. */
  | 'unavailable'
  /** Credentials or permissions refused (Kafka, object store, API token). */
  | 'auth'
  /** A defect: please report it. */
  | 'internal';

interface CodeSpec {
  kind: ErrorKind;
  summary: string;
  /** An HTTP status more precise than the kind's (e.g. 405). */
  status?: number;
  /** A CLI exit code more precise than the kind's. */
  exit?: number;
}

/** The error-code table: every code the product throws or logs. */
export const ERROR_TABLE = {
  USAGE: { kind: 'usage', summary: 'bad command-line arguments or request parameters' },
  CONFIG_INVALID: {
    kind: 'config',
    summary: 'a config key has a bad value, is missing or unknown',
  },
  CONFIG_FILE_UNREADABLE: { kind: 'config', summary: 'the config file cannot be read or parsed' },
  KAFKA_UNAVAILABLE: { kind: 'unavailable', summary: 'cannot connect to the Kafka brokers' },
  KAFKA_TOPIC_UNKNOWN: { kind: 'not_found', summary: 'the topic does not exist in Kafka' },
  KAFKA_COMMIT_FAILED: {
    kind: 'unavailable',
    summary: 'an offset commit failed (the archive stays ahead; the next commit covers it)',
  },
  KAFKA_TLS_FAILED: {
    kind: 'auth',
    summary:
      "the broker's TLS certificate is not trusted (kafka.tls.caFile) or does not match its host name",
  },
  KAFKA_CLIENT_UNSUPPORTED: {
    kind: 'config',
    summary: 'the Kafka client lacks a feature the configuration asks for',
  },
  KAFKA_AUTHORIZATION_FAILED: {
    kind: 'auth',
    summary: 'Kafka refused an operation: an ACL is missing (the message names the resource)',
  },
  KAFKA_AUTHENTICATION_FAILED: { kind: 'auth', summary: 'Kafka refused the SASL credentials' },
  KAFKA_RECORD_TOO_LARGE: {
    kind: 'data',
    summary: 'the broker refused a record as too large',
    exit: 1,
  },
  KAFKA_REQUEST_FAILED: { kind: 'unavailable', summary: 'the broker refused a request' },
  KAFKA_PRODUCER_FENCED: {
    kind: 'unavailable',
    summary: 'a newer producer with the same transactional id took over (this one stops)',
  },
  RESTORE_NO_DATA: {
    kind: 'not_found',
    summary: 'nothing archived in the restore range; the message lists what the archive holds',
    exit: 3,
  },
  RESTORE_GAP: {
    kind: 'data',
    summary:
      'the archive misses offsets inside the range (named); `--allow-gaps` restores without them',
  },
  RESTORE_TARGET_NOT_EMPTY: {
    kind: 'usage',
    summary: 'the target topic holds records and the job is new: `--append` or another topic',
  },
  RESTORE_TARGET_PARTITIONS: {
    kind: 'usage',
    summary: 'the target has fewer partitions than the restore writes to: `--repartition`',
  },
  RESTORE_RECORD_TOO_LARGE: {
    kind: 'data',
    summary: "a record is larger than the target topic's max.message.bytes (both sizes named)",
  },
  RESTORE_VERIFY_FAILED: { kind: 'data', summary: 'restore verification found differences' },
  RESTORE_JOB_CONFLICT: {
    kind: 'usage',
    summary: '`--job NAME` exists with another request',
    status: 409,
  },
  RESTORE_JOB_UNKNOWN: {
    kind: 'usage',
    summary: 'no such restore job in `restore.stateDir`',
    status: 404,
  },
  RESTORE_JOB_LOCKED: {
    kind: 'unavailable',
    summary: 'the restore job is running (another process, or already in this service)',
    status: 409,
  },
  RESTORE_PROGRESS_UNKNOWN: {
    kind: 'data',
    summary: "the job's offset map has records but its group offsets are gone: it refuses to guess",
    exit: 1,
  },
  RESTORE_INTERRUPTED: {
    kind: 'unavailable',
    summary: 'SIGINT/SIGTERM: the current transaction finished or aborted; run again to resume',
  },
  RESTORE_GROUP_UNKNOWN: {
    kind: 'not_found',
    summary:
      'translate-offsets: the group has no committed offset on the source topics (live), or no archived snapshot at or before `--as-of`',
    exit: 3,
  },
  RESTORE_GROUP_ACTIVE: {
    kind: 'unavailable',
    summary:
      'translate-offsets --apply: the group has active members on the target; stop them first',
  },
  RESTORE_TRANSLATE_REFUSED: {
    kind: 'usage',
    summary:
      'translate-offsets needs a finished job that kept the partitions (not `--repartition`)',
  },
  GROUP_SNAPSHOT_FAILED: {
    kind: 'unavailable',
    summary:
      'consumer-group positions could not be read or archived; retried every `archiver.groupsIntervalMs`',
  },
  SEGMENT_WRITE_FAILED: {
    kind: 'unavailable',
    summary: 'a segment could not be sealed (I/O error); the partition pauses and retries',
  },
  SEGMENT_META_INVALID: { kind: 'data', summary: "a segment's footer metadata is invalid" },
  RECORDS_LOST: {
    kind: 'data',
    summary:
      'records were deleted from Kafka (retention, DeleteRecords) before they were archived; archiving continues at the log start and the archive keeps the gap',
  },
  TOPIC_DIVERGED: {
    kind: 'data',
    summary:
      "a partition's log ends before the archive does although the topic id is unchanged (truncated, e.g. an unclean leader election); it is not archived until its archived segments are moved aside",
  },
  TOPIC_GENERATION_NEW: {
    kind: 'data',
    summary:
      'a topic was deleted and re-created: its new incarnation is archived as a new generation, apart from the old records',
  },
  TOPIC_GENERATION_AMBIGUOUS: {
    kind: 'data',
    summary:
      'a topic was deleted and re-created within one identity check (about a second) while being archived: the records fetched in that window are not archived in the old generation, and old ones among them can be missing',
  },
  GENERATION_RECORD_INVALID: {
    kind: 'data',
    summary: "a topic generation's record (`topic=<t>/_generations/<n>.json`) is malformed",
  },
  SEGMENT_CORRUPT: {
    kind: 'data',
    summary: 'a segment file or object is unreadable or fails its checksum (quarantined)',
  },
  DISK_FULL: {
    kind: 'unavailable',
    summary: 'no space left (ENOSPC/EDQUOT); the partition pauses and retries',
  },
  DISK_FLOOD: {
    kind: 'unavailable',
    summary: 'a volume crossed its flood watermark: consumption paused, one reserve released',
  },
  DISK_REPORT_UNAVAILABLE: { kind: 'unavailable', summary: 'no disk report has been made yet' },
  DISK_FLEET_OFF: {
    kind: 'not_found',
    summary: 'HTTP: the disk fleet is off in this service (`disk.fleet.enabled` is false)',
  },
  RESERVE_NONE_ARMED: {
    kind: 'unavailable',
    status: 409,
    summary: 'no reserve block is left to release',
  },
  RESERVE_NO_SPACE: { kind: 'unavailable', summary: 'not enough free space to re-arm a reserve' },
  RESERVE_NOT_ALLOCATED: {
    kind: 'data',
    summary: 'a reserve file is not really allocated (sparse, or the filesystem lied)',
  },
  KAFKA_LOGDIR_UNREADABLE: { kind: 'unavailable', summary: 'a Kafka log.dir cannot be read' },
  KAFKA_CHECKPOINT_INVALID: {
    kind: 'data',
    summary: 'a Kafka checkpoint file in a log.dir is malformed',
  },
  ARCHIVE_TOPIC_UNKNOWN: { kind: 'not_found', summary: 'no archived topic matches' },
  ARCHIVE_GENERATION_UNKNOWN: {
    kind: 'not_found',
    summary: 'the archived topic has no such generation (`--generation`)',
  },
  ARCHIVE_OFFSET_OUT_OF_RANGE: {
    kind: 'not_found',
    summary: 'the offset is outside what the archive holds',
  },
  ARCHIVE_NO_DATA_AT_TIME: {
    kind: 'not_found',
    summary: 'the archive holds no data at or after that time',
  },
  OBJECT_EXISTS: {
    kind: 'data',
    summary: 'an object already exists under that key (never overwritten)',
  },
  OBJECT_NOT_FOUND: { kind: 'data', summary: 'a catalogued segment is in neither tier' },
  OBJECT_RANGE_INVALID: {
    kind: 'internal',
    summary: 'an invalid byte range was asked of the store',
  },
  STORAGE_KEY_INVALID: { kind: 'internal', summary: 'an invalid object key or prefix' },
  STORAGE_AUTH: {
    kind: 'auth',
    summary: 'the object store refused the credentials or permissions',
  },
  STORAGE_TLS_FAILED: {
    kind: 'auth',
    summary:
      "the object store's TLS certificate is not trusted (storage.s3.caFile) or does not match its host name",
  },
  STORAGE_BUCKET_MISSING: { kind: 'config', summary: 'the configured bucket does not exist' },
  STORAGE_UNAVAILABLE: { kind: 'unavailable', summary: 'the object store cannot be reached' },
  TIER_CONFLICT: {
    kind: 'data',
    summary: 'an object exists with different content than the hot copy (neither is touched)',
  },
  BUCKET_OVERLAP: {
    kind: 'data',
    summary:
      'two objects of one partition in the bucket cover the same offsets (members uploaded at the same moment)',
  },
  TIERING_FAILED: {
    kind: 'unavailable',
    summary: 'a tiering round failed; it is retried with back-off',
  },
  DIR_UNWRITABLE: {
    kind: 'config',
    summary:
      'a directory the service writes (dataDir, archiver.hotDir, catalog.dir) cannot be created or written',
  },
  CATALOG_LOCKED: {
    kind: 'unavailable',
    summary: 'another process (the running service) writes the catalog',
  },
  CATALOG_REBUILD_RUNNING: {
    kind: 'unavailable',
    summary: 'a catalog rebuild already runs in the service: poll its job',
    status: 409,
  },
  CATALOG_REBUILD_INTERRUPTED: {
    kind: 'unavailable',
    summary: 'the service stopped during a catalog rebuild; run it again (it resumes)',
  },
  CATALOG_CORRUPT: {
    kind: 'data',
    summary: 'the catalog files are unreadable; run `catalog rebuild`',
  },
  AUTH_REQUIRED: {
    kind: 'auth',
    summary: 'HTTP: this endpoint needs a bearer token (`Authorization: Bearer <token>`)',
    status: 401,
  },
  AUTH_INVALID_TOKEN: {
    kind: 'auth',
    summary: 'HTTP: the bearer token is not one of server.auth.readTokens / adminTokens',
    status: 401,
  },
  AUTH_FORBIDDEN: {
    kind: 'auth',
    summary: "HTTP: the token's role does not allow this endpoint (it needs an admin token)",
    status: 403,
  },
  NOT_FOUND: { kind: 'not_found', summary: 'HTTP: no such route' },
  METHOD_NOT_ALLOWED: {
    kind: 'usage',
    summary: 'HTTP: the route does not take that method',
    status: 405,
  },
  BUSY: { kind: 'unavailable', summary: 'HTTP: too many reads at once; retry' },
  INTERNAL: { kind: 'internal', summary: 'an unexpected error; the log has the details' },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_TABLE;

/** The codes by name, for `ErrorCodes.X` at throw and compare sites. */
export const ErrorCodes = Object.fromEntries(Object.keys(ERROR_TABLE).map((c) => [c, c])) as {
  readonly [C in ErrorCode]: C;
};

export function errorKind(code: ErrorCode): ErrorKind {
  return ERROR_TABLE[code].kind;
}

/** Process exit codes (README "Exit codes"). */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  DATA: 3,
} as const;

/**
 * The CLI exit code of a code: its own when the table gives one, else its kind's: 2 for usage and
 * config, 3 for data problems, else 1.
 */
export function exitCodeOf(code: ErrorCode): number {
  const spec: CodeSpec = ERROR_TABLE[code];
  if (spec.exit !== undefined) return spec.exit;
  const kind = spec.kind;
  if (kind === 'usage' || kind === 'config') return ExitCode.USAGE;
  if (kind === 'data') return ExitCode.DATA;
  return ExitCode.FAILURE;
}

/**
 * The HTTP status of a code: its own when the table gives one, else its kind's. Auth without a
 * status of its own means the service's own credentials to Kafka or the store were refused: the
 * service cannot answer now (503), the caller did nothing wrong. The API's own token checks
 * (AUTH_*) carry 401 and 403 in the table.
 */
export function httpStatusOf(code: ErrorCode): number {
  const spec: CodeSpec = ERROR_TABLE[code];
  if (spec.status !== undefined) return spec.status;
  switch (spec.kind) {
    case 'usage':
      return 400;
    case 'not_found':
      return 404;
    case 'unavailable':
    case 'auth':
      return 503;
    default:
      return 500;
  }
}

export interface ArchiveErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class ArchiveError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ArchiveErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ArchiveError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  get kind(): ErrorKind {
    return errorKind(this.code);
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

/** The code of any thrown value: an ArchiveError's own, else INTERNAL. */
export function codeOf(err: unknown): ErrorCode {
  return isArchiveError(err) ? err.code : 'INTERNAL';
}

/** Whether a string is a code of the table (for codes read back from logs or responses). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_TABLE, code);
}

/** A short, single-line description of any thrown value, for logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
