import type { Config } from '../config/index.js';
import {
  resolveVolumes,
  sampleVolume,
  type VolumeSample,
  type VolumeSpec,
  type WatermarkState,
  type DiskMonitorCounters,
} from '../disk/index.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/index.js';

/** The service's disk monitor: the watermark states it acts on (its last round). */
export interface VolumeSampleSource {
  readonly last: readonly VolumeSample[];
  readonly counters?: DiskMonitorCounters;
}

export interface VolumeSamplerOptions {
  config: Config;
  log: Logger;
  /**
   * When set, a volume's watermark state is the monitor's (the state the service acts on, with
   * its hysteresis) once the monitor has sampled that volume; sizes are always measured now.
   */
  monitor?: VolumeSampleSource | null;
  /** Samples this recent are reused (scrapes by several Prometheus servers). Default 5 s. */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * Volume samples for the disk gauges, measured on scrape. Measuring a volume walks its directory
 * (allocated vs apparent bytes), so concurrent scrapes share one round and a recent round is
 * reused. Never throws: an unreadable configuration or volume is logged (once per distinct
 * problem) and counted, and the volumes that could be measured are returned.
 */
export class VolumeSampler {
  private specs: VolumeSpec[] | null = null;
  private readonly states = new Map<string, WatermarkState>();
  private pending: Promise<VolumeSample[]> | null = null;
  private cached: { at: number; samples: VolumeSample[] } | null = null;
  /** Problems already logged; cleared once a round measures every volume. */
  private readonly logged = new Set<string>();
  /** Failed measurements (configuration or volume), for a counter. */
  failures = 0;

  constructor(private readonly options: VolumeSamplerOptions) {}

  samples(): Promise<readonly VolumeSample[]> {
    const now = (this.options.now ?? Date.now)();
    if (this.cached !== null && now - this.cached.at < (this.options.maxAgeMs ?? 5_000)) {
      return Promise.resolve(this.cached.samples);
    }
    this.pending ??= this.sampleNow(now).finally(() => (this.pending = null));
    return this.pending;
  }

  private async sampleNow(now: number): Promise<VolumeSample[]> {
    const out: VolumeSample[] = [];
    try {
      this.specs ??= await resolveVolumes(this.options.config);
    } catch (err) {
      this.problem('disk volumes cannot be resolved; no disk gauges', err);
      return out;
    }
    let ok = true;
    for (const spec of this.specs) {
      try {
        const s = await sampleVolume(spec, this.states.get(spec.name));
        this.states.set(spec.name, s.state);
        const acted = this.options.monitor?.last.find((m) => m.name === spec.name)?.state;
        out.push(acted === undefined ? s : { ...s, state: acted });
      } catch (err) {
        ok = false;
        this.problem(`volume ${spec.name} (${spec.path}) cannot be measured`, err);
      }
    }
    if (ok) this.logged.clear();
    this.cached = { at: now, samples: out };
    return out;
  }

  private problem(what: string, err: unknown): void {
    this.failures++;
    const text = `${what}: ${describeError(err)}`;
    if (this.logged.has(text)) return;
    this.logged.add(text);
    this.options.log.warn({ err: describeError(err) }, what);
  }
}
