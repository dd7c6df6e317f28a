import { isAbsolute, relative, resolve } from 'node:path';
import { formatBytes, type Config } from '../config/index.js';
import { ArchiveError, ErrorCodes } from '../errors.js';
import {
  measureFilesystem,
  measureUsage,
  type DirUsage,
  type FilesystemSample,
} from './fs-stats.js';
import { readServerProperties } from './kafka-logdir.js';
import {
  isReserveFileName,
  reserveStatus,
  type ReserveSpec,
  type ReserveStatus,
} from './reserve.js';

/**
 * Volumes and budgets. A volume is a directory whose filesystem we guard: the archiver's hot tier
 * (always, named "hot") and, on a broker host, each Kafka log.dir (named kafka-1, kafka-2, ... in
 * log.dirs order), plus any configured in disk.volumes.
 *
 * How full a volume is (usedPercent) is the worse of two measures:
 *   - the filesystem's df-style Use% (used / (used + available)): a disk filled by anyone is full;
 *   - the directory's allocated bytes (st_blocks, reserves excluded) against its budget.
 * Held reserve blocks count as used on the filesystem, so releasing one lowers usedPercent.
 */

export type WatermarkState = 'ok' | 'low' | 'high' | 'flood';

/** Percentages of the volume (0-100): low < high < flood. Anchor: Elasticsearch 85/90/95. */
export interface Watermarks {
  low: number;
  high: number;
  flood: number;
}

export const DEFAULT_WATERMARKS: Watermarks = { low: 85, high: 90, flood: 95 };

const RANK: Record<WatermarkState, number> = { ok: 0, low: 1, high: 2, flood: 3 };

/**
 * The watermark state of a sample, with hysteresis. Rising, a state is entered as soon as its
 * threshold is reached (a jump from ok straight to flood is one step). Falling, a state is kept
 * until the fraction drops below the threshold beneath its own: flood is left below `high` (to
 * high), high is left below `low` (to ok), low is left below `low` (to ok). So a volume hovering
 * around one threshold does not flap, and anything below `low` is ok. Without a previous state
 * the plain thresholds apply. A non-finite sample (unmeasurable) keeps the previous state.
 */
export function classifyWatermark(
  usedPercent: number,
  watermarks: Watermarks,
  previous?: WatermarkState,
): WatermarkState {
  if (!Number.isFinite(usedPercent)) return previous ?? 'ok';
  const { low, high, flood } = watermarks;
  const fresh: WatermarkState =
    usedPercent >= flood
      ? 'flood'
      : usedPercent >= high
        ? 'high'
        : usedPercent >= low
          ? 'low'
          : 'ok';
  if (previous === undefined || RANK[fresh] >= RANK[previous]) return fresh;
  if (usedPercent < low) return 'ok';
  if (previous === 'flood') return usedPercent >= high ? 'flood' : 'high';
  return previous; // high (or low, which cannot be reached here) holds until below `low`
}

export function validateWatermarks(w: Watermarks): string | null {
  const ok = (n: number) => Number.isFinite(n) && n > 0 && n <= 100;
  if (!ok(w.low) || !ok(w.high) || !ok(w.flood))
    return 'watermarks must be percentages in (0, 100]';
  if (!(w.low < w.high && w.high < w.flood))
    return `expected low < high < flood, got low ${w.low}, high ${w.high}, flood ${w.flood}`;
  return null;
}

export type Budget = { percent: number } | { bytes: number };

export function budgetBytes(budget: Budget, filesystemSizeBytes: number): number {
  return 'bytes' in budget
    ? budget.bytes
    : Math.floor((filesystemSizeBytes * budget.percent) / 100);
}

export function formatBudget(budget: Budget): string {
  return 'bytes' in budget ? formatBytes(budget.bytes) : `${budget.percent}%`;
}

export type VolumeKind = 'hot' | 'kafka-log-dir' | 'other';

export interface VolumeSpec {
  name: string;
  path: string;
  kind: VolumeKind;
  budget: Budget;
  watermarks: Watermarks;
  reserve: ReserveSpec;
}

export interface VolumeSample {
  name: string;
  kind: VolumeKind;
  path: string;
  exists: boolean;
  filesystem: FilesystemSample;
  /** Bytes under the volume path, reserve files excluded. */
  usage: DirUsage;
  budget: Budget;
  budgetBytes: number;
  budgetUsedPercent: number;
  /** max(filesystem Use%, budget used %): what the watermarks are compared with. */
  usedPercent: number;
  watermarks: Watermarks;
  state: WatermarkState;
  reserve: ReserveStatus;
  /**
   * Available bytes at the flood watermark: re-arming a reserve must leave at least this much
   * available, or the re-arm itself would push the volume into flood.
   */
  floodAvailableBytes: number;
}

/**
 * Available bytes at which the filesystem's Use% reaches `percent`. Use% = used / (used +
 * available) and used + available does not change when bytes move between them.
 */
export function availableAtPercent(fs: FilesystemSample, percent: number): number {
  const usable = fs.usedBytes + fs.availableBytes;
  return Math.ceil((usable * (100 - percent)) / 100);
}

