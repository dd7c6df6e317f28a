import { mkdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Catalog, CatalogEntry } from '../catalog/index.js';
import { adoptObjects, entryFromMeta, forEachLimit, topicSpecMatcher } from '../catalog/index.js';
import type { TieringConfig } from '../config/index.js';
import { ArchiveError, describeError, ErrorCodes, isArchiveError } from '../errors.js';
import type { TopicInfo } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import type { KafkaRecord } from '../record.js';
import {
  hashFile,
  hashObject,
  listPartitionObjects,
  objectBuffer,
  parseStream,
  segmentKey,
  topicMetaKey,
  topicOfStream,
  type SegmentObject,
} from '../archive/index.js';
import {
  localFileBuffer,
  openSegment,
  readSegmentRecords,
  SegmentWriter,
  type WriteOptions,
} from '../segment/index.js';
import { isStoreOutage, type ObjectStore } from '../storage/index.js';
import { firstDifference, overlaps, planUpload, trimPieces } from './overlap.js';
import { SegmentIndexes } from './segment-indexes.js';
import { backoffMs, sleep } from '../util/backoff.js';
import { fsyncDir } from '../util/fs.js';

export interface TiererDeps {
  catalog: Catalog;
  store: ObjectStore;
  hotDir: string;
  config: TieringConfig;
  log: Logger;
  /** Topic facts for the metadata snapshot uploaded beside the segments (optional). */
  describeTopic?: (topic: string) => Promise<TopicInfo>;
  /**
   * Which partitions this member archives now (the archiver's assignment). Without it (the
   * `tier` command, the service stopped) every segment may be uploaded.
   */
  ownership?: PartitionOwnership;
  /** How trimmed segments are written (archiver.compression, archiver.rowGroupBytes). */
  segmentOptions?: WriteOptions;
}

/** The archiver's view of the group, for the bucket guarantee (README "Archive format"). */
export interface PartitionOwnership {
  /** This member is assigned the partition now. */
  owns(topic: string, partition: number): boolean;
  /** The group's committed next offset of the partition; null when none or unknown. */
  committed(topic: string, partition: number): Promise<bigint | null>;
}

export interface TierFilter {
  /** Only this topic (exact name or whole-name regular expression). */
  topic?: string;
  /** Override tiering.minAgeMs: segments whose newest record is older than this. */
  olderThanMs?: number;
  now?: number;
  /** Evict hot copies after verification even when tiering.evictHot is off (disk pressure). */
  evict?: boolean;
  /** Stop selecting segments once their hot bytes reach this (oldest first). */
  maxBytes?: number;
}

export interface TierRoundResult {
  /** Segments uploaded and verified in this round. */
  uploaded: number;
  /** Segments whose object already existed and matched (a crash after upload, or a peer). */
  adopted: number;
  /** Hot copies deleted after their object was verified. */
  evicted: number;
  /** Bytes uploaded (or adopted) and verified. */
  bytes: number;
  /** Hot-tier bytes freed by evictions. */
  evictedBytes: number;
  /** Objects that exist with different content: never overwritten, never evicted. */
  conflicts: string[];
  /** Hot segments dropped because the bucket already held all their records (identical). */
  duplicates: number;
  /** Hot segments the bucket held in part, replaced by trimmed segments of the rest. */
  trimmed: number;
  /** Segments of partitions another member owns, kept until covered or committed. */
  deferred: number;
  seconds: number;
}

const DEFAULT_SEGMENT_OPTIONS: WriteOptions = { compression: 'zstd', rowGroupBytes: 4 * 2 ** 20 };

/**
 * Moves sealed segments to the object store, safely:
 *
 *   upload (put-if-absent) -> verify (size + SHA-256 read back) -> catalog: cold, fsync'd
 *   -> delete the hot file -> catalog: not hot
 *
 * A crash at any step leaves a consistent state: an object without a catalog entry is verified
 * and adopted on the next round or at start (`adoptObjects`); a catalog entry is marked cold only
 * after its object is verified, and a hot file is deleted only after that mark is durable.
 * An existing object with different content is reported and left alone: nothing is overwritten
 * or deleted on a mismatch.
 */
