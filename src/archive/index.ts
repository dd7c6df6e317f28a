export {
  assertTopicName,
  decodeGroupName,
  encodeGroupName,
  groupNameStorable,
  groupPrefix,
  groupSnapshotKey,
  GROUPS_PREFIX,
  parseGroupSnapshotKey,
  doctorProbeKey,
  GENERATION_SEP,
  generationRecordKey,
  generationsPrefix,
  parseGenerationRecordKey,
  parseStream,
  streamName,
  streamOfMeta,
  topicOfStream,
  parsePartitionDir,
  parseSegmentFileName,
  parseSegmentKey,
  parseTopicDir,
  partitionRelDir,
  segmentFileName,
  segmentIndexKey,
  segmentKey,
  segmentRelPath,
  topicMetaKey,
  topicRelDir,
  TOPICS_PREFIX,
} from './layout.js';
export type { SegmentLocation, TopicGeneration } from './layout.js';
export { LocalSegmentIndex } from './hot.js';
export type { LocalSegment } from './hot.js';
export {
  listDirObjects,
  listPartitionDirs,
  listPartitionObjects,
  listSegmentObjects,
  objectBuffer,
} from './cold.js';
export type { SegmentObject } from './cold.js';
export { hotSource, tieredBuffer, tieredSource } from './source.js';
export type { SegmentSource, TieredSegment } from './source.js';
export { hashFile, hashObject } from './verify.js';
export {
  findGroupSnapshot,
  formatGroupSnapshot,
  parseGroupSnapshot,
  writeGroupSnapshot,
} from './groups.js';
export type { GroupOffsetRow, GroupSnapshot } from './groups.js';
export { decideGeneration, listGenerations, recordGeneration } from './generations.js';
export type {
  GenerationDecision,
  GenerationFacts,
  GenerationReason,
  GenerationRecord,
} from './generations.js';
