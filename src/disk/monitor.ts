import { ArchiveError, codeOf, describeError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log/index.js';
import { rearmReserves, releaseReserve } from './reserve.js';
import {
  rearmOn,
  releaseOn,
  type ReserveControl,
  type VolumeRearm,
  type VolumeRelease,
} from './reserve-control.js';
import { sampleVolume, type VolumeSample, type VolumeSpec, type WatermarkState } from './volume.js';

/** What the monitor can ask of the rest of the service (the disk module depends on nothing). */
export interface PressureActions {
  /**
   * Free about `bytes` on the hot tier by tiering and evicting the oldest segments whose object
   * is verified. Never deletes anything that is not safely in the object store. Returns the
   * bytes actually freed.
   */
  relieveHot(bytes: number): Promise<number>;
  pauseIngest(reason: string): void;
  resumeIngest(): void;
}

export interface DiskMonitorDeps {
  volumes: VolumeSpec[];
  actions: PressureActions;
  log: Logger;
  intervalMs: number;
}

/** Bytes to free so that the volume is back under its low watermark (0 when it is). */
export function bytesAboveLow(s: VolumeSample): number {
  const fsExcess = ((s.filesystem.usedPercent - s.watermarks.low) / 100) * s.filesystem.sizeBytes;
  const budgetExcess = s.usage.allocatedBytes - (s.budgetBytes * s.watermarks.low) / 100;
  return Math.max(0, Math.ceil(fsExcess), Math.ceil(budgetExcess));
}

/**
 * Samples every volume on an interval and acts on its watermark state, with hysteresis
 * (classifyWatermark), in this order:
 *
 *   high or flood (hot tier)  tier + evict the oldest verified segments until below low
 *   entering flood            pause consumption (hot tier), release ONE reserve block, alert
 *   back below low            resume consumption, re-arm the reserves that fit
 *
 * One reserve is released per entry into flood, so the escape hatch works as many times as there
 * are blocks. Every action is logged once per transition, not on every sample.
 */
/** Counts of what a DiskMonitor did since it started. */
export interface DiskMonitorCounters {
  /** Completed rounds over every volume. */
  samples: number;
  /** Entries of a volume into the flood watermark. */
  floods: number;
  /** Reserve blocks released. */
  releases: number;
  /** Reserve blocks re-armed (allocated again). */
  rearms: number;
}

export class DiskMonitor implements ReserveControl {
  private readonly states = new Map<string, WatermarkState>();
  /** Volumes whose reserve was released by hand: not re-armed until rearm() (by hand). */
  private readonly releasedByHand = new Set<string>();
  /** Reserve file changes one at a time (a sample's re-arm never undoes a release by hand). */
  private reserveOps: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private relieving = false;
  private pausedBy: string | null = null;
  last: VolumeSample[] = [];
  /** What the monitor did since start (Prometheus counters). */
  readonly counters: DiskMonitorCounters = { samples: 0, floods: 0, releases: 0, rearms: 0 };

  constructor(private readonly deps: DiskMonitorDeps) {}

  start(): void {
    if (this.timer !== null) return;
    const run = () => {
      if (this.ticking !== null) return; // no overlapping samples
      this.ticking = this.tick()
        .then(() => undefined)
        .catch((err: unknown) =>
          this.deps.log.warn({ err: describeError(err) }, 'disk sample failed'),
        )
        .finally(() => (this.ticking = null));
    };
    run();
    this.timer = setInterval(run, this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
  }

  /**
   * Releases one reserve by hand (`reserve release` while the service runs). The monitor then
   * leaves that volume's reserves alone, however much space comes back, until rearm() is asked
   * for: a re-arm below low would otherwise take back at once the space the operator freed.
   * A flood still releases another block. Remembered until rearm() or the process restarts.
   */
  release(volume?: string): Promise<VolumeRelease> {
    return this.serial(async () => {
      const r = await releaseOn(this.deps.volumes, volume, this.deps.log);
      this.releasedByHand.add(r.volume);
      this.counters.releases++;
      this.deps.log.info(
        { volume: r.volume, n: r.n },
        'reserve released by hand: the disk monitor will not re-arm this volume until `reserve rearm`',
      );
      return r;
    });
  }

  /** Re-arms by hand (`reserve rearm`), and lets the monitor re-arm those volumes again. */
  rearm(volume?: string): Promise<VolumeRearm[]> {
    return this.serial(async () => {
      const r = await rearmOn(this.deps.volumes, volume, this.deps.log, (v) =>
        this.releasedByHand.delete(v.name),
      );
      for (const v of r) this.counters.rearms += v.armed.length;
      return r;
    });
  }

  /** Volumes released by hand and not re-armed since (the monitor leaves their reserves). */
  heldReleased(): string[] {
    return [...this.releasedByHand].sort();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.reserveOps.then(fn, fn);
    this.reserveOps = run.catch(() => undefined);
    return run;
  }

  /** One sample of every volume, with the actions it calls for. */
  async tick(): Promise<VolumeSample[]> {
    const samples: VolumeSample[] = [];
    for (const spec of this.deps.volumes) {
      const prev = this.states.get(spec.name);
      const s = await sampleVolume(spec, prev);
      this.states.set(spec.name, s.state);
      samples.push(s);
      await this.act(spec, s, prev);
    }
    this.last = samples;
    this.counters.samples++;
    return samples;
  }

  private async act(
    spec: VolumeSpec,
    s: VolumeSample,
    prev: WatermarkState | undefined,
  ): Promise<void> {
    const { log, actions } = this.deps;
    const fields = {
      volume: s.name,
      path: s.path,
      usedPercent: Math.round(s.usedPercent * 10) / 10,
      availableBytes: s.filesystem.availableBytes,
      state: s.state,
      previous: prev ?? null,
    };
    if (prev !== s.state && prev !== undefined) log.info(fields, 'disk watermark state changed');

    if (s.state === 'flood' && prev !== 'flood') {
      log.error(
        { ...fields, code: 'DISK_FLOOD' },
        s.kind === 'hot'
          ? 'hot tier reached the flood watermark: consumption paused, releasing one reserve block'
          : 'volume reached the flood watermark: releasing one reserve block',
      );
      this.counters.floods++;
      if (s.kind === 'hot') {
        this.pausedBy = spec.name;
        actions.pauseIngest(`volume ${spec.name} at flood watermark`);
      }
      await this.serial(() => releaseReserve(spec.reserve, log)).then(
        () => this.counters.releases++,
        (err: unknown) => {
          if (err instanceof ArchiveError && err.code === ErrorCodes.RESERVE_NONE_ARMED) {
            log.error(
              { ...fields, code: 'RESERVE_NONE_ARMED' },
              'no reserve block left to release',
            );
          } else
            log.error(
              { ...fields, code: codeOf(err), err: describeError(err) },
              'reserve release failed',
            );
        },
      );
    }

    if (s.kind === 'hot' && (s.state === 'high' || s.state === 'flood') && !this.relieving) {
      const want = bytesAboveLow(s);
      if (want > 0) {
        this.relieving = true;
        try {
          const freed = await actions.relieveHot(want);
          log.info(
            { ...fields, wantBytes: want, freedBytes: freed },
            'disk pressure: tiered and evicted the oldest verified segments',
          );
        } catch (err) {
          log.warn(
            { ...fields, err: describeError(err) },
            'disk pressure: could not tier segments now',
          );
        } finally {
          this.relieving = false;
        }
      }
    }

    if (s.state === 'ok') {
      if (this.pausedBy === spec.name) {
        this.pausedBy = null;
        actions.resumeIngest();
      }
      if (
        spec.reserve.count > 0 &&
        s.reserve.armed < spec.reserve.count &&
        !this.releasedByHand.has(spec.name)
      ) {
        const r = await this.serial(async () =>
          this.releasedByHand.has(spec.name)
            ? null
            : rearmReserves(spec.reserve, { minAvailableBytes: s.floodAvailableBytes }),
        );
        if (r === null) return;
        if (r.armed.length > 0) {
          this.counters.rearms += r.armed.length;
          log.info(
            {
              ...fields,
              armed: r.armed.map((a) => a.n),
              reserves: `${r.status.armed}/${spec.reserve.count}`,
            },
            'reserve blocks armed',
          );
        }
      }
    }
  }
}
