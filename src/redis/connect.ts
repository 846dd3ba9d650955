/** Opening a RedisConnection: socket (TCP or TLS), then the AUTH / CLIENT SETNAME / SELECT handshake. */
import { RespServerError } from '@shake/resp';
import { RedisConnection, type Argv } from './connection.js';
import { RedisAuthError, RedisConnectionError, RefusalReply } from './errors.js';
import { CONNECTION_DEFAULTS, type ConnectionOptions } from './options.js';
import { openSocket } from './socket.js';

/**
 * Connects (TCP or TLS), then pipelines AUTH (or, for a source or target given no password, PING: a server that
 * needs one says NOAUTH now, not at the first command), CLIENT SETNAME and SELECT as configured. A refusal
 * (NOAUTH, WRONGPASS, NOPERM) throws RedisAuthError with the connection's description of it (errors.ts).
 */
export async function connect(opts: ConnectionOptions): Promise<RedisConnection> {
  const timeoutMs = opts.connectTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs;
  const started = Date.now();
  const socket = await openSocket(opts, timeoutMs, opts.writeBufferBytes ?? CONNECTION_DEFAULTS.writeBufferBytes);
  const conn = new RedisConnection(socket, opts);
  const address = conn.address;
  const handshake: Array<{ argv: Argv; describe: (e: RespServerError) => RedisConnectionError }> = [];
  if (opts.password !== undefined) {
    const user = opts.username ?? 'default';
    handshake.push({
      argv: opts.username !== undefined ? ['AUTH', opts.username, opts.password] : ['AUTH', opts.password],
      describe: (e) => new RedisAuthError(`authentication failed for ${user}@${address}: ${e.message}`, address),
    });
  } else if (opts.side) {
    handshake.push({
      argv: ['PING'],
      describe: (e) => new RedisConnectionError(`PING on ${address} failed: ${e.message}`, address),
    });
  }
  if (opts.name) {
    handshake.push({
      argv: ['CLIENT', 'SETNAME', opts.name],
      describe: (e) => new RedisConnectionError(`CLIENT SETNAME on ${address} failed: ${e.message}`, address),
    });
  }
  if (opts.db) {
    handshake.push({
      argv: ['SELECT', String(opts.db)],
      describe: (e) => new RedisConnectionError(`cannot select db ${opts.db} on ${address}: ${e.message}`, address),
    });
  }
  if (handshake.length === 0) return conn;
  const timer = setTimeout(
    () => conn.destroy(new RedisConnectionError(`handshake with ${address} timed out after ${timeoutMs} ms`, address)),
    Math.max(1, timeoutMs - (Date.now() - started)),
  );
  try {
    const replies = await conn.sendBatch(handshake.map((h) => h.argv));
    for (let i = 0; i < handshake.length; i++) {
      const reply = replies[i];
      if (!(reply instanceof RespServerError)) continue;
      // Described by the connection when it knows the side (RedisConnection: describeRefusal).
      if (reply instanceof RefusalReply) throw new RedisAuthError(reply.message, address);
      throw handshake[i]!.describe(reply);
    }
    return conn;
  } catch (err) {
    conn.destroy(err as Error);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
