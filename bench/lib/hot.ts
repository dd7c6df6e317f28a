/** What a benchmark reads from the product's hot directory, by the archive's own layout. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSegmentFileName } from '../../src/archive/layout.js';

/** Highest archived offset of a partition in a hot directory, from the segment file names. */
export async function hotHighWatermark(
  hotDir: string,
  topic: string,
  partition: number,
): Promise<bigint | null> {
  let names: string[];
  try {
    names = await readdir(join(hotDir, `topic=${topic}`, `partition=${partition}`));
  } catch {
    return null;
  }
  let max: bigint | null = null;
  for (const name of names) {
    const last = parseSegmentFileName(name)?.lastOffset;
    if (last !== undefined && (max === null || last > max)) max = last;
  }
  return max;
}
