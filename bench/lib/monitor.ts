/**
 * Event-loop and memory sampling for the benchmarks.
 *
 * Event-loop block: a setInterval(…, 10 ms) drift sampler records the longest gap between two
 * ticks minus the 10 ms period (a synchronous stretch of work of N ms shows up as a drift of
 * about N ms); perf_hooks.monitorEventLoopDelay (10 ms resolution) is reported beside it.
 * Memory: RSS is sampled on each tick, and process.resourceUsage().maxRSS (the kernel's
 * high-water mark) catches peaks that fall inside a blocked stretch, when no tick can run.
 */
import { monitorEventLoopDelay, performance, type ELDHistogram } from 'node:perf_hooks';

export interface LoopStats {
  /** Longest observed event-loop block (drift sampler), ms. */
  maxBlockMs: number;
  /** When that block ended, ms after start(). */
  maxBlockAtMs: number;
  /** monitorEventLoopDelay max and p99, ms. */
  histMaxMs: number;
  histP99Ms: number;
  /** Ticks of the sampler that were late by more than 100 ms. */
  blocksOver100ms: number;
  /** The first 100 of those: when each ended (ms after start()) and how long it was. */
  blocks: Array<{ atMs: number; ms: number }>;
  /** Peak RSS during the sampled period minus RSS at start, bytes. */
  peakRssDeltaBytes: number;
  rssStartBytes: number;
  peakRssBytes: number;
}

export class LoopMonitor {
  private hist: ELDHistogram | null = null;
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private maxDrift = 0;
  private maxAt = 0;
  private t0 = 0;
  private over100 = 0;
  private blocks: Array<{ atMs: number; ms: number }> = [];
  private rssStart = 0;
  private rssPeak = 0;
  private maxRssStartKb = 0;

  constructor(private readonly periodMs = 10) {}

  start(): void {
    this.rssStart = process.memoryUsage.rss();
    this.rssPeak = this.rssStart;
    this.maxRssStartKb = process.resourceUsage().maxRSS;
    this.hist = monitorEventLoopDelay({ resolution: 10 });
    this.hist.enable();
    this.last = performance.now();
    this.t0 = this.last;
    this.timer = setInterval(() => {
      const now = performance.now();
      const drift = now - this.last - this.periodMs;
      if (drift > this.maxDrift) {
        this.maxDrift = drift;
        this.maxAt = now - this.t0;
      }
      if (drift > 100) {
        this.over100++;
        if (this.blocks.length < 100) {
          this.blocks.push({ atMs: Math.round(now - this.t0), ms: Math.round(drift) });
        }
      }
      this.last = now;
      const rss = process.memoryUsage.rss();
      if (rss > this.rssPeak) this.rssPeak = rss;
    }, this.periodMs);
  }

  stop(): LoopStats {
    // One more look at the drift: a block that ended the measured period is still counted.
    const now = performance.now();
    const drift = now - this.last - this.periodMs;
    if (drift > this.maxDrift) {
      this.maxDrift = drift;
      this.maxAt = now - this.t0;
    }
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const h = this.hist;
    h?.disable();
    const maxRssKb = process.resourceUsage().maxRSS;
    // maxRSS is monotonic over the process life: it only says something about this period if it
    // rose during it.
    const kernelPeak = maxRssKb > this.maxRssStartKb ? maxRssKb * 1024 : 0;
    const peak = Math.max(this.rssPeak, kernelPeak, process.memoryUsage.rss());
    return {
      maxBlockMs: Math.max(0, this.maxDrift),
      maxBlockAtMs: this.maxAt,
      histMaxMs: h ? h.max / 1e6 : 0,
      histP99Ms: h ? h.percentile(99) / 1e6 : 0,
      blocksOver100ms: this.over100,
      blocks: this.blocks,
      peakRssDeltaBytes: peak - this.rssStart,
      rssStartBytes: this.rssStart,
      peakRssBytes: peak,
    };
  }
}
