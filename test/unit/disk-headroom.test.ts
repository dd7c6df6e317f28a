import { describe, expect, it } from 'vitest';
import {
  brokerRecoverySettings,
  defaultRecoveryThreads,
  describeVerdict,
  estimateLogDirHeadroom,
  estimatePartitionHeadroom,
  headroomVerdict,
  KAFKA_INDEX_DEFAULTS,
  rebuiltIndexBytes,
  segmentsToRecover,
  topicIndexOverrides,
  type HeadroomParams,
  type PartitionState,
  type SegmentState,
} from '../../src/disk/index.js';

const KiB = 1024;
const MiB = 2 ** 20;
const B = 4096;

/** A partition of `n` segments of `logBytes` each, base offsets 0, 1000, 2000, ... */
function partition(
  n: number,
  opts: {
    topic?: string;
    logBytes?: number;
    indexBytes?: number | null;
    activeIndexBytes?: number | null;
    recoveryPoint?: bigint | null;
    snapshots?: 'all' | 'none';
  } = {},
): PartitionState {
  const segments: SegmentState[] = Array.from({ length: n }, (_, i) => {
    const idx =
      i === n - 1 && opts.activeIndexBytes !== undefined ? opts.activeIndexBytes : opts.indexBytes;
    const file =
      idx === null || idx === undefined ? null : { apparentBytes: idx, allocatedBytes: idx };
    return {
      baseOffset: BigInt(i * 1000),
      logBytes: opts.logBytes ?? MiB,
      offsetIndex: file,
      timeIndex: file,
    };
  });
  return {
    topic: opts.topic ?? 't',
    partition: 0,
    recoveryPoint: opts.recoveryPoint === undefined ? 0n : opts.recoveryPoint,
    segments,
    snapshotOffsets: opts.snapshots === 'all' ? segments.map((s) => s.baseOffset) : [],
  };
}

const params = (over: Partial<HeadroomParams> = {}): HeadroomParams => ({
  scenario: 'unclean',
  sparse: true,
  blockBytes: B,
  recoveryThreads: 1,
  index: { ...KAFKA_INDEX_DEFAULTS },
  ...over,
});

describe('rebuilt index size (upper bound)', () => {
  it('allows one offset entry per index.interval.bytes of log and one more time entry', () => {
    // floor(1 MiB / 4097) + 1 = 256 entries: 2 KiB of offset index, 257 × 12 of time index.
    expect(rebuiltIndexBytes(MiB, KAFKA_INDEX_DEFAULTS)).toEqual({
      entries: 256,
      offsetIndexBytes: 256 * 8,
      timeIndexBytes: 257 * 12,
    });
    // An empty segment still gets its final max-timestamp time entry.
    expect(rebuiltIndexBytes(0, KAFKA_INDEX_DEFAULTS)).toEqual({
      entries: 1,
      offsetIndexBytes: 8,
      timeIndexBytes: 24,
    });
  });

  it('is capped by segment.index.bytes (rounded down to whole entries)', () => {
    const r = rebuiltIndexBytes(10 * 2 ** 30, { segmentIndexBytes: 1000, indexIntervalBytes: 0 });
    expect(r.offsetIndexBytes).toBe(1000);
    expect(r.timeIndexBytes).toBe(996);
  });
});

describe('which segments a restart recovers', () => {
  const seg = (base: number, indexed = true): SegmentState => ({
    baseOffset: BigInt(base),
    logBytes: MiB,
    offsetIndex: indexed ? { apparentBytes: 8, allocatedBytes: B } : null,
    timeIndex: indexed ? { apparentBytes: 12, allocatedBytes: B } : null,
  });
  const p = (recoveryPoint: bigint | null, segments: SegmentState[]): PartitionState => ({
    topic: 't',
    partition: 0,
    recoveryPoint,
    segments,
    snapshotOffsets: [],
  });

  it('unclean: from the segment holding the recovery point, plus any without an offset index', () => {
    const segs = [seg(0), seg(100, false), seg(200), seg(300), seg(400)];
    expect(segmentsToRecover(p(250n, segs), 'unclean')).toEqual([1, 2, 3, 4]);
    expect(segmentsToRecover(p(300n, segs), 'unclean')).toEqual([1, 3, 4]);
    expect(segmentsToRecover(p(10_000n, segs), 'unclean')).toEqual([1, 4]);
  });

  it('unclean without a recovery point (or before the first segment): every segment', () => {
    const segs = [seg(100), seg(200), seg(300)];
    expect(segmentsToRecover(p(null, segs), 'unclean')).toEqual([0, 1, 2]);
    expect(segmentsToRecover(p(5n, segs), 'unclean')).toEqual([0, 1, 2]);
  });

  it('clean: only segments whose offset index is missing; full rebuild: all', () => {
    const segs = [seg(0), seg(100, false), seg(200)];
    expect(segmentsToRecover(p(0n, segs), 'clean')).toEqual([1]);
    expect(segmentsToRecover(p(10_000n, segs), 'full-rebuild')).toEqual([0, 1, 2]);
    expect(segmentsToRecover(p(0n, []), 'unclean')).toEqual([]);
  });
});

