/**
 * A source and a target redis-server for one describe block (node:test), each with an ioredis client: started
 * in `before`, stopped in `after`. The fields are set once `before` has run (read them inside hooks and tests).
 */
import { after, before } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer, type RedisServerOptions } from './redis-server.js';

export interface ServerPair {
  source: RedisServer;
  target: RedisServer;
  /** Client on the source. */
  src: Redis;
  /** Client on the target. */
  dst: Redis;
}

/** Options, or a function giving them when `before` runs (e.g. one that builds another server version). */
export type PairOptions = RedisServerOptions | (() => RedisServerOptions);

export function serverPair(sourceOpts: PairOptions = {}, targetOpts: PairOptions = {}): ServerPair {
  const pair = {} as ServerPair;
  const resolve = (o: PairOptions): RedisServerOptions => (typeof o === 'function' ? o() : o);
  before(async () => {
    [pair.source, pair.target] = await Promise.all([startRedis(resolve(sourceOpts)), startRedis(resolve(targetOpts))]);
    pair.src = pair.source.client();
    pair.dst = pair.target.client();
  });
  after(async () => {
    pair.src?.disconnect();
    pair.dst?.disconnect();
    await Promise.all([pair.source?.stop(), pair.target?.stop()]);
  });
  return pair;
}
