/**
 * A connection opened on first use: the connection contract (caller.ts) over a RedisConnection that connect()
 * opens when the first command is sent, so code that picks a node synchronously (the cluster router, the
 * sink's per-key routing) can hold connections to nodes it may never use.
 */
import type { EncodedCommands, RespValue } from '@shake/resp';
import type { CallerArgv, RedisCaller } from './caller.js';
import { connect } from './connect.js';
import type { RedisConnection } from './connection.js';
import type { ConnectionOptions } from './options.js';

export class LazyConnection implements RedisCaller {
  private conn: Promise<RedisConnection> | null = null;
  constructor(private readonly opts: ConnectionOptions) {}

  private get(): Promise<RedisConnection> {
    this.conn ??= connect(this.opts);
    return this.conn;
  }

  async sendBatch(argvs: readonly (CallerArgv | EncodedCommands)[]): Promise<RespValue[]> {
    return (await this.get()).sendBatch(argvs);
  }

  async call(argv: CallerArgv): Promise<unknown> {
    return (await this.get()).call(argv);
  }

  async close(): Promise<void> {
    if (!this.conn) return;
    const c = await this.conn.catch(() => null);
    await c?.close();
  }
}
