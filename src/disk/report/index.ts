export { collectDiskReport, summarizeDiskReport, DEFAULT_REPORT_WINDOW_MS } from './collect.js';
export type {
  DiskReport,
  DiskReportOptions,
  VolumeReport,
  IndexVsLog,
  TopIndexPartition,
} from './collect.js';
export {
  readLogDirState,
  readPartitionState,
  headroomFromState,
  assessLogDirHeadroom,
} from './logdir-state.js';
export type {
  LogDirState,
  LogDirStateOptions,
  LogDirHeadroom,
  LogDirHeadroomOptions,
  ScenarioHeadroom,
} from './logdir-state.js';
export { renderDiskReportText, headroomText } from './text.js';
export { renderDiskReportHtml } from './html.js';
export { REPORT_COLORS } from './svg.js';
export { writeDiskReportFiles } from './write.js';
export { DiskReportScheduler } from './scheduler.js';
export type {
  DiskReportSchedulerOptions,
  DiskReportSchedulerStats,
  DiskReportRun,
} from './scheduler.js';
export { renderFleetReportHtml, writeFleetReportFile, survivesText } from './fleet-html.js';