describe('headroom on a sparse filesystem', () => {
  it('lost indexes: two blocks per 1 MiB segment, a snapshot for the log end, allowances', () => {
    const p = partition(10, { indexBytes: null, snapshots: 'all' });
    const h = estimatePartitionHeadroom(p, params());
    expect(h.segmentsRecovered).toBe(10);
    expect(h.logBytesRecovered).toBe(10 * MiB);
    expect(h.indexGrowthBytes).toBe(10 * 2 * B);
    expect(h.snapshotBytes).toBe(B); // all but the last segment's end snapshot exist
    expect(h.activeResizeBytes).toBe(0);
    expect(h.inFlightExtraBytes).toBe(0);
    expect(h.allowanceBytes).toBe(2 * B);
    expect(h.peakBytes).toBe(20 * B + B + 2 * B);
  });

  it('intact indexes as large as the rebuilt ones: no index growth', () => {
    const p = partition(3, { indexBytes: B, snapshots: 'all' });
    const h = estimatePartitionHeadroom(p, params({ scenario: 'full-rebuild' }));
    expect(h.indexGrowthBytes).toBe(0);
    expect(h.peakBytes).toBe(B + 2 * B);
  });

  it('larger segments need more blocks; producer snapshots missing are counted', () => {
    // 64 MiB of log: 16 384 entries → 128 KiB offset index, ~192 KiB time index.
    const p = partition(2, { logBytes: 64 * MiB, indexBytes: null, snapshots: 'none' });
    const h = estimatePartitionHeadroom(p, params());
    const r = rebuiltIndexBytes(64 * MiB, KAFKA_INDEX_DEFAULTS);
    const perSegment = Math.ceil(r.offsetIndexBytes / B) * B + Math.ceil(r.timeIndexBytes / B) * B;
    expect(h.indexGrowthBytes).toBe(2 * perSegment);
    expect(h.snapshotBytes).toBe(2 * B);
  });

  it('a clean restart with all indexes present needs nothing', () => {
    const e = estimateLogDirHeadroom(
      [partition(5, { indexBytes: B })],
      params({ scenario: 'clean' }),
    );
    expect(e.segmentsRecovered).toBe(0);
    expect(e.neededBytes).toBe(0);
  });

  it('per-topic overrides change the interval (and so the index size)', () => {
    const p = partition(1, { topic: 'dense', indexBytes: null, snapshots: 'all' });
    const dense = estimatePartitionHeadroom(
      p,
      params({ topics: new Map([['dense', { indexIntervalBytes: 128 }]]) }),
    );
    // floor(1 MiB / 129) + 1 = 8129 entries: 64 KiB offset index, 96 KiB time index.
    expect(dense.settings.indexIntervalBytes).toBe(128);
    expect(dense.indexGrowthBytes).toBe(
      Math.ceil((8129 * 8) / B) * B + Math.ceil((8130 * 12) / B) * B,
    );
  });
});

describe('headroom without sparse files', () => {
  const full = 10 * MiB; // 10 MiB is a multiple of 8; for 12 it rounds down to 10 485 752
  const fullTime = Math.ceil((Math.floor(full / 12) * 12) / B) * B;

  it('a recovering segment holds its whole preallocation while it is rebuilt', () => {
    const p = partition(4, { indexBytes: null, snapshots: 'all' });
    const h = estimatePartitionHeadroom(p, params({ sparse: false }));
    expect(h.inFlightExtraBytes).toBe(full - B + (fullTime - B));
    // The active segment's indexes end at segment.index.bytes again: real blocks.
    expect(h.activeResizeBytes).toBe(full + fullTime - 2 * B);
  });

  it('in flight counts the `recoveryThreads` largest partitions once each', () => {
    const parts = [0, 1, 2].map((i) => ({
      ...partition(3, { indexBytes: null, snapshots: 'all' }),
      partition: i,
    }));
    const one = estimateLogDirHeadroom(parts, params({ sparse: false, recoveryThreads: 1 }));
    const two = estimateLogDirHeadroom(parts, params({ sparse: false, recoveryThreads: 2 }));
    const perPartition = full - B + (fullTime - B);
    expect(one.inFlightExtraBytes).toBe(perPartition);
    expect(two.inFlightExtraBytes).toBe(2 * perPartition);
    expect(two.neededBytes - one.neededBytes).toBe(perPartition);
  });

  it('after a clean shutdown (active indexes trimmed) a restart reallocates them for every partition', () => {
    const parts = Array.from({ length: 100 }, (_, i) => ({
      ...partition(2, { indexBytes: B }),
      partition: i,
    }));
    const e = estimateLogDirHeadroom(parts, params({ sparse: false, scenario: 'clean' }));
    expect(e.segmentsRecovered).toBe(0);
    expect(e.activeResizeBytes).toBe(100 * (full + fullTime - 2 * B));
    expect(e.neededBytes).toBe(e.activeResizeBytes);
  });

  it('a running broker (active indexes already preallocated) needs no reallocation', () => {
    const p = partition(2, { indexBytes: B, activeIndexBytes: full });
    const h = estimatePartitionHeadroom(p, params({ sparse: false }));
    expect(h.activeResizeBytes).toBe(0);
  });
});

