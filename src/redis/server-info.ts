/**
 * The one server probe: INFO text as fields, and what shake concludes from them about a server (its Redis and
 * Valkey versions and the RDB version it writes and loads). Sources and targets read servers the same way.
 */
import { rdbVersionForRedis, rdbVersionForValkey } from '@shake/rdb';

/** The text of an INFO reply (a bulk string, or a RESP3 verbatim string); null for anything else. */
export function infoText(reply: unknown): string | null {
  if (typeof reply === 'string') return reply;
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (reply instanceof Error || reply === null || typeof reply !== 'object') return null;
  // RESP3 verbatim strings and similar wrappers stringify to their text.
  return 'toString' in reply ? String(reply) : null;
}

/** INFO's `field:value` lines (section headers and blank lines skipped). */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return out;
}

export interface ServerVersion {
  /** redis_version (Valkey reports a compatible redis_version too). */
  redisVersion: string;
  valkeyVersion: string | null;
  /** The RDB version the server writes, and so the newest DUMP payload version it loads. */
  rdbVersion: number;
}

/**
 * Versions from INFO fields. A server whose version maps to no RDB version (older than 2.6, or no version
 * field at all) is taken for RDB 6, the oldest format shake writes, which every later server loads.
 */
export function serverVersion(info: ReadonlyMap<string, string>, fallbackRedisVersion = '0.0.0'): ServerVersion {
  const redisVersion = info.get('redis_version') ?? fallbackRedisVersion;
  const valkeyVersion = info.get('valkey_version') ?? null;
  const known = valkeyVersion !== null ? rdbVersionForValkey(valkeyVersion) : rdbVersionForRedis(redisVersion);
  return { redisVersion, valkeyVersion, rdbVersion: known ?? 6 };
}

/** INFO keyspace's `db<N>:keys=K,expires=E,...` lines: keys and expires per db. */
export function keyspaceOf(info: ReadonlyMap<string, string>): Map<number, { keys: number; expires: number }> {
  const keyspace = new Map<number, { keys: number; expires: number }>();
  for (const [k, v] of info) {
    const m = /^db(\d+)$/.exec(k);
    if (!m) continue;
    const keys = /(?:^|,)keys=(\d+)/.exec(v);
    const expires = /(?:^|,)expires=(\d+)/.exec(v);
    keyspace.set(Number(m[1]), { keys: Number(keys?.[1] ?? 0), expires: Number(expires?.[1] ?? 0) });
  }
  return keyspace;
}
