import { loadConfig, type Config } from '../config/index.js';
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

export function makeContext(opts: GlobalOptions): CommandContext {
  const config = loadConfig({ file: opts.config });
  const level = (opts.logLevel ?? config.log.level) as Config['log']['level'];
  const log = createLogger({
    level,
    ...(opts.pretty === true || config.log.pretty ? { pretty: true } : {}),
  });
  return {
    config,
    log,
    json: opts.json === true,
    out: (line) => process.stdout.write(`${line}\n`),
  };
}
