import type { Command } from 'commander';
import { stringify } from 'yaml';
import { redactConfig } from '../../config/index.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../../errors.js';

export function registerConfig(program: Command, setExit: (code: number) => void): void {
  const cmd = program.command('config').description('check or print the effective configuration');
  cmd
    .command('check')
    .description(
      'validate the configuration (file + environment): exit 0, or 2 with one line per problem',
    )
    .action((_opts: unknown, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      ctx.out(ctx.json ? JSON.stringify({ ok: true }) : 'configuration OK');
      setExit(ExitCode.OK);
    });
  cmd
    .command('show')
    .description('print the effective configuration with defaults applied (secrets redacted)')
    .action((_opts: unknown, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      const redacted = redactConfig(ctx.config);
      ctx.out(ctx.json ? JSON.stringify(redacted, null, 2) : stringify(redacted).trimEnd());
      setExit(ExitCode.OK);
    });
}