describe('the verdict', () => {
  it('yes / only by releasing reserves / no', () => {
    expect(headroomVerdict(10, 20, 0).verdict).toBe('yes');
    expect(headroomVerdict(30, 20, 15).verdict).toBe('only-with-reserves');
    expect(headroomVerdict(40, 20, 15)).toEqual({
      verdict: 'no',
      neededBytes: 40,
      hasBytes: 35,
      availableBytes: 20,
      reserveBytes: 15,
      marginBytes: -5,
    });
  });

  it('says it plainly', () => {
    expect(describeVerdict(headroomVerdict(1.5 * MiB, 40 * 2 ** 30, 0))).toBe(
      'survives an unclean restart today: yes, needs 1.5 MiB, has 40.0 GiB',
    );
    expect(describeVerdict(headroomVerdict(30 * MiB, 20 * MiB, 16 * MiB))).toBe(
      'survives an unclean restart today: only by releasing reserves, needs 30.0 MiB, has 36.0 MiB (20.0 MiB available + 16.0 MiB in reserves)',
    );
    expect(describeVerdict(headroomVerdict(600 * KiB, 100 * KiB, 0), 'a full index rebuild')).toBe(
      'survives a full index rebuild today: NO (short by 500 KiB), needs 600 KiB, has 100 KiB',
    );
  });
});

describe('broker and topic settings', () => {
  it('reads log.index.* and the recovery threads from server.properties', () => {
    const props = new Map([
      ['log.index.size.max.bytes', '1048576'],
      ['log.index.interval.bytes', '8192'],
      ['num.recovery.threads.per.data.dir', '8'],
    ]);
    expect(brokerRecoverySettings(props)).toEqual({
      index: { segmentIndexBytes: MiB, indexIntervalBytes: 8192 },
      recoveryThreads: 8,
    });
  });

  it('defaults: 10 MiB / 4096; one recovery thread before Kafka 4.0, two since', () => {
    expect(brokerRecoverySettings(new Map(), '3.9.1')).toEqual({
      index: KAFKA_INDEX_DEFAULTS,
      recoveryThreads: 1,
    });
    expect(
      brokerRecoverySettings(new Map([['num.recovery.threads.per.data.dir', 'x']]), '4.1.1'),
    ).toMatchObject({ recoveryThreads: 2 });
    expect(defaultRecoveryThreads()).toBe(2);
    expect(defaultRecoveryThreads('2.8.2')).toBe(1);
  });

  it('takes segment.index.bytes and index.interval.bytes from topic configs', () => {
    expect(
      topicIndexOverrides({
        'segment.index.bytes': '2097152',
        'index.interval.bytes': '1024',
        'retention.ms': '-1',
      }),
    ).toEqual({ segmentIndexBytes: 2 * MiB, indexIntervalBytes: 1024 });
    expect(topicIndexOverrides({ 'segment.index.bytes': 'lots' })).toEqual({});
  });
});

describe('the log.dir estimate', () => {
  it('sums partitions, adds the log.dir allowance, sorts by need', () => {
    const big = { ...partition(20, { indexBytes: null, snapshots: 'all' }), topic: 'big' };
    const small = { ...partition(2, { indexBytes: null, snapshots: 'all' }), topic: 'small' };
    const idle = { ...partition(3, { indexBytes: B, recoveryPoint: 100_000n }), topic: 'idle' };
    const e = estimateLogDirHeadroom([small, idle, big], params());
    expect(e.byPartition.map((p) => p.topic)).toEqual(['big', 'small', 'idle']);
    expect(e.partitions).toBe(3);
    // idle recovers its active segment (the recovery point is in it) but needs no new blocks
    // for indexes as large as the rebuilt ones.
    expect(e.partitionsRecovered).toBe(3);
    expect(e.indexGrowthBytes).toBe(22 * 2 * B);
    expect(e.neededBytes).toBe(
      e.byPartition.reduce((s, p) => s + p.growthBytes, 0) + e.inFlightExtraBytes + 16 * B,
    );
  });

  it('needs nothing when nothing is recovered', () => {
    expect(estimateLogDirHeadroom([], params()).neededBytes).toBe(0);
  });
});
