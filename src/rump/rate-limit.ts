/**
 * Keeps the reads on a source node under a rate: keys per second and, optionally, bytes per second.
 * A token bucket per unit with a burst of one second's worth. The reader charges what a page cost after
 * the fact (its DUMP bytes are only known once read) and then waits while the bucket is in debt, so the
 * average over any few seconds stays at the rate and the next page is only read once it is allowed.
 * A rate of 0 means unlimited.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RateLimits {
  /** Keys per second (0: unlimited). */
  keysPerSec: number;
  /** DUMP payload bytes per second (0: unlimited). */
  bytesPerSec: number;
}

export interface RateClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const realClock: RateClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }).catch(() => {}),
};

class Bucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    now: number,
  ) {
    this.tokens = rate;
    this.last = now;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
  }

  charge(n: number, now: number): void {
    this.refill(now);
    this.tokens -= n;
  }

  /** Milliseconds until the bucket is out of debt (0 when it is not in debt). */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.rate;
  }
}

export class RateLimiter {
  private readonly keys: Bucket | null;
  private readonly bytes: Bucket | null;
  /** Total time spent waiting (ms), for the summary. */
  waitedMs = 0;

  constructor(
    readonly limits: RateLimits,
    private readonly clock: RateClock = realClock,
  ) {
    const now = clock.now();
    this.keys = limits.keysPerSec > 0 ? new Bucket(limits.keysPerSec, now) : null;
    this.bytes = limits.bytesPerSec > 0 ? new Bucket(limits.bytesPerSec, now) : null;
  }

  get unlimited(): boolean {
    return this.keys === null && this.bytes === null;
  }

  /** Records what was just read. */
  charge(keys: number, bytes: number): void {
    const now = this.clock.now();
    this.keys?.charge(keys, now);
    this.bytes?.charge(bytes, now);
  }

  /** Resolves once reading more is allowed (at once when not in debt, or when `signal` aborts). */
  async wait(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) return;
      const now = this.clock.now();
      const ms = Math.max(this.keys?.waitMs(now) ?? 0, this.bytes?.waitMs(now) ?? 0);
      if (ms <= 0) return;
      await this.clock.sleep(ms, signal);
      this.waitedMs += ms;
    }
  }

  /**
   * Keys per page under a key rate: 5 ms worth of the rate (100 keys at 20000 keys/s), between 10 and
   * `max`, so the source never serves one big pipeline while its other clients wait (measured: p99 PING
   * latency halved against 1000-key pages, docs/rump.md). Unlimited: `max`.
   */
  pageSize(max: number): number {
    if (this.keys === null) return max;
    return Math.max(10, Math.min(max, Math.ceil(this.limits.keysPerSec / 200)));
  }
}
