/**
 * What src/cluster needs from the outside world, kept small so it works with any connection class
 * (shake's own, ioredis in tests): something that sends one command and yields its reply.
 */

import type { RedisCaller } from '../redis/caller.js';
import { addressOf } from '../redis/socket.js';

export interface NodeAddress {
  host: string;
  port: number;
}

/** A cluster node as CLUSTER SLOTS names it. */
export interface SlotNode extends NodeAddress {
  /** Node id (Redis 4.0+ includes it in CLUSTER SLOTS). */
  id?: string;
}

/**
 * One connection to one node, as the router uses it (the `call` of the one connection contract,
 * src/redis/caller.ts): a server error reply may either reject (ioredis style) or resolve as an Error value
 * (@shake/resp's RespServerError): both are understood.
 */
export type CommandCaller = Pick<RedisCaller, 'call'>;

/** Opens (or returns a pooled) connection to a node. The router caches what it gets per host:port. */
export type ConnectNode = (node: NodeAddress) => CommandCaller;

/** host:port as every message and map of shake spells it (IPv6 in brackets): the connection's own. */
export const addressKey: (n: NodeAddress) => string = addressOf;
