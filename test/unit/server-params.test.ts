// The pure parts of the HTTP server: query parsing (every mistake a clear USAGE error), the
// mapping of errors to status codes, readiness, and the JSON forms shared with the CLI.
import { describe, expect, it } from 'vitest';
import { ArchiveError, ErrorCodes, type ArchiverStats } from '../../src/index.js';
import {
  httpError,
  MAX_READ_COUNT,
  parseLookupQuery,
  parseOffsetsQuery,
  parseReadQuery,
  parseTime,
  readiness,
} from '../../src/server/index.js';

const q = (s: string) => new URLSearchParams(s);

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ArchiveError);
    expect(err).toMatchObject({ code: 'USAGE' });
    return (err as Error).message;
  }
  throw new Error('expected a USAGE error');
}

describe('server query parsing', () => {
  it('reads by offset, with the count capped and defaulting to the cap', () => {
    expect(parseReadQuery(q('topic=t&partition=3&offset=1200&count=5'))).toEqual({
      topic: 't',
      partition: 3,
      fromOffset: 1200n,
      count: 5,
    });
    expect(parseReadQuery(q('topic=t&partition=0&offset=0'))).toMatchObject({
      count: MAX_READ_COUNT,
    });
    expect(MAX_READ_COUNT).toBe(10_000);
    expect(parseReadQuery(q(`topic=t&partition=0&offset=0&count=${MAX_READ_COUNT}`)).count).toBe(
      MAX_READ_COUNT,
    );
    // Offsets beyond 2^53 stay exact.
    expect(parseReadQuery(q('topic=t&partition=0&offset=9223372036854775807')).fromOffset).toBe(
      2n ** 63n - 1n,
    );
  });

  it('reads by time: ISO-8601 or epoch ms, to exclusive, a "+" decoded as a space repaired', () => {
    expect(
      parseReadQuery(q('topic=t&partition=0&from=2026-11-01T03:00:00Z&to=1793502060000&count=10')),
    ).toEqual({
      topic: 't',
      partition: 0,
      fromTime: BigInt(Date.parse('2026-11-01T03:00:00Z')),
      toTime: 1_793_502_060_000n,
      count: 10,
    });
    expect(parseReadQuery(q('topic=t&partition=0&from=2026-11-01T04:00:00+01:00')).fromTime).toBe(
      BigInt(Date.parse('2026-11-01T03:00:00Z')),
    );
    expect(parseTime('time', '-5')).toBe(-5n);
    expect(parseLookupQuery(q('topic=a.b&time=1761966300000'))).toEqual({
      topic: 'a.b',
      time: 1_761_966_300_000n,
    });
    expect(parseOffsetsQuery(q(`topic=${encodeURIComponent('cluster1\\..*')}`))).toEqual({
      topic: 'cluster1\\..*',
    });
  });

  it('rejects bad parameters with messages naming the parameter, value and what is allowed', () => {
    const read = (s: string) => usageMessage(() => parseReadQuery(q(s)));
    expect(read('partition=0&offset=0')).toBe('topic: missing; expected an archived topic name');
    expect(read('topic=t&offset=0')).toBe('partition: missing; expected a partition number');
    expect(read('topic=t&partition=abc&offset=0')).toBe(
      'partition: got "abc": expected a partition number from 0 to 2147483647',
    );
    for (const p of ['-1', '1.5', '2147483648', ' 1', '0x1']) {
      expect(read(`topic=t&partition=${encodeURIComponent(p)}&offset=0`)).toMatch(/^partition: /);
    }
    expect(read('topic=t&partition=0&offset=-3')).toMatch(/^offset: got "-3": expected an offset/);
    expect(read('topic=t&partition=0&offset=9223372036854775808')).toMatch(/^offset: /);
    expect(read('topic=t&partition=0&offset=0&count=0')).toMatch(/^count: got "0"/);
    expect(read(`topic=t&partition=0&offset=0&count=${MAX_READ_COUNT + 1}`)).toBe(
      'count: got "10001": expected a record count (page for more) from 1 to 10000',
    );
    expect(read('topic=t&partition=0')).toBe(
      'give offset or from (or both); to and count are optional',
    );
    expect(read('topic=t&partition=0&to=2026-01-01T00:00:00Z')).toMatch(/^give offset or from/);
    expect(read('topic=t&partition=0&from=2000&to=1000')).toMatch(
      /^to: got "1000": expected a time after from/,
    );
    expect(read('topic=t&partition=0&from=yesterday')).toMatch(
      /^from: got "yesterday": expected an ISO-8601 time/,
    );
    expect(read('topic=t&parition=0&offset=0')).toBe(
      'unknown parameter "parition"; allowed here: topic, partition, offset, count, from, to, generation',
    );
    expect(read('topic=t&partition=0&partition=1&offset=0')).toBe(
      'partition: given more than once',
    );
    expect(read(`topic=${'x'.repeat(2000)}&partition=0&offset=0`)).toBe(
      'topic: longer than 1024 characters',
    );
    expect(read('topic=&partition=0&offset=0')).toMatch(/^topic: missing/);
    expect(usageMessage(() => parseLookupQuery(q('topic=t')))).toMatch(/^time: missing/);
    expect(usageMessage(() => parseLookupQuery(q('topic=t&time=2026-13-45')))).toMatch(
      /^time: got "2026-13-45"/,
    );
    expect(usageMessage(() => parseOffsetsQuery(q('')))).toMatch(/^topic: missing/);
  });
});

