import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Human-readable lines instead of JSON (default: when stderr is a TTY). */
  pretty?: boolean;
  name?: string;
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
      ],
      censor: '***',
    },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (usePretty) {
    return pino(
      base,
      pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true }),
    );
  }
  return pino(base, pino.destination({ dest: 2, sync: false }));
}
