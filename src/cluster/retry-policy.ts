/**
 * How hard the router tries before giving up. MOVED/ASK hops are counted separately from "wait and retry"
 * replies (TRYAGAIN, CLUSTERDOWN, LOADING, READONLY, MASTERDOWN), which back off exponentially.
 */
export interface RetryPolicy {
  /** MOVED/ASK hops per command before giving up (more means the cluster disagrees with itself). */
  maxRedirects: number;
  /** TRYAGAIN / CLUSTERDOWN / LOADING / READONLY / MASTERDOWN retries per command. */
  maxRetries: number;
  /** Delay before retry number `retry` (0-based). */
  backoffMs(retry: number): number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRedirects: 16,
  maxRetries: 20,
  backoffMs: (retry) => Math.min(10 * 2 ** retry, 1000),
};
