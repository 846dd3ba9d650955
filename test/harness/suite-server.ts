/** A redis-server for the tests of one describe(), started before them and stopped after them. */
import { after, before } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer, type RedisServerOptions } from './redis-server.js';

/**
 * Inside a describe(): a server started with `opts` before its tests and stopped after them; `use` receives its
 * client (and the server) once it is up, e.g. `let c: Redis; suiteServer({}, (client) => (c = client));`.
 */
export function suiteServer(opts: RedisServerOptions, use: (client: Redis, server: RedisServer) => void): void {
  let server: RedisServer | undefined;
  let client: Redis | undefined;
  before(async () => {
    server = await startRedis(opts);
    client = server.client();
    use(client, server);
  });
  after(async () => {
    client?.disconnect();
    await server?.stop();
  });
}
