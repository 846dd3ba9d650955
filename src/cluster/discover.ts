/**
 * What is behind an address: a standalone server or a cluster node? INFO cluster says
 * (`cluster_enabled:1`); for a cluster, CLUSTER SLOTS gives the slot map and the masters.
 * Needs only INFO and CLUSTER SLOTS, both allowed on AWS ElastiCache.
 */
import { infoText, parseInfo } from '../redis/server-info.js';
import { ClusterRouteError } from './errors.js';
import { SlotTable } from './slots.js';
import type { CommandCaller, NodeAddress, SlotNode } from './types.js';

export type Topology =
  { mode: 'standalone'; masters: SlotNode[] } | { mode: 'cluster'; masters: SlotNode[]; table: SlotTable };

export async function discoverTopology(conn: CommandCaller, address: NodeAddress): Promise<Topology> {
  const reply = await conn.call(['INFO', 'cluster']);
  if (reply instanceof Error) throw reply;
  const info = infoText(reply);
  if (info === null) throw new ClusterRouteError('INFO: unexpected reply', -1);
  if (parseInfo(info).get('cluster_enabled') !== '1') {
    return { mode: 'standalone', masters: [{ host: address.host, port: address.port }] };
  }
  const slots = await conn.call(['CLUSTER', 'SLOTS']);
  if (slots instanceof Error) throw slots;
  const table = SlotTable.fromClusterSlots(slots, address.host);
  return { mode: 'cluster', masters: table.masters(), table };
}