describe('server error responses', () => {
  const err = (code: keyof typeof ErrorCodes) => new ArchiveError(ErrorCodes[code], `msg ${code}`);

  it('user mistakes are 400, nothing-there 404, outages 503, the rest 500', () => {
    expect(httpError(err('USAGE'))).toEqual({
      status: 400,
      body: { error: 'msg USAGE', code: 'USAGE' },
      internal: false,
    });
    expect(httpError(err('ARCHIVE_TOPIC_UNKNOWN')).status).toBe(404);
    expect(httpError(err('ARCHIVE_OFFSET_OUT_OF_RANGE')).status).toBe(404);
    expect(httpError(err('ARCHIVE_NO_DATA_AT_TIME')).status).toBe(404);
    expect(httpError(err('STORAGE_UNAVAILABLE')).status).toBe(503);
    expect(httpError(err('CATALOG_LOCKED')).status).toBe(503);
    expect(httpError(err('OBJECT_NOT_FOUND')).status).toBe(500);
    expect(httpError(err('SEGMENT_CORRUPT'))).toMatchObject({
      status: 500,
      body: { code: 'SEGMENT_CORRUPT' },
      internal: true,
    });
  });

  it('other errors are a generic 500: their message and stack are not shown', () => {
    const e = httpError(new Error('ENOENT: /secret/path'));
    expect(e.status).toBe(500);
    expect(e.body).toEqual({
      error: 'internal error; the service log has the details',
      code: 'INTERNAL',
    });
    expect(JSON.stringify(e.body)).not.toContain('secret');
  });
});

describe('server readiness', () => {
  const stats = (over: Partial<ArchiverStats> = {}): ArchiverStats => ({
    recordsArchived: 0,
    segmentsSealed: 0,
    bytesWritten: 0,
    sealFailures: 0,
    commitFailures: 0,
    lostRecords: 0,
    divergedPartitions: 0,
    pausedPartitions: 0,
    bufferedBytes: 0,
    assignedPartitions: 0,
    topics: [],
    ...over,
  });

  it('is ready once subscribed (and joined, when the archiver says), not while stopping', () => {
    expect(readiness({ getStats: () => stats() }, false)).toMatchObject({
      ready: false,
      reason: expect.stringContaining('not subscribed'),
    });
    const subscribed = stats({ topics: ['a'], assignedPartitions: 2, pausedPartitions: 1 });
    expect(readiness({ getStats: () => subscribed }, false)).toEqual({
      ready: true,
      topics: 1,
      assignedPartitions: 2,
      pausedPartitions: 1,
    });
    expect(readiness({ getStats: () => subscribed, joined: false }, false)).toMatchObject({
      ready: false,
      reason: 'waiting to join the consumer group',
    });
    expect(readiness({ getStats: () => subscribed, joined: true }, false).ready).toBe(true);
    expect(readiness({ getStats: () => subscribed }, true)).toMatchObject({
      ready: false,
      reason: 'stopping',
    });
  });
});
