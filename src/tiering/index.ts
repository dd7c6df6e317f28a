export { Tierer } from './tierer.js';
export type { PartitionOwnership, TiererDeps, TierFilter, TierRoundResult } from './tierer.js';
export { firstDifference, overlaps, planUpload, sameRecord, trimPieces } from './overlap.js';
export type { OffsetSpan, TrimmedPiece, UploadPlan } from './overlap.js';
