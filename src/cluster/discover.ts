/**
 * What is behind an address: a standalone server or a cluster node? INFO cluster says
 * (`cluster_enabled:1`); for a cluster, CLUSTER SLOTS gives the slot map and the masters.
 * Needs only INFO and CLUSTER SLOTS, both allowed on AWS ElastiCache.
 */
import { ClusterRouteError } from './errors.js';
import { SlotTable } from './slots.js';
import type { CommandCaller, NodeAddress, SlotNode } from './types.js';

export type Topology =
  { mode: 'standalone'; masters: SlotNode[] } | { mode: 'cluster'; masters: SlotNode[]; table: SlotTable };

function replyText(reply: unknown): string {
  if (typeof reply === 'string') return reply;
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (reply instanceof Error) throw reply;
  // RESP3 verbatim strings and similar wrappers stringify to their text.
  if (reply !== null && typeof reply === 'object' && 'toString' in reply) return String(reply);
  throw new ClusterRouteError('INFO: unexpected reply', -1);
}

export async function discoverTopology(conn: CommandCaller, address: NodeAddress): Promise<Topology> {
  const info = replyText(await conn.call(['INFO', 'cluster']));
  if (!/^cluster_enabled:1\s*$/m.test(info)) {
    return { mode: 'standalone', masters: [{ host: address.host, port: address.port }] };
  }
  const slots = await conn.call(['CLUSTER', 'SLOTS']);
  if (slots instanceof Error) throw slots;
  const table = SlotTable.fromClusterSlots(slots, address.host);
  return { mode: 'cluster', masters: table.masters(), table };
}
