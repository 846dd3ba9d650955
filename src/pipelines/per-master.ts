/**
 * What the subcommands that read a live source master by master (dump, sync) share: finding the masters
 * (the server itself, or every master of its cluster) and running one task per master in parallel, where the
 * first failure aborts the others (they see `signal`) and is thrown with the master's host:port in front; the
 * caller's own signal aborts them all.
 */
import { discoverTopology, type NodeAddress, type Topology } from '../cluster/index.js';
import { connect, type ConnectionOptions } from '../redis/index.js';

/** What is behind the source address (standalone, or a cluster with its slot map); errors name the address. */
export async function sourceTopology(
  c: ConnectionOptions,
  makeError: (message: string) => Error = (m) => new Error(m),
): Promise<Topology> {
  const conn = await connect({ ...c, db: undefined });
  try {
    return await discoverTopology(conn, { host: c.host, port: c.port }).catch((err: Error) => {
      // A refusal already names the server and says how to give the password (redis/errors.ts).
      throw makeError(err.message.includes(conn.address) ? err.message : `${conn.address}: ${err.message}`);
    });
  } finally {
    await conn.close().catch(() => {});
  }
}

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
