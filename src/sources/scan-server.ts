/**
 * What the scan source needs to know about the server before it starts, from one INFO call:
 * version (-> RDB version, PEXPIRETIME availability), bits, used memory, cluster mode and the keyspace
 * (dbs with their key and expiry counts, for RESIZEDB and for choosing the dbs to scan).
 */
import type { RedisCaller } from '../redis/caller.js';
import { infoText, keyspaceOf, parseInfo, serverVersion } from '../redis/server-info.js';

export { parseInfo };

/** The part of the connection contract (src/redis/caller.ts) the scan source uses; replies may be Error values. */
export type ScanConnection = Pick<RedisCaller, 'call' | 'sendBatch'>;

export interface ServerFacts {
  /** redis_version (Valkey reports a compatible redis_version too). */
  redisVersion: string;
  valkeyVersion: string | null;
  /** RDB version this server writes (its DUMP payloads carry the same number). */
  rdbVersion: number;
  bits: number;
  usedMemory: number;
  cluster: boolean;
  /** PEXPIRETIME exists (7.0+): absolute expiries without clock skew. */
  hasPexpiretime: boolean;
  keyspace: Map<number, { keys: number; expires: number }>;
}

export async function readServerFacts(conn: ScanConnection): Promise<ServerFacts> {
  const reply = await conn.call(['INFO']);
  if (reply instanceof Error) throw new Error(`INFO failed: ${reply.message}`);
  const info = parseInfo(infoText(reply) ?? '');
  const { redisVersion, valkeyVersion, rdbVersion } = serverVersion(info);
  const keyspace = keyspaceOf(info);
  const [major = 0] = redisVersion.split('.').map(Number);
  return {
    redisVersion,
    valkeyVersion,
    // The DUMP payloads' own version wins anyway once the first key is read.
    rdbVersion,
    bits: Number(info.get('arch_bits') ?? 64),
    usedMemory: Number(info.get('used_memory') ?? 0),
    cluster: info.get('cluster_enabled') === '1',
    hasPexpiretime: major >= 7,
    keyspace,
  };
}