export class Tierer {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private budgetAt = 0;
  private round: Promise<void> = Promise.resolve();
  private readonly topicsSnapshotted = new Set<string>();
  /** Non-owned segments first seen wholly below the group's committed offset (ms). */
  private readonly committedSince = new Map<string, number>();
  /** Trimmed segments written in place of one already allowed to be uploaded. */
  private readonly approved = new Set<string>();
  private writer: SegmentWriter | null = null;
  /** The partitions' segment indexes in the bucket (tiering.segmentIndex). */
  private readonly indexes: SegmentIndexes | null;
  /** Consecutive failed rounds (0 = healthy). */
  failures = 0;
  readonly totals = {
    uploaded: 0,
    adopted: 0,
    evicted: 0,
    bytes: 0,
    failedRounds: 0,
    duplicates: 0,
    trimmed: 0,
    overlaps: 0,
  };

  constructor(private readonly deps: TiererDeps) {
    this.indexes = deps.config.segmentIndex
      ? new SegmentIndexes({ catalog: deps.catalog, store: deps.store, log: deps.log })
      : null;
  }

  /** Segment indexes written by this tierer so far. */
  get indexesWritten(): number {
    return this.indexes?.written ?? 0;
  }

  /** Segments due for tiering (upload) or eviction under the filter, oldest first. */
  due(filter: TierFilter = {}): CatalogEntry[] {
    const { catalog, config } = this.deps;
    const now = BigInt(filter.now ?? Date.now());
    const minAge = BigInt(filter.olderThanMs ?? config.minAgeMs);
    const match = filter.topic !== undefined ? topicSpecMatcher(filter.topic) : () => true;
    const out: CatalogEntry[] = [];
    // Only hot entries are candidates: read from the catalog's index of them, never every segment.
    for (const e of catalog.hotEntries()) {
      if (!match(e.topic) || now - e.maxTimestamp < minAge) continue;
      if (!e.cold || config.evictHot || filter.evict === true) out.push(e);
    }
    out.sort((a, b) =>
      a.maxTimestamp < b.maxTimestamp ? -1 : a.maxTimestamp > b.maxTimestamp ? 1 : 0,
    );
    if (filter.maxBytes === undefined) return out;
    let bytes = 0;
    const limited: CatalogEntry[] = [];
    for (const e of out) {
      if (bytes >= filter.maxBytes) break;
      limited.push(e);
      bytes += e.bytes;
    }
    return limited;
  }

  /** One tiering round. Throws on an object-store outage (after recording what was done). */
  runOnce(filter: TierFilter = {}): Promise<TierRoundResult> {
    // One round at a time (the schedule and disk-pressure rounds share this tierer).
    return this.hold(() => this.runRound(filter));
  }

