export { Tierer } from './tierer.js';
export type { TiererDeps, TierFilter, TierRoundResult } from './tierer.js';
export { objectBuffer, objectKey, tieredBuffer, tieredSource } from './sources.js';
