import { ErrorCodes, httpStatusOf, isArchiveError, type ErrorCode } from '../errors.js';

/** The JSON body of every error response: a message and a stable code, never a stack trace. */
export interface ErrorBody {
  error: string;
  code: ErrorCode;
}

export interface HttpError {
  status: number;
  body: ErrorBody;
  /** Not the caller's mistake: worth a log line with the details. */
  internal: boolean;
}

/**
 * The response for a thrown value: the status follows from the code's kind (errors.ts). Archive
 * error messages are written for people and kept; other errors are not shown (they may hold
 * paths or internals).
 */
export function httpError(err: unknown): HttpError {
  if (!isArchiveError(err)) {
    return {
      status: 500,
      body: { error: 'internal error; the service log has the details', code: ErrorCodes.INTERNAL },
      internal: true,
    };
  }
  const status = httpStatusOf(err.code);
  return { status, body: { error: err.message, code: err.code }, internal: status >= 500 };
}
