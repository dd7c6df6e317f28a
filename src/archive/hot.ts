import { stat } from 'node:fs/promises';
import { readdirOrEmpty } from '../util/fs.js';
import { join } from 'node:path';
import {
  parseGenerationDir,
  parsePartitionDir,
  parseSegmentFileName,
  parseTopicDir,
  partitionRelDir,
  streamName,
  topicRelDir,
  type SegmentLocation,
} from './layout.js';

/** One sealed segment on the local hot tier. */
export interface LocalSegment extends SegmentLocation {
  path: string;
  bytes: number;
}

/**
 * The index of sealed segments on the local hot tier, read from the directory layout
 * (layout.ts). Segments appear there only through an atomic rename after fsync, so the
 * directory itself is a crash-safe index: a listing never shows a partial segment (temporary
 * files start with a dot and are ignored).
 */
export class LocalSegmentIndex {
  constructor(readonly root: string) {}

  partitionDir(topic: string, partition: number): string {
    return join(this.root, partitionRelDir(topic, partition));
  }

  /** Streams on this tier: each topic, and `<topic>~<n>` for its generations n >= 2. */
  async topics(): Promise<string[]> {
    const out: string[] = [];
    for (const topic of (await readdirOrEmpty(this.root)).map(parseTopicDir)) {
      if (topic === null) continue;
      out.push(topic);
      for (const g of (await readdirOrEmpty(join(this.root, topicRelDir(topic)))).map(
        parseGenerationDir,
      )) {
        if (g !== null && g > 1) out.push(streamName(topic, g));
      }
    }
    return out.sort();
  }

  async partitions(topic: string): Promise<number[]> {
    const names = await readdirOrEmpty(join(this.root, topicRelDir(topic)));
    return names
      .map(parsePartitionDir)
      .filter((p): p is number => p !== null)
      .sort((a, b) => a - b);
  }

  /** Sealed segments of one partition, ordered by first offset. */
  async segments(topic: string, partition: number): Promise<LocalSegment[]> {
    const dir = this.partitionDir(topic, partition);
    const out: LocalSegment[] = [];
    for (const name of await readdirOrEmpty(dir)) {
      const parsed = parseSegmentFileName(name);
      if (parsed === null) continue;
      const path = join(dir, name);
      const st = await stat(path).catch(() => null);
      if (st === null) continue;
      out.push({ topic, partition, ...parsed, path, bytes: st.size });
    }
    return out.sort((a, b) =>
      a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
    );
  }

  /** Highest archived offset of the partition on this tier, or null when nothing is archived. */
  async highWatermark(topic: string, partition: number): Promise<bigint | null> {
    let max: bigint | null = null;
    for (const name of await readdirOrEmpty(this.partitionDir(topic, partition))) {
      const parsed = parseSegmentFileName(name);
      if (parsed !== null && (max === null || parsed.lastOffset > max)) max = parsed.lastOffset;
    }
    return max;
  }
}
