import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4's request queue schedules its throttle check with `setTimeout(fn,
 * throttledUntil - Date.now())` even when it is not throttled (throttledUntil = -1), i.e. with
 * a negative delay of minus the current time. Node >= 24 prints a TimeoutNegativeWarning to
 * stderr for it (Node treats the delay as 1 ms, so behaviour is unchanged). This replaces the
 * method with the same logic and the delay clamped at 0.
 */
const require = createRequire(import.meta.url);
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

interface RequestQueueLike {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
}

let installed = false;

export function installTimerFix(): void {
  if (installed) return;
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
    prototype: RequestQueueLike & { scheduleCheckPendingRequests(): void };
  };
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueLike) {
    let scheduleAt = this.throttledUntil - Date.now();
    if (!this.throttleCheckTimeoutId) {
      if (this.pending.length > 0)
        scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
      this.throttleCheckTimeoutId = setTimeout(
        () => {
          this.throttleCheckTimeoutId = null;
          this.checkPendingRequests();
        },
        Math.max(0, scheduleAt),
      );
    }
  };
  installed = true;
}
