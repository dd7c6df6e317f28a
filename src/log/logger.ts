import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';
import { codeOf } from '../errors.js';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Human-readable lines instead of JSON (default: when stderr is a TTY). */
  pretty?: boolean;
  name?: string;
  /** Where JSON lines go instead of stderr (a library user's stream, or a test's). */
  destination?: NodeJS.WritableStream;
}

/**
 * Structured logging, one JSON line per event, to stderr (stdout is kept for command output such
 * as tables and --json). Secrets are redacted by key name wherever they appear.
 */
export function createLogger(options: LoggerOptions): Logger {
  const usePretty = options.pretty ?? process.stderr.isTTY === true;
  const base = {
    name: options.name ?? 'kafka-archive',
    level: options.level,
    redact: {
      paths: [
        'password',
        '*.password',
        'secretAccessKey',
        '*.secretAccessKey',
        'sessionToken',
        '*.sessionToken',
        'authToken',
        '*.authToken',
        'keyPassword',
        '*.keyPassword',
        'readTokens',
        'adminTokens',
        '*.readTokens',
        '*.adminTokens',
        'authorization',
        '*.authorization',
        '*.headers.authorization',
      ],
      censor: '***',
    },
    base: { pid: process.pid },
    // Every error line carries a code of the table (README "Error codes"): the call's own, else
    // its err's (an ArchiveError's code), else INTERNAL. The call's fields win over the mixin's.
    mixin: (fields: object, level: number) =>
      level >= 50 && !('code' in fields) ? { code: codeOf((fields as { err?: unknown }).err) } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.destination !== undefined) return pino(base, options.destination);
  if (usePretty) {
    return pino(
      base,
      pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true }),
    );
  }
  return pino(base, pino.destination({ dest: 2, sync: false }));
}
