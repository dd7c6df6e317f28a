import { ArchiveError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log/index.js';
import { measureFilesystem } from './fs-stats.js';
import { rearmReserves, releaseReserve, type RearmResult, type ReleaseResult } from './reserve.js';
import { availableAtPercent, pickVolume, type VolumeSpec } from './volume.js';

/** One reserve released on a volume (`reserve release`, POST /api/reserve/release). */
export interface VolumeRelease extends ReleaseResult {
  volume: string;
  /** Reserves configured on the volume (disk.reserve.count or its volume's). */
  count: number;
}

/** Reserves re-armed on a volume (`reserve rearm`, POST /api/reserve/rearm). */
export interface VolumeRearm extends RearmResult {
  volume: string;
  /** Available bytes that stay after arming: the flood watermark's. */
  minAvailableBytes: number;
}

/** Releasing and re-arming reserves by hand: the disk monitor when it runs, else the files. */
export interface ReserveControl {
  /** One reserve of the volume (or of the only volume that has reserves). */
  release(volume?: string): Promise<VolumeRelease>;
  /** Every missing reserve that fits, of the volume or of every volume with reserves. */
  rearm(volume?: string): Promise<VolumeRearm[]>;
}

/** The volume a release without --volume means: the only one with reserves configured. */
export function releaseVolume(specs: readonly VolumeSpec[], name?: string): VolumeSpec {
  if (name !== undefined) return pickVolume([...specs], name);
  const withReserves = specs.filter((s) => s.reserve.count > 0);
  if (withReserves.length > 1) {
    throw new ArchiveError(
      ErrorCodes.USAGE,
      `several volumes have reserves (${withReserves.map((s) => s.name).join(', ')}): choose one with --volume NAME`,
    );
  }
  const spec = withReserves[0];
  if (spec === undefined) {
    throw new ArchiveError(
      ErrorCodes.RESERVE_NONE_ARMED,
      'no volume has reserves configured (disk.reserve.count is 0)',
    );
  }
  return spec;
}

export async function releaseOn(
  specs: readonly VolumeSpec[],
  name: string | undefined,
  log: Logger,
): Promise<VolumeRelease> {
  const spec = releaseVolume(specs, name);
  return {
    volume: spec.name,
    count: spec.reserve.count,
    ...(await releaseReserve(spec.reserve, log)),
  };
}

/** Re-arms the reserves of each chosen volume that fit above its flood watermark. */
export async function rearmOn(
  specs: readonly VolumeSpec[],
  name: string | undefined,
  log: Logger,
  each: (spec: VolumeSpec) => void = () => undefined,
): Promise<VolumeRearm[]> {
  const chosen = name !== undefined ? [pickVolume([...specs], name)] : specs;
  const results: VolumeRearm[] = [];
  for (const v of chosen) {
    if (v.reserve.count === 0) continue;
    each(v);
    const fs = await measureFilesystem(v.reserve.dir);
    const minAvailableBytes = availableAtPercent(fs, v.watermarks.flood);
    const r = await rearmReserves(v.reserve, { minAvailableBytes, log });
    results.push({ volume: v.name, minAvailableBytes, ...r });
  }
  return results;
}

/** ReserveControl on the files alone (no disk monitor runs: nothing re-arms behind it). */
export class LocalReserves implements ReserveControl {
  constructor(
    private readonly specs: readonly VolumeSpec[],
    private readonly log: Logger,
  ) {}

  release(volume?: string): Promise<VolumeRelease> {
    return releaseOn(this.specs, volume, this.log);
  }

  rearm(volume?: string): Promise<VolumeRearm[]> {
    return rearmOn(this.specs, volume, this.log);
  }
}
