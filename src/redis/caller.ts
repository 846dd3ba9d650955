/**
 * THE connection contract of shake: what every part needs from a connection to a Redis server. RedisConnection
 * (connection.ts) is the implementation; the cluster router, the scan source, rump's source nodes and the Redis
 * sink each name the part they use (a Pick of this), so a test can stand in for a server with a small object.
 */
import type { EncodedCommands, RespValue } from '@shake/resp';

export type CallerArgv = readonly (string | Buffer)[];

export interface RedisCaller {
  /** One command; resolves with its reply. A server error reply is an Error value (or, from another client, a rejection). */
  call(argv: CallerArgv): Promise<unknown>;
  /**
   * Commands written in one go; one reply per command, in order, error replies as values. EncodedCommands
   * (commands the caller encoded itself) count as their `count` commands.
   */
  sendBatch(argvs: readonly (CallerArgv | EncodedCommands)[]): Promise<RespValue[]>;
  close(): Promise<void>;
}
