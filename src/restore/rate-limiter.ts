/**
 * Paces work to at most `bytesPerSecond` and `recordsPerSecond` (0 = unlimited) on average,
 * shared by every partition of a job. Each acquire reserves the next free slot of the
 * timeline: the first call passes at once, later ones wait until the bytes and records before
 * them have "drained" at the configured rates. Waiting is the caller's turn only (sequential
 * reservations), so concurrent workers share the budget fairly in arrival order.
 */
export interface RateLimiterOptions {
  bytesPerSecond: number;
  recordsPerSecond: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const realSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export class RateLimiter {
  private nextFree = 0;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly o: RateLimiterOptions) {
    this.now = o.now ?? (() => performance.now());
    this.sleep = o.sleep ?? realSleep;
  }

  get limited(): boolean {
    return this.o.bytesPerSecond > 0 || this.o.recordsPerSecond > 0;
  }

  /** Milliseconds that `bytes` and `records` take at the configured rates. */
  cost(bytes: number, records: number): number {
    const b = this.o.bytesPerSecond > 0 ? (bytes / this.o.bytesPerSecond) * 1000 : 0;
    const r = this.o.recordsPerSecond > 0 ? (records / this.o.recordsPerSecond) * 1000 : 0;
    return Math.max(b, r);
  }

  /** Waits until `bytes` and `records` may be sent. */
  async acquire(bytes: number, records: number, signal?: AbortSignal): Promise<void> {
    if (!this.limited) return;
    const now = this.now();
    const start = Math.max(now, this.nextFree);
    this.nextFree = start + this.cost(bytes, records);
    if (start > now) await this.sleep(start - now, signal);
  }
}