  /**
   * Runs `fn` between rounds: no round (scheduled, disk pressure or by hand) moves or deletes a
   * hot file meanwhile (a catalog rebuild reading the hot tier's footers).
   */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.round;
    let done!: () => void;
    this.round = new Promise<void>((resolve) => (done = resolve));
    await previous;
    try {
      return await fn();
    } finally {
      done();
    }
  }

  private async runRound(filter: TierFilter): Promise<TierRoundResult> {
    const t0 = performance.now();
    const r: TierRoundResult = {
      uploaded: 0,
      adopted: 0,
      evicted: 0,
      bytes: 0,
      evictedBytes: 0,
      conflicts: [],
      duplicates: 0,
      trimmed: 0,
      deferred: 0,
      seconds: 0,
    };
    const due = this.due(filter);
    let outage: unknown = null;
    await forEachLimit(due, this.deps.config.concurrency, async (e) => {
      if (outage !== null || this.abort.signal.aborted) return;
      try {
        await this.tierOne(e, r, filter.evict === true);
      } catch (err) {
        if (isStoreOutage(err)) outage ??= err;
        else {
          this.deps.log.error(
            {
              code: isArchiveError(err) ? err.code : 'TIERING_FAILED',
              segment: segmentKey(e),
              err: describeError(err),
            },
            'could not tier a segment; it stays on the hot tier and is retried next round',
          );
        }
      }
    });
    await this.deps.catalog.flush(true);
    // After the catalog is durable: an index never names an entry the catalog could lose.
    if (outage === null) await this.indexes?.writeDue().catch((err: unknown) => (outage = err));
    r.seconds = (performance.now() - t0) / 1000;
    this.totals.uploaded += r.uploaded;
    this.totals.adopted += r.adopted;
    this.totals.evicted += r.evicted;
    this.totals.bytes += r.bytes;
    this.totals.duplicates += r.duplicates;
    this.totals.trimmed += r.trimmed;
    if (outage !== null) throw outage;
    return r;
  }

  private async tierOne(e: CatalogEntry, r: TierRoundResult, forceEvict: boolean): Promise<void> {
    const { catalog, store, hotDir, config, log } = this.deps;
    const key = segmentKey(e);
    const path = join(hotDir, key);
    if (!e.cold) {
      if ((await this.checkBucket(e, r)) !== 'upload') return;
      // One read and one hash: the store hashes the bytes as it reads them for sending, and the
      // server checks that hash (or a Content-MD5 of the same bytes) before it stores anything.
      const size = (await stat(path)).size;
      await this.throttle(size);
      let adopted = false;
      let verified = false;
      let sent: string | undefined;
      try {
        const put = await store.put(
          key,
          { path },
          {
            ifAbsent: true,
            contentLength: size,
            metadata: { 'content-sha256': e.sha256 },
          },
        );
        // The server checked a digest of every part it stored, computed from the very bytes read
        // from the file: no read-back needed (stores that cannot say so are read back).
        verified = put.verified === true;
        sent = put.sha256;
      } catch (err) {
        if (!isArchiveError(err) || err.code !== ErrorCodes.OBJECT_EXISTS) throw err;
        adopted = true; // uploaded before a crash, or by another member: verify, never overwrite
      }
      // Verified: the server checked a digest of exactly the `size` bytes read from the file, so
      // the object's size and content are proven without a HEAD or a read-back.
      const head = verified ? { size, metadata: {} } : await store.head(key);
      let matches = false;
      if (head !== null && head.size === size) {
        if (verified) matches = true;
        else {
          // The server vouched for nothing, or the object was there before: read it back and
          // compare with the bytes sent (or, when none were, the file).
          const local = sent ?? (await hashFile(path)).sha256;
          matches = (await hashObject(store, key, head.size)) === local;
        }
      }
      if (!matches) {
        if (adopted && head !== null) {
          // The same records written by another member (other bytes: writer, row groups) are a
          // duplicate; different records are a conflict (sameAsObjects reports it).
          const object = { ...e, key, size: head.size };
          if (await this.sameAsObjects(e, [object], r)) {
            await this.dropDuplicate(e, [object]);
            r.duplicates++;
          }
          return;
        }
        if (adopted) {
          r.conflicts.push(key);
          log.error(
            { code: 'TIER_CONFLICT', key, localSize: size, objectSize: head?.size ?? null },
            'an object with different content already exists under this segment key; left alone, hot copy kept',
          );
          return;
        }
        throw new ArchiveError(
          ErrorCodes.STORAGE_UNAVAILABLE,
          `verification of ${key} failed: read back ${head?.size ?? 'no'} bytes with a different SHA-256; retrying`,
          { retryable: true },
        );
      }
      await catalog.put({ ...e, cold: true, bytes: size });
      await catalog.flush(true);
      this.indexes?.changed(e.topic, e.partition);
      if (!adopted) await this.checkAfterPut(e);
      if (adopted) r.adopted++;
      else r.uploaded++;
      r.bytes += size;
      log.info(
        { key, bytes: size, adopted, topic: e.topic, partition: e.partition },
        adopted ? 'segment object already present and verified' : 'segment tiered and verified',
      );
      await this.snapshotTopic(e.topic);
      if (!config.evictHot && !forceEvict) return;
    }
    // Evict: only a segment whose verified object is recorded in the catalog (durably, above).
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await fsyncDir(dirname(path));
    await catalog.put({ ...e, cold: true, hot: false });
    r.evicted++;
    r.evictedBytes += e.bytes;
  }

  // ---- the bucket guarantee: disjoint objects per partition ---------------------------------

  /**
   * Compares a hot segment with the objects already under its partition's prefix (a fresh
   * listing, right before the upload) and decides: 'upload' (nothing overlaps, or the same key:
   * the put-if-absent path verifies it), or handled here: a duplicate dropped, a partly covered
   * segment replaced by trimmed ones, a segment of a partition another member owns deferred,
   * a disagreement reported. Only 'upload' continues to the put.
   */
  private async checkBucket(e: CatalogEntry, r: TierRoundResult): Promise<'upload' | 'handled'> {
    const { store, log } = this.deps;
    const key = segmentKey(e);
    const objects = await listPartitionObjects(store, e.topic, e.partition);
    if (objects.some((o) => o.key === key)) return 'upload';
    const plan = planUpload(e, objects);
    if (plan.kind === 'covered') {
      if (await this.sameAsObjects(e, plan.overlapping, r)) {
        await this.dropDuplicate(e, plan.overlapping);
        r.duplicates++;
      }
      return 'handled';
    }
    if (!(await this.mayUpload(e))) {
      r.deferred++;
      log.debug(
        { key, topic: e.topic, partition: e.partition },
        'segment of a partition another member owns: kept until the bucket covers it or it is committed',
      );
      return 'handled';
    }
    if (plan.kind === 'upload') return 'upload';
    if (!(await this.sameAsObjects(e, plan.overlapping, r))) return 'handled';
    await this.replaceByTrimmed(e, plan.overlapping, plan.keep, r);
    return 'handled';
  }

  /**
   * A segment may be uploaded by the partition's owner, or (so nothing waits for a partition to
   * come back) by another member once the group's committed offset has been past the segment
   * for two tiering intervals: the new owner, which resumed at that committed offset or later,
   * never writes those offsets again, and its segments that overlap this one (re-archived
   * after a crash before a commit) had two rounds to reach the bucket first.
   */
  private async mayUpload(e: CatalogEntry): Promise<boolean> {
    const own = this.deps.ownership;
    if (own === undefined || own.owns(e.topic, e.partition)) return true;
    const key = segmentKey(e);
    if (this.approved.delete(key)) return true;
    const committed = await own.committed(e.topic, e.partition).catch(() => null);
    if (committed === null || committed <= e.lastOffset) {
      this.committedSince.delete(key);
      return false;
    }
    const now = Date.now();
    const since = this.committedSince.get(key);
    if (since === undefined) {
      this.committedSince.set(key, now);
      return false;
    }
    if (now - since < 2 * this.deps.config.intervalMs) return false;
    this.committedSince.delete(key);
    return true;
  }

  /** The hot copy's records (all of them, in offset order). */
  private async hotRecords(e: CatalogEntry): Promise<KafkaRecord[]> {
    const seg = await openSegment(await localFileBuffer(join(this.deps.hotDir, segmentKey(e))));
    const records: KafkaRecord[] = [];
    for await (const rec of readSegmentRecords(seg)) records.push(rec);
    return records;
  }

  /**
   * True when every overlapping object holds, inside the overlap, exactly the hot copy's
   * records (offset, timestamp, key, value, headers). On a difference: TIER_CONFLICT, nothing
   * is dropped, uploaded or deleted.
   */
  private async sameAsObjects(
    e: CatalogEntry,
    objects: readonly SegmentObject[],
    r: TierRoundResult,
  ): Promise<boolean> {
    const { store, log } = this.deps;
    const key = segmentKey(e);
    const records = await this.hotRecords(e);
    for (const o of objects) {
      const from = o.firstOffset > e.firstOffset ? o.firstOffset : e.firstOffset;
      const to = o.lastOffset < e.lastOffset ? o.lastOffset : e.lastOffset;
      const remote: KafkaRecord[] = [];
      try {
        const seg = await openSegment(objectBuffer(store, o.key, o.size));
        for await (const rec of readSegmentRecords(seg, { fromOffset: from, toOffset: to })) {
          remote.push(rec);
        }
      } catch (err) {
        if (isStoreOutage(err)) throw err;
        r.conflicts.push(key);
        log.error(
          { code: 'TIER_CONFLICT', key, object: o.key, err: describeError(err) },
          'an object in the bucket overlapping the hot segment is not a readable segment; neither is touched, the hot copy is kept',
        );
        return false;
      }
      const hot = records.filter((x) => x.offset >= from && x.offset <= to);
      const diff = firstDifference(hot, remote);
      if (diff !== null) {
        r.conflicts.push(key);
        log.error(
          { code: 'TIER_CONFLICT', key, object: o.key, offset: diff.toString() },
          'the hot segment and an object in the bucket overlap but hold different records; neither is touched, the hot copy is kept',
        );
        return false;
      }
    }
    return true;
  }

  /** Catalogues the objects (cold, from their footers) unless the catalog knows them as cold. */
  private async catalogObjects(objects: readonly SegmentObject[]): Promise<void> {
    const { catalog, store } = this.deps;
    for (const o of objects) {
      if (catalog.get(o.topic, o.partition, o.firstOffset, o.lastOffset)?.cold === true) continue;
      const seg = await openSegment(objectBuffer(store, o.key, o.size));
      const known = catalog.get(o.topic, o.partition, o.firstOffset, o.lastOffset);
      await catalog.put(entryFromMeta(seg.meta, o.size, { hot: known?.hot ?? false, cold: true }));
      this.indexes?.changed(o.topic, o.partition);
    }
  }

  /**
   * The bucket holds every record of the hot segment (checked identical): the objects are
   * catalogued, then the segment's entry and hot file removed. Logged; nothing in the bucket is
   * touched.
   */
  private async dropDuplicate(
    e: CatalogEntry,
    objects: readonly SegmentObject[],
    trimmedTo: readonly string[] = [],
  ): Promise<void> {
    const { catalog, hotDir, log } = this.deps;
    const key = segmentKey(e);
    await this.catalogObjects(objects);
    const same = objects.find((o) => o.key === key);
    if (same === undefined) await catalog.remove(e);
    await catalog.flush(true);
    const path = join(hotDir, key);
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await fsyncDir(dirname(path));
    if (same !== undefined) {
      const known = catalog.get(e.topic, e.partition, e.firstOffset, e.lastOffset);
      if (known !== undefined) await catalog.put({ ...known, hot: false, cold: true });
    }
    log.info(
      {
        key,
        topic: e.topic,
        partition: e.partition,
        records: e.recordCount,
        coveredBy: objects.map((o) => o.key),
      },
      trimmedTo.length > 0
        ? 'hot segment replaced by its verified trimmed segments; original hot copy dropped, never uploaded'
        : 'hot segment already in the bucket (archived by another member after a crash or rebalance); records identical, hot copy dropped, not uploaded',
    );
  }

  /**
   * The bucket holds part of the hot segment: its other records are written as trimmed segments
   * (hot tier, catalogued), each tiered like any segment (list, put-if-absent, verify); only
   * when all are verified in the bucket is the original dropped.
   */
  private async replaceByTrimmed(
    e: CatalogEntry,
    objects: readonly SegmentObject[],
    keep: readonly { firstOffset: bigint; lastOffset: bigint }[],
    r: TierRoundResult,
  ): Promise<void> {
    const { catalog, hotDir, log } = this.deps;
    const records = await this.hotRecords(e);
    const pieces = trimPieces(records, e, keep);
    const written: CatalogEntry[] = [];
    for (const p of pieces) {
      const loc = { topic: e.topic, partition: e.partition, ...p };
      const path = join(hotDir, segmentKey(loc));
      await mkdir(dirname(path), { recursive: true });
      this.writer ??= new SegmentWriter(1);
      const res = await this.writer.write(
        path,
        p.records,
        {
          topic: topicOfStream(e.topic).topic,
          ...(topicOfStream(e.topic).generation > 1
            ? { generation: topicOfStream(e.topic).generation }
            : {}),
          partition: e.partition,
          firstOffset: p.firstOffset,
          lastOffset: p.lastOffset,
          minTimestamp: p.minTimestamp,
          maxTimestamp: p.maxTimestamp,
          recordCount: p.records.length,
          rangeStart: p.rangeStart,
          rangeEnd: p.rangeEnd,
        },
        this.deps.segmentOptions ?? DEFAULT_SEGMENT_OPTIONS,
      );
      const entry = entryFromMeta(res.meta, res.bytes, { hot: true, cold: false });
      await catalog.put(entry);
      this.approved.add(segmentKey(entry));
      written.push(entry);
    }
    await catalog.flush(true);
    log.info(
      {
        key: segmentKey(e),
        topic: e.topic,
        partition: e.partition,
        overlapping: objects.map((o) => o.key),
        trimmedTo: written.map((w) => segmentKey(w)),
      },
      'hot segment partly in the bucket already (archived by another member after a crash or rebalance): uploading only the records not there',
    );
    for (const w of written) await this.tierOne(w, r, false);
    const cold = written.every(
      (w) => catalog.get(w.topic, w.partition, w.firstOffset, w.lastOffset)?.cold === true,
    );
    if (!cold) return; // the original stays; the next round plans it again
    // No record outside the objects' spans (only offsets without records): a plain duplicate.
    if (written.length > 0) r.trimmed++;
    else r.duplicates++;
    const pieces2 = written.map((w) => ({ ...w, key: segmentKey(w), size: w.bytes }));
    await this.dropDuplicate(
      e,
      [...objects, ...pieces2],
      pieces2.map((p) => p.key),
    );
  }

  /**
   * After an upload, a fresh listing: an overlapping object that appeared meanwhile means
   * another member uploaded at the same moment (the residual window, README "Archive
   * format"). Reported (BUCKET_OVERLAP, with both keys); nothing is deleted.
   */
  private async checkAfterPut(e: CatalogEntry): Promise<void> {
    const { store, log } = this.deps;
    const key = segmentKey(e);
    const objects = await listPartitionObjects(store, e.topic, e.partition);
    const clash = objects.filter((o) => o.key !== key && overlaps(e, o));
    if (clash.length === 0) return;
    this.totals.overlaps++;
    log.error(
      {
        code: ErrorCodes.BUCKET_OVERLAP,
        key,
        overlapping: clash.map((o) => o.key),
        topic: e.topic,
        partition: e.partition,
      },
      'objects in the bucket overlap (two members uploaded at the same moment); kafka-archive readers merge them, query engines reading the bucket in place see the overlap twice',
    );
  }

  /**
   * Topic metadata (partitions, configs) uploaded beside the segments, once per run, for the
   * newest generation of a topic only: Kafka describes its current incarnation, which an older
   * generation's snapshot must not be overwritten with.
   */
  private async snapshotTopic(stream: string): Promise<void> {
    const describe = this.deps.describeTopic;
    if (describe === undefined || this.topicsSnapshotted.has(stream)) return;
    const { topic, generation } = topicOfStream(stream);
    const newer = this.deps.catalog.topics().some((t) => {
      const other = parseStream(t);
      return other !== null && other.topic === topic && other.generation > generation;
    });
    if (newer) return;
    try {
      const info = await describe(topic);
      const body = Buffer.from(
        JSON.stringify({ ...info, capturedAt: new Date().toISOString() }, null, 2),
      );
      await this.deps.store.put(topicMetaKey(stream), body);
      this.topicsSnapshotted.add(stream);
    } catch (err) {
      if (isStoreOutage(err)) throw err;
      this.deps.log.warn({ topic, err: describeError(err) }, 'topic metadata snapshot skipped');
    }
  }

  private async throttle(bytes: number): Promise<void> {
    const rate = this.deps.config.maxBytesPerSecond;
    if (rate <= 0) return;
    const now = Date.now();
    const start = Math.max(now, this.budgetAt);
    this.budgetAt = start + (bytes / rate) * 1000;
    if (start > now) await sleep(start - now, this.abort.signal).catch(() => undefined);
  }

  /** Catalogues objects uploaded before a crash or by another archiver (see adoptObjects). */
  adoptObjects(): Promise<number> {
    const { catalog, store, hotDir, log } = this.deps;
    return adoptObjects(catalog, store, hotDir, log, {
      onAdopted: (e) => this.indexes?.changed(e.topic, e.partition),
    });
  }

  /** Runs rounds every tiering.intervalMs; on an object-store outage backs off and retries. */
  start(): void {
    if (this.loop !== null) return;
    const { config, log } = this.deps;
    this.loop = (async () => {
      let adoptedAtStart = false;
      while (!this.abort.signal.aborted) {
        try {
          if (!adoptedAtStart) {
            await this.adoptObjects();
            adoptedAtStart = true;
          }
          const r = await this.runOnce();
          if (this.failures > 0) {
            log.info(
              { failedRounds: this.failures },
              'object store reachable again; tiering resumed',
            );
          }
          this.failures = 0;
          if (r.uploaded + r.adopted + r.evicted > 0) log.info({ ...r }, 'tiering round');
        } catch (err) {
          this.totals.failedRounds++;
          const fields = {
            code: isArchiveError(err) ? err.code : 'TIERING_FAILED',
            store: this.deps.store.description,
            err: describeError(err),
          };
          if (this.failures === 0) {
            log.error(
              fields,
              'tiering failed; segments stay on the hot tier, archiving continues; retrying with back-off',
            );
          } else log.debug({ ...fields, failures: this.failures }, 'tiering retry failed');
          this.failures++;
        }
        const wait =
          this.failures > 0
            ? backoffMs(this.failures - 1, config.retryInitialMs, config.retryMaxMs)
            : config.intervalMs;
        await sleep(wait, this.abort.signal).catch(() => undefined);
      }
    })();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.loop = null;
    // What changed since the last round's indexes, so a rebuild after this stop reads no footer.
    await this.hold(() => this.indexes?.writeDue(true) ?? Promise.resolve(0)).catch(
      (err: unknown) =>
        this.deps.log.warn({ err: describeError(err) }, 'segment indexes not written at stop'),
    );
    await this.writer?.close();
    this.writer = null;
  }
}
