/**
 * What the Redis sink needs from a live target, as small interfaces: pipelined connections (one batch of
 * commands in, its replies out, in order) grouped per master node, and for a cluster a slot router.
 * open-target.ts builds these over src/redis/connection.ts and src/cluster; tests may build them over
 * anything that speaks the same interface (e.g. a fault-injecting server).
 */
import type { RespValue } from '@shake/resp';
import type { Argv } from '../../rewrite/key-rewriter.js';
import type { TargetProfile } from './strategy.js';

export interface TargetConnection {
  /** Writes the commands in one go; resolves with one reply per command (error replies as values). */
  sendBatch(argvs: readonly Argv[]): Promise<RespValue[]>;
  close(): Promise<void>;
}

export interface TargetNode {
  /** host:port */
  addr: string;
  /** Several connections to the same node; a key's commands always go through one of them. */
  conns: TargetConnection[];
}

export interface TargetRouting {
  /** The master serving this key's slot now. */
  nodeForKey(key: Buffer): TargetNode;
  /** The node at host:port (from a MOVED/ASK reply), connecting to it when new. */
  nodeAt(addr: string): Promise<TargetNode>;
  /** Re-read the slot map (after MOVED). */
  refresh(): Promise<void>;
  slotOf(key: Buffer): number;
}

export interface RedisTarget {
  profile: TargetProfile;
  /** Every master (one for standalone and proxy). */
  masters(): TargetNode[];
  /** Cluster targets only. */
  routing: TargetRouting | null;
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
