export { ContentHasher, contentSha256 } from './checksum.js';
export { FORMAT_VERSION, toKv, fromKv } from './meta.js';
export type { SegmentMeta, SegmentCompression } from './meta.js';
export { SegmentWriter } from './writer.js';
export type {
  SegmentContent,
  SegmentFacts,
  SegmentRecords,
  WriteOptions,
  WriteResult,
} from './writer.js';
export { PackedRecords } from './packed-records.js';
export type { PackedRange } from './packed-records.js';
export {
  countingBuffer,
  FOOTER_FETCH_BYTES,
  localFileBuffer,
  openSegment,
  readRowGroup,
  readRowGroupKeys,
  rowGroups,
  readSegmentMeta,
  readSegmentOffsets,
  readSegmentRecords,
} from './reader.js';
export type { OpenSegment, ReadRange, AsyncBuffer, RowGroupInfo } from './reader.js';
export { recordJson } from './record-json.js';
