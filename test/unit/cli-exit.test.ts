// `kafka-archive ... --json | slow-reader`: the exit waits until stdout is flushed. With a bare
// process.exit the part of a write that did not fit the pipe was dropped (a --json answer cut
// short, exit code 0), which CI saw under load.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const BYTES = 4 * 2 ** 20; // far more than a pipe holds

function run(exit: 'flushed' | 'bare'): Promise<{ code: number | null; received: number }> {
  const script = `
    const { exitWhenFlushed } = await import(${JSON.stringify(MAIN)});
    process.stdout.write('x'.repeat(${BYTES}));
    process.send('written', () => ${exit === 'flushed' ? 'exitWhenFlushed(0)' : 'process.exit(0)'});`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const out = child.stdout;
  if (out === null) throw new Error('no stdout pipe');
  let received = 0;
  out.pause(); // read nothing until the child says it is about to exit
  out.on('data', (d: Buffer) => (received += d.length));
  child.on('message', () => out.resume());
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, received })));
}

describe('CLI exit', () => {
  it('keeps everything written to stdout when the reader is slow', async () => {
    expect(await run('flushed')).toEqual({ code: 0, received: BYTES });
  });

  it('(the failure it prevents: a bare process.exit drops what the pipe did not take)', async () => {
    const r = await run('bare');
    expect(r.code).toBe(0);
    expect(r.received).toBeLessThan(BYTES);
  });
});
