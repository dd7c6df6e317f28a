export {
  classifyWatermark,
  validateWatermarks,
  budgetBytes,
  formatBudget,
  availableAtPercent,
  sampleVolume,
  resolveVolumes,
  pickVolume,
  DEFAULT_WATERMARKS,
} from './volume.js';
export type {
  WatermarkState,
  Watermarks,
  Budget,
  VolumeKind,
  VolumeSpec,
  VolumeSample,
  ResolveOptions,
} from './volume.js';
export {
  reserveStatus,
  releaseReserve,
  rearmReserves,
  allocateFile,
  reserveFileName,
  isReserveFileName,
  RESERVE_PREFIX,
} from './reserve.js';
export type {
  ReserveSpec,
  ReserveFile,
  ReserveStatus,
  ReleaseResult,
  RearmResult,
  RearmRefusal,
  RearmOptions,
  AllocationMethod,
} from './reserve.js';
export {
  parseProperties,
  logDirsFromProperties,
  parseCheckpoint,
  parsePartitionDirName,
  parseProcLocks,
  devMajorMinor,
  segmentsFrom,
  CHECKPOINT_FILES,
  KAFKA_DEFAULT_LOG_DIR,
} from './kafka-formats.js';
export type {
  BrokerLogDirs,
  Checkpoint,
  CheckpointEntry,
  CheckpointName,
  ProcLock,
} from './kafka-formats.js';
export {
  readServerProperties,
  brokerLockHolder,
  detectSparseSupport,
  scanLogDir,
  scanLogDirs,
} from './kafka-logdir.js';
export type {
  ServerProperties,
  CheckpointSummary,
  FileKindBytes,
  PartitionScan,
  LogDirScan,
  ScanOptions,
  SparseProbe,
} from './kafka-logdir.js';
export { measureFilesystem, measureUsage, allocatedBytes, filesystemTypeName } from './fs-stats.js';
export type { FilesystemSample, DirUsage, WalkOptions } from './fs-stats.js';
export { DiskMonitor, bytesAboveLow } from './monitor.js';
export type { PressureActions, DiskMonitorDeps, DiskMonitorCounters } from './monitor.js';
export {
  estimateLogDirHeadroom,
  estimatePartitionHeadroom,
  segmentsToRecover,
  rebuiltIndexBytes,
  headroomVerdict,
  describeVerdict,
  brokerRecoverySettings,
  topicIndexOverrides,
  defaultRecoveryThreads,
  indexSettingsFor,
  KAFKA_INDEX_DEFAULTS,
  OFFSET_INDEX_ENTRY_BYTES,
  TIME_INDEX_ENTRY_BYTES,
} from './headroom.js';
export type {
  IndexSettings,
  TopicIndexOverrides,
  IndexFileState,
  SegmentState,
  PartitionState,
  RecoveryScenario,
  HeadroomParams,
  SegmentEstimate,
  PartitionHeadroom,
  LogDirHeadroomEstimate,
  SurvivalVerdict,
  HeadroomVerdict,
} from './headroom.js';
export {
  DiskHistory,
  makeHistorySample,
  parseHistory,
  trimHistory,
  leastSquares,
  daysUntil,
  daysToPercent,
  forecastVolume,
  partitionGrowth,
  HISTORY_FILE,
} from './history.js';
export type {
  HistorySample,
  VolumePoint,
  PartitionPoint,
  LinearFit,
  ForecastOptions,
  VolumeForecast,
  VolumeSeriesPoint,
  PartitionGrowth,
} from './history.js';
export * from './report/index.js';
export * from './fleet/index.js';
export { LocalReserves, rearmOn, releaseOn, releaseVolume } from './reserve-control.js';
export type { ReserveControl, VolumeRearm, VolumeRelease } from './reserve-control.js';
