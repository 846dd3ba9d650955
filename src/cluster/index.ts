export { crc16 } from './crc16.js';
export { keySlot, CLUSTER_SLOTS } from './key-slot.js';
export { parseRedirect, type Redirect, type RedirectKind } from './redirect.js';
export { SlotTable, type Shard, type SlotRange } from './slots.js';
export { ClusterRouter, decideStandalone, type RouterOptions, type RouteDecision, type RouteState } from './router.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';
export { discoverTopology, type Topology } from './discover.js';
export { ClusterRouteError } from './errors.js';
export { addressKey, type NodeAddress, type SlotNode, type CommandCaller, type ConnectNode } from './types.js';
