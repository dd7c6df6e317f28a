import { ErrorCodes, isArchiveError, type ErrorCode } from '../errors.js';

/** The JSON body of every error response: a message and a stable code, never a stack trace. */
export interface ErrorBody {
  error: string;
  code: ErrorCode | 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'BUSY';
}

export interface HttpError {
  status: number;
  body: ErrorBody;
  /** Not the caller's mistake: worth a log line with the details. */
  internal: boolean;
}

/** Nothing at the asked place: no such topic, partition, offset or time in the archive. */
const NOT_FOUND: ReadonlySet<string> = new Set([
  ErrorCodes.ARCHIVE_TOPIC_UNKNOWN,
  ErrorCodes.ARCHIVE_OFFSET_OUT_OF_RANGE,
  ErrorCodes.ARCHIVE_NO_DATA_AT_TIME,
]);

/** The service cannot answer now, but may later (object store outage, catalog held elsewhere). */
const UNAVAILABLE: ReadonlySet<string> = new Set([
  ErrorCodes.STORAGE_UNAVAILABLE,
  ErrorCodes.STORAGE_AUTH,
  ErrorCodes.STORAGE_BUCKET_MISSING,
  ErrorCodes.CATALOG_LOCKED,
  ErrorCodes.KAFKA_UNAVAILABLE,
  ErrorCodes.DISK_REPORT_UNAVAILABLE,
]);

/** Archive inconsistencies the client cannot fix, even when their message is user-facing. */
const SERVER_SIDE: ReadonlySet<string> = new Set([
  ErrorCodes.OBJECT_NOT_FOUND,
  ErrorCodes.SEGMENT_CORRUPT,
  ErrorCodes.CATALOG_CORRUPT,
]);

/**
 * The response for a thrown value: user mistakes (ArchiveError userFacing) are 400, or 404 when
 * the archive holds nothing there; outages 503; anything else 500. ArchiveError messages are
 * written for people and kept; other errors are not shown (they may hold paths or internals).
 */
export function httpError(err: unknown): HttpError {
  if (!isArchiveError(err)) {
    return {
      status: 500,
      body: { error: 'internal error; the service log has the details', code: ErrorCodes.INTERNAL },
      internal: true,
    };
  }
  const body: ErrorBody = { error: err.message, code: err.code };
  if (NOT_FOUND.has(err.code)) return { status: 404, body, internal: false };
  if (UNAVAILABLE.has(err.code)) return { status: 503, body, internal: true };
  if (SERVER_SIDE.has(err.code)) return { status: 500, body, internal: true };
  if (err.userFacing) return { status: 400, body, internal: false };
  return { status: 500, body, internal: true };
}
