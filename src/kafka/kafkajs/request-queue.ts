import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The kafkajs 2.2.4 RequestQueue fields the timer below reads and writes. */
interface RequestQueueInstance {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}
interface RequestQueueClass {
  prototype: RequestQueueInstance & {
    scheduleCheckPendingRequests(this: RequestQueueInstance): void;
    __clampedTimer?: true;
  };
}

/** kafkajs' own interval for re-checking pending requests (requestQueue/index.js). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

/**
 * kafkajs 2.2.4 arms its throttle timer with `throttledUntil - Date.now()` even when nothing is
 * throttled (throttledUntil is -1): a negative delay, which Node treated as 1 ms silently and
 * Node 24 reports as a TimeoutNegativeWarning on stderr on every request. Same behaviour, with
 * the delay never below 1 ms. kafkajs is pinned (ordered-headers.ts checks the version).
 */
export function clampRequestQueueTimer(): void {
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as RequestQueueClass;
  const proto = RequestQueue.prototype;
  if (proto.__clampedTimer === true) return;
  proto.scheduleCheckPendingRequests = function (this: RequestQueueInstance): void {
    let scheduleAt = this.throttledUntil - Date.now();
    if (this.throttleCheckTimeoutId) return;
    if (this.pending.length > 0) {
      scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
    }
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      Math.max(1, scheduleAt),
    );
  };
  proto.__clampedTimer = true;
}
