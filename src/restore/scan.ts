import type { KafkaRecord } from '../record.js';
import { readRowGroup, rowGroups } from '../segment/index.js';
import { openCounted, type ArchiveAccess } from './access.js';
import { recordInWindow, rowGroupVerdict, segmentsToRead, type ReadWindow } from './window.js';

/** The records of one row group that fall in the window, and where reading continues after it. */
export interface ScanChunk {
  records: KafkaRecord[];
  /** Every original offset below this has been read (or skipped by the window). */
  next: bigint;
}

/**
 * Streams the archived records of one partition in the window, in offset order, one row group
 * at a time (never a whole segment in memory), reading only the row groups whose statistics
 * can match, and fetching the next row group while the caller works on the current one.
 */
export async function* scanPartition(
  access: ArchiveAccess,
  topic: string,
  partition: number,
  w: ReadWindow,
  counter: { bytesRead: number },
): AsyncGenerator<ScanChunk> {
  const segs = access.catalog.segments(topic, partition).all();
  const reads = groupReads(access, segs, w, counter);
  let pending = reads.next();
  for (;;) {
    const cur = await pending;
    if (cur.done === true) break;
    pending = reads.next(); // prefetch: the next row group is read while this one is produced
    // An unhandled rejection would surface before the caller awaits it: observe it now.
    pending.catch(() => undefined);
    yield await cur.value.read;
  }
  yield { records: [], next: w.endOffset };
}

async function* groupReads(
  access: ArchiveAccess,
  segs: Parameters<typeof segmentsToRead>[0],
  w: ReadWindow,
  counter: { bytesRead: number },
): AsyncGenerator<{ read: Promise<ScanChunk> }> {
  for (const { entry, fromOffset } of segmentsToRead(segs, w)) {
    const { seg } = await openCounted(access, entry, counter);
    for (const g of rowGroups(seg)) {
      if (rowGroupVerdict(g, fromOffset, w) === 'skip') continue;
      const read = readRowGroup(seg, g).then((all) => {
        const records = all.filter((r) => recordInWindow(r, fromOffset, w));
        const last = all[all.length - 1];
        const after = last === undefined ? fromOffset : last.offset + 1n;
        return { records, next: after < w.endOffset ? after : w.endOffset };
      });
      read.catch(() => undefined); // awaited by the caller; never an unhandled rejection
      // Wrapped: an async generator awaits a promise it yields, which would end the prefetch.
      yield { read };
    }
  }
}