/** Measure one volume now. `previous` is the last state, for hysteresis. */
export async function sampleVolume(
  spec: VolumeSpec,
  previous?: WatermarkState,
): Promise<VolumeSample> {
  const filesystem = await measureFilesystem(spec.path);
  const exists = filesystem.path === resolve(spec.path);
  const usage = await measureUsage(spec.path, { skip: isReserveFileName });
  const bBytes = budgetBytes(spec.budget, filesystem.sizeBytes);
  const budgetUsedPercent = bBytes > 0 ? (usage.allocatedBytes / bBytes) * 100 : 100;
  const usedPercent = Math.max(filesystem.usedPercent, budgetUsedPercent);
  return {
    name: spec.name,
    kind: spec.kind,
    path: resolve(spec.path),
    exists,
    filesystem,
    usage,
    budget: spec.budget,
    budgetBytes: bBytes,
    budgetUsedPercent,
    usedPercent,
    watermarks: spec.watermarks,
    state: classifyWatermark(usedPercent, spec.watermarks, previous),
    reserve: await reserveStatus(spec.reserve),
    floodAvailableBytes: availableAtPercent(filesystem, spec.watermarks.flood),
  };
}

export interface ResolveOptions {
  /** Extra Kafka log.dirs (e.g. from --server-properties) treated like disk.kafka.logDirs. */
  serverProperties?: string;
  logDirs?: string[];
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

function configError(key: string, message: string): ArchiveError {
  return new ArchiveError(ErrorCodes.CONFIG_INVALID, `config error: ${key}: ${message}`);
}

/**
 * The configured volumes: "hot" (archiver.hotDir), then kafka-1..n (disk.kafka.logDirs, the
 * log.dirs of disk.kafka.serverProperties, and those of options), then disk.volumes.
 */
export async function resolveVolumes(
  config: Config,
  options: ResolveOptions = {},
): Promise<VolumeSpec[]> {
  const disk = config.disk;
  const reserveDefaults = { count: disk.reserve.count, sizeBytes: disk.reserve.size };
  const hotPath = resolve(config.archiver.hotDir);
  const specs: VolumeSpec[] = [
    {
      name: 'hot',
      path: hotPath,
      kind: 'hot',
      budget: disk.hot.budget,
      watermarks: { ...disk.watermarks },
      reserve: { ...reserveDefaults, dir: resolve(disk.hot.reserveDir ?? hotPath) },
    },
  ];

  const kafkaDirs: string[] = [...disk.kafka.logDirs, ...(options.logDirs ?? [])];
  for (const file of [disk.kafka.serverProperties, options.serverProperties]) {
    if (file !== undefined) kafkaDirs.push(...(await readServerProperties(file)).logDirs);
  }
  const seen = new Set<string>();
  for (const dir of kafkaDirs.map((d) => resolve(d))) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    specs.push({
      name: `kafka-${seen.size}`,
      path: dir,
      kind: 'kafka-log-dir',
      budget: disk.kafka.budget,
      watermarks: { ...disk.watermarks },
      // Files at the root of a log.dir are ignored by Kafka; a directory there is not.
      reserve: { ...reserveDefaults, dir },
    });
  }

  disk.volumes.forEach((v, i) => {
    const key = `disk.volumes.${i}`;
    const watermarks = { ...disk.watermarks, ...v.watermarks };
    const problem = validateWatermarks(watermarks);
    if (problem !== null) throw configError(`${key}.watermarks`, problem);
    const path = resolve(v.path);
    const dir = resolve(v.reserve?.dir ?? path);
    if (v.kind === 'kafka-log-dir' && isInside(dir, path)) {
      throw configError(
        `${key}.reserve.dir`,
        `got ${JSON.stringify(v.reserve?.dir)}: a reserve directory inside a Kafka log.dir would be loaded by the broker as a partition and fail it; use the log.dir itself (the default) or a directory outside it`,
      );
    }
    specs.push({
      name: v.name,
      path,
      kind: v.kind,
      budget: v.budget,
      watermarks,
      reserve: {
        count: v.reserve?.count ?? reserveDefaults.count,
        sizeBytes: v.reserve?.size ?? reserveDefaults.sizeBytes,
        dir,
      },
    });
  });

  const names = new Set<string>();
  const paths = new Map<string, string>();
  for (const s of specs) {
    if (names.has(s.name))
      throw configError('disk.volumes', `volume name ${JSON.stringify(s.name)} is used twice`);
    names.add(s.name);
    const other = paths.get(s.path);
    if (other !== undefined)
      throw configError(
        'disk.volumes',
        `volumes ${other} and ${s.name} have the same path ${s.path}`,
      );
    paths.set(s.path, s.name);
  }
  return specs;
}

/** One volume by name, or a user-facing error listing the names there are. */
export function pickVolume(specs: VolumeSpec[], name: string): VolumeSpec {
  const spec = specs.find((s) => s.name === name);
  if (spec === undefined) {
    throw new ArchiveError(
      ErrorCodes.USAGE,
      `unknown volume ${JSON.stringify(name)}; configured volumes: ${specs.map((s) => s.name).join(', ')}`,
    );
  }
  return spec;
}
