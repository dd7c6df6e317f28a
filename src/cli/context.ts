import { loadConfig, type Config, type ConfigOverride } from '../config/index.js';
import { createLogger, type Logger } from '../log/index.js';

/** Options every subcommand accepts (defined on the root program). */
export interface GlobalOptions {
  config?: string;
  pretty?: boolean;
  logLevel?: string;
  json?: boolean;
}

export interface CommandContext {
  config: Config;
  log: Logger;
  json: boolean;
  out: (line: string) => void;
}

/**
 * The configuration (file < environment < `overrides` from the command's flags, all validated
 * by the schema: a bad flag value is a USAGE error naming the flag), a logger and the output.
 */
export function makeContext(opts: GlobalOptions, overrides: ConfigOverride[] = []): CommandContext {
  const config = loadConfig({
    file: opts.config,
    overrides: [
      ...(opts.logLevel !== undefined
        ? [{ path: 'log.level', value: opts.logLevel, source: '--log-level' }]
        : []),
      ...overrides,
    ],
  });
  const log = createLogger({
    level: config.log.level,
    ...(opts.pretty === true || config.log.pretty ? { pretty: true } : {}),
  });
  return {
    config,
    log,
    json: opts.json === true,
    out: (line) => process.stdout.write(`${line}\n`),
  };
}
