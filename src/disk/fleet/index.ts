export { FleetAgent } from './agent.js';
export type { FleetAgentDeps, FleetAgentStats } from './agent.js';
export { FLEET_RECORD_VERSION, fleetKey, encodeFleetRecord, decodeFleetRecord } from './record.js';
export type { FleetRecord, DecodeResult } from './record.js';
export { FleetState, isStale, daysToPercentOf, buildFleetEntries } from './state.js';
export type { FleetRowOptions } from './state.js';
export type { FleetEstimate, FleetEntry, FleetReport, FleetPoint } from './types.js';
export {
  estimateFromLogDirs,
  estimatePartition,
  estimatedIndexBytes,
  indexToLogRatio,
  DEFAULT_SEGMENT_BYTES,
} from './estimate.js';
export type { LogDirEstimate, EstimateOptions, TopicEstimateOverrides } from './estimate.js';
