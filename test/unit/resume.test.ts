import { describe, expect, it } from 'vitest';
import { checkLog, resumeOffset } from '../../src/archiver/resume.js';

describe('resume rule and the log check', () => {
  it('resumes at max(committed, archived high-water mark + 1)', () => {
    expect(resumeOffset(10n, null)).toBe(10n);
    expect(resumeOffset(10n, 20n)).toBe(21n);
    expect(resumeOffset(30n, 20n)).toBe(30n);
  });

  it('ok when the log holds the resume offset; no log facts means no check', () => {
    expect(checkLog(100n, 99n, { low: 0n, high: 200n })).toEqual({ kind: 'ok', resumeAt: 100n });
    expect(checkLog(100n, 99n, { low: 100n, high: 100n })).toEqual({ kind: 'ok', resumeAt: 100n });
    expect(checkLog(100n, 99n, undefined)).toEqual({ kind: 'ok', resumeAt: 100n });
  });

  it('diverged when the log ends before the archive (re-created topic, truncation)', () => {
    expect(checkLog(500n, 499n, { low: 0n, high: 250n })).toEqual({
      kind: 'diverged',
      logEnd: 250n,
      expected: 500n,
    });
  });

  it('lost when the log starts after the archive ends, also after the client reset its position', () => {
    // Committed 100 was out of range; the client reset to the log start 150 before the first batch.
    expect(checkLog(150n, 99n, { low: 150n, high: 200n })).toEqual({
      kind: 'lost',
      resumeAt: 150n,
      from: 100n,
      to: 149n,
      count: 50n,
    });
    expect(checkLog(100n, 99n, { low: 150n, high: 200n })).toMatchObject({
      resumeAt: 150n,
      count: 50n,
    });
    // A fresh archive: what the group committed is what was expected next.
    expect(checkLog(10n, null, { low: 40n, high: 50n })).toMatchObject({ from: 10n, count: 30n });
  });
});
