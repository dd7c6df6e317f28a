import { describe, expect, it } from 'vitest';
import { logDirsFromResponse } from '../../src/kafka/platformatic/log-dirs.js';

describe('DescribeLogDirs answer (platformatic adapter)', () => {
  it('maps log.dirs, partitions (sorted), volume bytes and error codes', () => {
    const dirs = logDirsFromResponse(2, {
      errorCode: 0,
      results: [
        {
          errorCode: 0,
          logDir: '/data/a',
          totalBytes: 1000n,
          usableBytes: 400n,
          topics: [
            {
              name: 'b',
              partitions: [
                { partitionIndex: 1, partitionSize: 10n, offsetLag: 0n, isFutureKey: false },
                { partitionIndex: 0, partitionSize: 20n, offsetLag: 3n, isFutureKey: true },
              ],
            },
            {
              name: 'a',
              partitions: [
                { partitionIndex: 0, partitionSize: 5n, offsetLag: 0n, isFutureKey: false },
              ],
            },
          ],
        },
        // An offline log.dir; Kafka sends -1 for unknown volume bytes.
        { errorCode: 56, logDir: '/data/b', totalBytes: -1n, usableBytes: -1n, topics: [] },
        // DescribeLogDirs before v4: no volume bytes at all.
        { errorCode: 0, logDir: '/data/c', topics: [] },
      ],
    });
    expect(dirs).toEqual([
      {
        brokerId: 2,
        logDir: '/data/a',
        error: null,
        totalBytes: 1000,
        usableBytes: 400,
        partitions: [
          { topic: 'a', partition: 0, sizeBytes: 5, offsetLag: 0, isFuture: false },
          { topic: 'b', partition: 0, sizeBytes: 20, offsetLag: 3, isFuture: true },
          { topic: 'b', partition: 1, sizeBytes: 10, offsetLag: 0, isFuture: false },
        ],
      },
      {
        brokerId: 2,
        logDir: '/data/b',
        error: 'KAFKA_STORAGE_ERROR',
        totalBytes: null,
        usableBytes: null,
        partitions: [],
      },
      {
        brokerId: 2,
        logDir: '/data/c',
        error: null,
        totalBytes: null,
        usableBytes: null,
        partitions: [],
      },
    ]);
  });

  it('a broker-level error without log.dirs: one entry with the error', () => {
    expect(logDirsFromResponse(3, { errorCode: 31, results: [] })).toEqual([
      {
        brokerId: 3,
        logDir: '',
        error: 'CLUSTER_AUTHORIZATION_FAILED',
        totalBytes: null,
        usableBytes: null,
        partitions: [],
      },
    ]);
  });
});
