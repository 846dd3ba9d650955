/**
 * Classify a cluster error reply, in ONE place. Formats as Redis writes them (cluster.c,
 * clusterRedirectClient; server.c for LOADING / READONLY / MASTERDOWN):
 *   MOVED <slot> <endpoint>:<port>     the slot now lives there (update the slot table)
 *   ASK <slot> <endpoint>:<port>       this one request goes there, preceded by ASKING
 *   TRYAGAIN ...                       multi-key request during resharding: retry later
 *   CLUSTERDOWN ...                    cluster down / hash slot not served: refresh, retry later
 *   LOADING ...                        node is loading its dataset: retry later
 *   READONLY ... / MASTERDOWN ...      we hit a replica (failover happened): refresh, retry
 * The endpoint is an IP, a hostname, "?" (unknown endpoint) or empty; the last two mean "the host you
 * are talking to" and come back as host ''. IPv6 endpoints are split at the LAST colon.
 */

export type Redirect =
  | { kind: 'moved' | 'ask'; slot: number; host: string; port: number }
  | { kind: 'tryagain' | 'clusterdown' | 'loading' | 'readonly' | 'masterdown'; message: string };

export type RedirectKind = Redirect['kind'];
type WaitKind = Exclude<RedirectKind, 'moved' | 'ask'>;

const SIMPLE = new Map<string, WaitKind>([
  ['TRYAGAIN', 'tryagain'],
  ['CLUSTERDOWN', 'clusterdown'],
  ['LOADING', 'loading'],
  ['READONLY', 'readonly'],
  ['MASTERDOWN', 'masterdown'],
]);

function messageOf(err: unknown): string | undefined {
  if (typeof err === 'string') return err;
  if (Buffer.isBuffer(err)) return err.toString('latin1');
  if (err instanceof Error) return err.message;
  return undefined;
}

/** The redirect an error reply (Error, string or Buffer; with or without the leading '-') asks for, if any. */
export function parseRedirect(err: unknown): Redirect | undefined {
  let msg = messageOf(err);
  if (msg === undefined) return undefined;
  if (msg.startsWith('-')) msg = msg.slice(1);
  const sp = msg.indexOf(' ');
  const code = sp === -1 ? msg : msg.slice(0, sp);
  const simple = SIMPLE.get(code);
  if (simple) return { kind: simple, message: msg };
  if (code !== 'MOVED' && code !== 'ASK') return undefined;
  const m = /^(?:MOVED|ASK) (\d+) (\S*):(\d+)\s*$/.exec(msg);
  if (!m) return undefined;
  const slot = Number(m[1]);
  const port = Number(m[3]);
  if (slot > 16383 || port > 65535) return undefined;
  let host = m[2] ?? '';
  if (host === '?') host = '';
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { kind: code === 'MOVED' ? 'moved' : 'ask', slot, host, port };
}
