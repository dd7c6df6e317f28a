import type { Tier } from '../catalog/index.js';
import type { RepartitionMode } from './partitioner.js';

/** An offset bound: one offset for every partition, and/or offsets for given partitions. */
export interface OffsetBound {
  all: bigint | null;
  byPartition: Map<number, bigint>;
}

/** What the user asked for: the job's identity (see spec.ts). */
export interface RestoreRequest {
  /** A topic name, or a regular expression matching whole archived topic names. */
  topic: string;
  /** `--generation N`: that generation of each topic; absent: each topic's newest. */
  generation?: number;
  partitions: number[] | null;
  /** Record timestamps in [fromTime, toTime), epoch ms. */
  fromTime: bigint | null;
  toTime: bigint | null;
  /** Original offsets in [startOffset, endOffset). */
  startOffset: OffsetBound | null;
  endOffset: OffsetBound | null;
  /** `--target-topic` (one source topic only). */
  targetTopic: string | null;
  /** `--topic-map a=b,...` */
  topicMap: Map<string, string>;
  repartition: RepartitionMode | null;
  offsetHeader: boolean;
  /** Bootstrap brokers of the target cluster, for the job's identity. */
  targetBrokers: string[];
  /** `--job NAME`; otherwise the id is derived from the fields above. */
  jobName: string | null;
}

/** How the job runs: not part of its identity, may change between runs of the same job. */
export interface RunOptions {
  append: boolean;
  allowGaps: boolean;
  dryRun: boolean;
  replicationFactor: number | null;
  bytesPerSecond: number;
  recordsPerSecond: number;
  concurrency: number;
  batchBytes: number;
  batchRecords: number;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  transactionTimeoutMs: number;
}

export interface Gap {
  topic: string;
  partition: number;
  /** Inclusive offsets missing from the archive. */
  from: bigint;
  to: bigint;
}

/** The frozen plan of one source partition. */
export interface PartitionPlan {
  topic: string;
  partition: number;
  targetTopic: string;
  /** Original offsets [startOffset, endOffset) are read; records outside the time range skipped. */
  startOffset: bigint;
  endOffset: bigint;
  /** What the plan found when it was made (exact counts; bytes estimated from statistics). */
  records: number;
  recordBytes: number;
  segments: number;
  segmentBytes: number;
  rowGroups: number;
  /** Bytes of the row groups that will be read (after pruning by statistics). */
  rowGroupBytes: number;
  tiers: Tier[];
}

export interface TargetPlan {
  topic: string;
  sourceTopic: string;
  /** Partitions it has (or will be created with). */
  partitions: number;
  create: boolean;
  configs: Record<string, string>;
  /** The high-water mark of each partition when the job first started writing to it. */
  startOffsets: Record<string, string>;
  maxMessageBytes: number;
}

export interface RestorePlan {
  partitions: PartitionPlan[];
  gaps: Gap[];
}

/** Totals over a plan. */
export interface PlanTotals {
  partitions: number;
  records: number;
  recordBytes: number;
  segments: number;
  segmentBytes: number;
  rowGroups: number;
  rowGroupBytes: number;
}

export function planTotals(plan: readonly PartitionPlan[]): PlanTotals {
  const t: PlanTotals = {
    partitions: plan.length,
    records: 0,
    recordBytes: 0,
    segments: 0,
    segmentBytes: 0,
    rowGroups: 0,
    rowGroupBytes: 0,
  };
  for (const p of plan) {
    t.records += p.records;
    t.recordBytes += p.recordBytes;
    t.segments += p.segments;
    t.segmentBytes += p.segmentBytes;
    t.rowGroups += p.rowGroups;
    t.rowGroupBytes += p.rowGroupBytes;
  }
  return t;
}

export interface RestoreProgress {
  jobId: string;
  records: number;
  recordBytes: number;
  totalRecords: number;
  totalRecordBytes: number;
  transactions: number;
  partitionsDone: number;
  partitions: number;
  /** Segment bytes fetched from either tier (footers and row groups). */
  bytesRead: number;
}

export type JobStatus = 'running' | 'done' | 'failed';
