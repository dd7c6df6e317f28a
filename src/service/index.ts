/**
 * The composition root: the one place where concrete parts (the Kafka client, the segment
 * writer, the object store backend, the catalog) are chosen and wired into the engines. The CLI,
 * the HTTP server and the library API get their engines from here.
 */
export { createArchiverService } from './archiver.js';
export type { ArchiverService } from './archiver.js';
export { openArchiveForRead, openCatalogForWrite } from './catalog.js';
export type { ArchiveReader } from './catalog.js';
export { createKafkaClient } from './kafka.js';
export { runTierPass } from './tier.js';
export type { TierPassResult } from './tier.js';
export { CatalogRebuilds, rebuildCatalog } from './rebuild.js';
export type {
  CatalogRebuildsDeps,
  RebuildJobView,
  RebuildProgress,
  RebuildResult,
} from './rebuild.js';
export { runDoctor, doctorConfigFailure } from './doctor.js';
export type { DoctorReport, DoctorCheck, CheckStatus, DoctorOptions } from './doctor.js';
export { RestoreJobs } from './restore-jobs.js';
export type { RestoreJobsDeps, StartResult } from './restore-jobs.js';
export {
  collectFleetReport,
  createDiskAgent,
  ensureFleetTopic,
  fleetBrokerId,
  fleetEstimates,
  FleetWatcher,
  fleetReportFrom,
  fleetStaleAfterMs,
  readFleetTopic,
} from './fleet.js';
export type { DiskAgentHandle, FleetConfig, FleetView } from './fleet.js';
