/**
 * Every code the product throws or logs is in the one table (src/errors.ts), and every error
 * line a logger writes carries one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ArchiveError, ERROR_TABLE, isErrorCode } from '../../src/errors.js';
import { createLogger } from '../../src/log/index.js';

const SRC = join(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? sources(join(dir, d.name))
      : d.name.endsWith('.ts')
        ? [join(dir, d.name)]
        : [],
  );
}

describe('error codes', () => {
  it('every code named in src (code: literals, ErrorCodes.X, comparisons) is in the table', () => {
    const used = new Map<string, string>();
    for (const file of sources(SRC)) {
      const text = readFileSync(file, 'utf8');
      const patterns = [
        /\bcode:\s*'([A-Z][A-Z0-9_]+)'/g,
        /\bErrorCodes\.([A-Z][A-Z0-9_]+)/g,
        // (comparisons with Node's errno codes, ENOENT and the like, are not ours)
        /\bcode === '((?!E[A-Z0-9]+')[A-Z][A-Z0-9_]+)'/g,
      ];
      for (const re of patterns) {
        for (const m of text.matchAll(re)) used.set(m[1] as string, file);
      }
    }
    expect(used.size).toBeGreaterThan(20);
    const unknown = [...used].filter(([code]) => !isErrorCode(code));
    expect(unknown).toEqual([]);
  });

  it('error lines get a code: the call’s own, else its err’s, else INTERNAL', () => {
    const lines: Array<Record<string, unknown>> = [];
    const captured = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _e, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    });
    captured.error({ code: 'DISK_FLOOD' }, 'own code');
    captured.error({ err: new ArchiveError('STORAGE_AUTH', 'refused') }, 'from err');
    captured.error({ err: new Error('boom') }, 'plain error');
    captured.error('no fields');
    captured.warn('a warning needs none');
    expect(lines.map((l) => [l.msg, l.code])).toEqual([
      ['own code', 'DISK_FLOOD'],
      ['from err', 'STORAGE_AUTH'],
      ['plain error', 'INTERNAL'],
      ['no fields', 'INTERNAL'],
      ['a warning needs none', undefined],
    ]);
    expect(Object.keys(ERROR_TABLE)).toContain('INTERNAL');
  });
});
