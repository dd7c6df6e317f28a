import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Catalog, CatalogEntry } from '../catalog/index.js';
import { adoptObjects, forEachLimit, topicSpecMatcher } from '../catalog/index.js';
import type { TieringConfig } from '../config/index.js';
import { ArchiveError, describeError, ErrorCodes, isArchiveError } from '../errors.js';
import type { TopicInfo } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import {
  hashFile,
  hashObject,
  parseStream,
  segmentKey,
  topicMetaKey,
  topicOfStream,
} from '../archive/index.js';
import { isStoreOutage, type ObjectStore } from '../storage/index.js';
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
  seconds: number;
}

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
  /** Consecutive failed rounds (0 = healthy). */
  failures = 0;
  readonly totals = { uploaded: 0, adopted: 0, evicted: 0, bytes: 0, failedRounds: 0 };

  constructor(private readonly deps: TiererDeps) {}

  /** Segments due for tiering (upload) or eviction under the filter, oldest first. */
  due(filter: TierFilter = {}): CatalogEntry[] {
    const { catalog, config } = this.deps;
    const now = BigInt(filter.now ?? Date.now());
    const minAge = BigInt(filter.olderThanMs ?? config.minAgeMs);
    let topics = catalog.topics();
    if (filter.topic !== undefined) topics = topics.filter(topicSpecMatcher(filter.topic));
    const out: CatalogEntry[] = [];
    for (const topic of topics) {
      for (const p of catalog.partitions(topic)) {
        for (const e of catalog.segments(topic, p).all()) {
          if (!e.hot || now - e.maxTimestamp < minAge) continue;
          if (!e.cold || config.evictHot || filter.evict === true) out.push(e);
        }
      }
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
  async runOnce(filter: TierFilter = {}): Promise<TierRoundResult> {
    // One round at a time (the schedule and disk-pressure rounds share this tierer).
    const previous = this.round;
    let done!: () => void;
    this.round = new Promise<void>((resolve) => (done = resolve));
    await previous;
    try {
      return await this.runRound(filter);
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
    r.seconds = (performance.now() - t0) / 1000;
    this.totals.uploaded += r.uploaded;
    this.totals.adopted += r.adopted;
    this.totals.evicted += r.evicted;
    this.totals.bytes += r.bytes;
    if (outage !== null) throw outage;
    return r;
  }

  private async tierOne(e: CatalogEntry, r: TierRoundResult, forceEvict: boolean): Promise<void> {
    const { catalog, store, hotDir, config, log } = this.deps;
    const key = segmentKey(e);
    const path = join(hotDir, key);
    if (!e.cold) {
      const local = await hashFile(path);
      await this.throttle(local.size);
      let adopted = false;
      let verified = false;
      try {
        const put = await store.put(key, () => createReadStream(path, { highWaterMark: 1 << 20 }), {
          ifAbsent: true,
          contentLength: local.size,
          sha256: local.sha256,
          metadata: { 'file-sha256': local.sha256, 'content-sha256': e.sha256 },
        });
        // The server checked a digest of every part it stored, computed from the very bytes that
        // hashed to local.sha256: no read-back needed (stores that cannot say so are read back).
        verified = put.verified === true;
      } catch (err) {
        if (!isArchiveError(err) || err.code !== ErrorCodes.OBJECT_EXISTS) throw err;
        adopted = true; // uploaded before a crash, or by another member: verify, never overwrite
      }
      const head = await store.head(key);
      const remote =
        head === null || head.size !== local.size
          ? null
          : verified
            ? local.sha256
            : await hashObject(store, key, head.size);
      if (remote !== local.sha256) {
        if (adopted) {
          r.conflicts.push(key);
          log.error(
            { code: 'TIER_CONFLICT', key, localSize: local.size, objectSize: head?.size ?? null },
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
      await catalog.put({ ...e, cold: true, bytes: local.size });
      await catalog.flush(true);
      if (adopted) r.adopted++;
      else r.uploaded++;
      r.bytes += local.size;
      log.info(
        { key, bytes: local.size, adopted, topic: e.topic, partition: e.partition },
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

  /**
   * Topic metadata (partitions, configs) uploaded beside the segments, once per run, for the
   * newest generation of a topic only: Kafka describes its current incarnation, which an older
   * generation's snapshot must not be overwritten with.
   */
  private async snapshotTopic(stream: string): Promise<void> {
    const describe = this.deps.describeTopic;
    if (describe === undefined || this.topicsSnapshotted.has(stream)) return;
    const { topic, generation } = topicOfStream(stream);
    const newer = this.deps.catalog
      .topics()
      .some(
        (t) =>
          t !== stream &&
          parseStream(t)?.topic === topic &&
          (parseStream(t)?.generation ?? 0) > generation,
      );
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
    return adoptObjects(catalog, store, hotDir, log);
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
  }
}
