export { runRestore } from './engine.js';
export type { PartitionProgress, RestoreDeps, RestoreEvents, RestoreOutcome } from './engine.js';
export { verifyJob } from './verify.js';
export type { PairReport, VerifyReport } from './verify.js';
export type { ArchiveAccess, TopicSnapshot } from './access.js';
export { JobStore } from './job-store.js';
export { dryRunView, jobView, partitionViewKey, recordedRecords } from './job-view.js';
export type {
  DryRunView,
  JobPhase,
  JobProgressView,
  JobView,
  LiveRun,
  PartitionView,
} from './job-view.js';
export type { JobState, JobResult } from './job-store.js';
export { jobId, canonicalSpec, assertJobName } from './spec.js';
export { makePlan, describeRange } from './plan.js';
export {
  cliLabel,
  COMPRESSIONS,
  parseRestoreRequest,
  parseRunOptions,
  parseTargetBrokers,
  REPARTITION_MODES,
} from './options.js';
export type { OptionLabel, OptionName, RestoreInput } from './options.js';
export { RateLimiter } from './rate-limiter.js';
export { murmur2, targetPartition } from './partitioner.js';
export type { RepartitionMode } from './partitioner.js';
export { loadRuns, buildRuns, parseRun, formatRun } from './offset-map.js';
export type { OffsetRun } from './offset-map.js';
export { OFFSET_HEADERS } from './batch.js';
export { planTotals } from './types.js';
export type {
  Gap,
  OffsetBound,
  PartitionPlan,
  PlanTotals,
  RestorePlan,
  RestoreProgress,
  RestoreRequest,
  RunOptions,
  TargetPlan,
} from './types.js';
export { translateGroupOffsets, translateJob, translateOffset } from './translate.js';
export type {
  PositionSource,
  TranslateDeps,
  TranslatedPartition,
  TranslateReport,
  Translation,
  TranslationKind,
} from './translate.js';
