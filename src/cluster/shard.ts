/**
 * `--shard INDEX/COUNT`: one process's share of a cluster source's masters, so that COUNT processes (or machines,
 * or the pods of a Kubernetes Indexed Job) together read every master exactly once. The masters are ordered by
 * node id (host:port where a server gives none) and dealt out in turn: master i goes to shard i mod COUNT. The
 * same cluster gives every process the same order, whichever node its address names; a standalone source is
 * shard 0's alone.
 */
import { addressKey, type SlotNode } from './types.js';

export interface ShardSpec {
  /** 0-based. */
  index: number;
  count: number;
}

/** "INDEX/COUNT" (0 <= INDEX < COUNT); throws a one-line message on anything else. */
export function parseShard(text: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) {
    throw new Error(`--shard ${text}: expected INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/3`);
  }
  return { index, count };
}

/** The masters of shard `spec` among `masters` (all of them without a spec). */
export function shardMasters<M extends SlotNode>(masters: readonly M[], spec: ShardSpec | undefined): M[] {
  if (!spec || spec.count === 1) return [...masters];
  const key = (m: M): string => m.id ?? addressKey(m);
  const ordered = [...masters].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return ordered.filter((_, i) => i % spec.count === spec.index);
}

/** --shard of a standalone source: one process reads it all, so only INDEX/1 makes sense. */
export function refuseShardOfStandalone(spec: ShardSpec | undefined): void {
  if (spec && spec.count > 1) {
    throw new Error(`--shard ${spec.index}/${spec.count}: the source is not a cluster (one process reads it all)`);
  }
}
