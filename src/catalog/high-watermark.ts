import type { LocalSegmentIndex } from '../archive/index.js';
import type { Catalog } from './store.js';

/** The archive's highest offset per partition, the input of the archiver's resume rule. */
export interface ArchivedHighWatermark {
  highWatermark(topic: string, partition: number): Promise<bigint | null>;
}

/**
 * The highest archived offset over both tiers: the hot directory (which may hold segments a
 * crash kept out of the catalog) and the catalog (which remembers segments tiered off the hot
 * directory). Null when neither holds anything of the partition.
 */
export function archivedHighWatermark(
  hot: Pick<LocalSegmentIndex, 'highWatermark'>,
  catalog: Catalog | null,
): ArchivedHighWatermark {
  return {
    async highWatermark(topic, partition) {
      const onDisk = await hot.highWatermark(topic, partition);
      const catalogued = catalog?.segments(topic, partition).highWatermark() ?? null;
      if (onDisk === null) return catalogued;
      return catalogued !== null && catalogued > onDisk ? catalogued : onDisk;
    },
  };
}
