/**
 * Running one task per source master in parallel (dump, sync: a cluster source has several): the first
 * failure aborts the others (they see `signal`) and is thrown with the master's host:port in front; the
 * caller's own signal aborts them all.
 */
import type { NodeAddress } from '../cluster/index.js';

export async function perMaster<M extends NodeAddress, R>(
  masters: readonly M[],
  outer: AbortSignal | undefined,
  run: (master: M, signal: AbortSignal) => Promise<R>,
  /** Put host:port in front of a failure's message (default: when there are several masters). */
  named = masters.length > 1,
): Promise<R[]> {
  const inner = new AbortController();
  const onOuter = (): void => inner.abort();
  outer?.addEventListener('abort', onOuter, { once: true });
  try {
    return await Promise.all(
      masters.map((m) =>
        run(m, inner.signal).catch((err: unknown) => {
          inner.abort();
          const e = err as Error;
          const addr = `${m.host}:${m.port}`;
          if (named && !e.message.includes(addr)) e.message = `${addr}: ${e.message}`;
          throw e;
        }),
      ),
    );
  } finally {
    outer?.removeEventListener('abort', onOuter);
  }
}
