/** README stays true to the code: the error-code table and the architecture's module list. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_TABLE, exitCodeOf, httpStatusOf, type ErrorCode } from '../../src/index.js';

const ROOT = join(import.meta.dirname, '../..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 4);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe('README', () => {
  it('lists every error code with its kind, exit code and HTTP status, and no other', () => {
    const rows = new Map<string, string[]>();
    for (const line of section('Error codes').split('\n')) {
      const m = /^\| `([A-Z_]+)` \| (\w+) \| (\d) \| (\d{3}) \|/.exec(line);
      if (m !== null) rows.set(m[1] as string, [m[2], m[3], m[4]] as string[]);
    }
    const codes = Object.keys(ERROR_TABLE) as ErrorCode[];
    expect([...rows.keys()].sort()).toEqual([...codes].sort());
    for (const code of codes) {
      const { kind } = ERROR_TABLE[code];
      expect(rows.get(code), code).toEqual([
        kind,
        String(exitCodeOf(code)),
        String(httpStatusOf(code)),
      ]);
    }
  });

  it('the architecture names every module under src/', () => {
    const text = section('Architecture');
    const modules = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    for (const m of modules) expect(text, `src/${m}/ in README "Architecture"`).toContain(`${m}/`);
  });
});
