/**
 * Which servers rump reads: the one server behind a standalone address, or every master of a cluster
 * (CLUSTER SLOTS, allowed on AWS ElastiCache), or with `preferReplica` a replica of each shard (READONLY
 * is sent on every connection to a replica so DUMP answers instead of redirecting). Connections go through
 * a factory so tests and library users can read from anything that answers the same commands.
 */
import {
  discoverTopology,
  keySlot,
  CLUSTER_SLOTS,
  addressKey,
  refuseShardOfStandalone,
  shardMasters,
  type NodeAddress,
  type ShardSpec,
} from '../cluster/index.js';
import { connect, type ConnectionOptions } from '../redis/index.js';
import type { RedisCaller } from '../redis/caller.js';
import { readServerFacts, type ServerFacts } from '../sources/scan-server.js';

/** A source node's connection: the whole connection contract (src/redis/caller.ts). */
export type SourceConnection = RedisCaller;

export type ConnectSource = (opts: ConnectionOptions) => Promise<SourceConnection>;

export const connectSource: ConnectSource = (opts) => connect(opts);

export interface SourceNode {
  /** host:port */
  addr: string;
  connection: ConnectionOptions;
  role: 'master' | 'replica';
  /** The master of this node's shard (itself for a master): where probe writes go. */
  master: ConnectionOptions;
  /** Inclusive slot ranges (cluster only; empty for a standalone server). */
  slots: [number, number][];
  cluster: boolean;
}

export interface DiscoverOptions {
  connection: ConnectionOptions;
  preferReplica?: boolean;
  connectSource?: ConnectSource;
  onNotice?: (message: string) => void;
  /** --shard: only this share of a cluster's masters (cluster/shard.ts). */
  shard?: ShardSpec;
}

function at(base: ConnectionOptions, a: NodeAddress): ConnectionOptions {
  return { ...base, host: a.host, port: a.port, db: undefined };
}

export interface SourceTopology {
  nodes: SourceNode[];
  /** INFO of the node the address points at (version, keyspace). */
  facts: ServerFacts;
}

export async function discoverSourceNodes(opts: DiscoverOptions): Promise<SourceTopology> {
  const base: ConnectionOptions = { ...opts.connection, db: undefined };
  const conn = await (opts.connectSource ?? connectSource)(base);
  try {
    const facts = await readServerFacts(conn);
    const topo = await discoverTopology(conn, { host: base.host, port: base.port });
    if (topo.mode === 'standalone') {
      refuseShardOfStandalone(opts.shard);
      if (opts.preferReplica) opts.onNotice?.('--prefer-replica: the source is not a cluster; reading it directly');
      const node: SourceNode = {
        addr: addressKey(base),
        connection: base,
        role: 'master',
        master: base,
        slots: [],
        cluster: false,
      };
      return { nodes: [node], facts };
    }
    const byShard = new Map<string, SourceNode>();
    const mine = new Set(shardMasters(topo.table.masters(), opts.shard).map(addressKey));
    for (const r of topo.table.ranges()) {
      const masterKey = addressKey(r.master);
      if (!mine.has(masterKey)) continue;
      let node = byShard.get(masterKey);
      if (!node) {
        const replica = opts.preferReplica ? r.replicas[0] : undefined;
        if (opts.preferReplica && !replica) {
          opts.onNotice?.(`--prefer-replica: ${masterKey} has no replica; reading the master`);
        }
        const read = replica ?? r.master;
        node = {
          addr: addressKey(read),
          connection: at(base, read),
          role: replica ? 'replica' : 'master',
          master: at(base, r.master),
          slots: [],
          cluster: true,
        };
        byShard.set(masterKey, node);
      }
      node.slots.push([r.start, r.end]);
    }
    return { nodes: [...byShard.values()], facts };
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Opens a reading connection to a node (READONLY on a cluster replica). */
export async function openNode(node: SourceNode, factory: ConnectSource = connectSource): Promise<SourceConnection> {
  const conn = await factory(node.connection);
  if (node.role === 'replica') {
    const reply = await conn.call(['READONLY']);
    if (reply instanceof Error) {
      await conn.close().catch(() => {});
      throw new Error(`READONLY on replica ${node.addr} failed: ${reply.message}`);
    }
  }
  return conn;
}

/** Key -> index of the node that serves its slot (a single node: always 0). */
export function slotRouter(nodes: SourceNode[]): (key: Buffer) => number {
  if (nodes.length === 1 && !nodes[0]?.cluster) return () => 0;
  const owner = new Int16Array(CLUSTER_SLOTS).fill(-1);
  nodes.forEach((n, i) => {
    for (const [start, end] of n.slots) owner.fill(i, start, end + 1);
  });
  return (key) => owner[keySlot(key)] ?? -1;
}

/** A key name whose slot this node serves (for probe writes): `<prefix>{<tag>}`. */
export function keyOnNode(node: SourceNode, prefix: string): string {
  if (!node.cluster) return `${prefix}{0}`;
  for (let tag = 0; tag < 1_000_000; tag++) {
    const slot = keySlot(`{${tag}}`);
    if (node.slots.some(([s, e]) => slot >= s && slot <= e)) return `${prefix}{${tag}}`;
  }
  throw new Error(`no key name found for the slots of ${node.addr}`);
}
