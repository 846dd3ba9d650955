/**
 * What the Redis sink needs from a live target, as small interfaces: pipelined connections (one batch of
 * commands in, its replies out, in order) grouped per master node, and for a cluster a slot router.
 * open-target.ts builds these over src/redis/connection.ts and src/cluster; tests may build them over
 * anything that speaks the same interface (e.g. a fault-injecting server).
 */
import type { RespServerError } from '@shake/resp';
import type { RouteState } from '../../cluster/index.js';
import type { RedisCaller } from '../../redis/caller.js';
import type { ConnectionOptions } from '../../redis/options.js';
import { infoText, keyspaceOf, parseInfo } from '../../redis/server-info.js';
import type { TargetProfile } from './strategy.js';

/** A pipelined target connection: the batch half of the connection contract (src/redis/caller.ts). */
export type TargetConnection = Pick<RedisCaller, 'sendBatch' | 'close'>;

export interface TargetNode {
  /** host:port */
  addr: string;
  /** Several connections to the same node; a key's commands always go through one of them. */
  conns: TargetConnection[];
}

/** What to do after an error reply: the cluster router's decision (src/cluster/router.ts), with sink nodes. */
export type WriteDecision =
  | { action: 'done' }
  /** Send again: to `node` (MOVED/ASK), else to the key's owner once `delayMs` passed (and the map was re-read). */
  | { action: 'retry'; node: TargetNode | null; asking: boolean; delayMs: number; refresh: boolean }
  | { action: 'fail'; message: string };

export interface TargetRouting {
  /** The master serving this key's slot now. */
  nodeForKey(key: Buffer): TargetNode;
  /**
   * The router's decision for an error reply `from` sent for a command on `slot`: MOVED (that slot is updated),
   * ASK, the wait-and-retry replies with backoff, or give up; `done` when the reply is not about routing.
   */
  decide(slot: number, reply: RespServerError, from: TargetNode, state: RouteState): WriteDecision;
  /** Re-read the slot map (CLUSTERDOWN, READONLY). */
  refresh(): Promise<void>;
  slotOf(key: Buffer): number;
}

export interface RedisTarget {
  profile: TargetProfile;
  /** Every master (one for standalone and proxy). */
  masters(): TargetNode[];
  /** Cluster targets only. */
  routing: TargetRouting | null;
  /** The target's clock minus ours (ms), for TTLs it takes relative to its own clock (src/redis/clock.ts). */
  clockOffsetMs?: number;
  /** A standalone target's address and credentials, for a connection of another kind (restore --load replication). */
  connection?: ConnectionOptions;
  close(): Promise<void>;
}

/** For a standalone or proxy target: every key to its only node. */
export function singleNodeTarget(profile: TargetProfile, node: TargetNode): RedisTarget {
  return {
    profile,
    masters: () => [node],
    routing: null,
    close: async () => {
      await Promise.all(node.conns.map((c) => c.close().catch(() => {})));
    },
  };
}

/**
 * Keys per db, summed over every master (INFO keyspace), read before a run writes: what was there at the start.
 * null when the target does not say (a proxy answers no INFO).
 */
export async function targetKeyspace(target: RedisTarget): Promise<Map<number, number> | null> {
  if (target.profile.kind === 'proxy') return null;
  const out = new Map<number, number>();
  for (const node of target.masters()) {
    const conn = node.conns[0];
    if (!conn) return null;
    const [reply] = await conn.sendBatch([['INFO', 'keyspace']]);
    const text = infoText(reply);
    if (text === null) return null;
    for (const [db, k] of keyspaceOf(parseInfo(text))) out.set(db, (out.get(db) ?? 0) + k.keys);
  }
  return out;
}
