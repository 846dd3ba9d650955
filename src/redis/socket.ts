/** Opens the TCP or TLS socket for a connection, with a deadline and errors that name host:port. */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { RedisConnectionError } from './errors.js';
import type { ConnectionOptions } from './options.js';
import { activeTrace } from './trace.js';

export function addressOf(opts: Pick<ConnectionOptions, 'host' | 'port'>): string {
  return opts.host.includes(':') ? `[${opts.host}]:${opts.port}` : `${opts.host}:${opts.port}`;
}

export function openSocket(opts: ConnectionOptions, timeoutMs: number, writeBufferBytes: number): Promise<Socket> {
  const address = addressOf(opts);
  return new Promise((resolve, reject) => {
    const common = { host: opts.host, port: opts.port, writableHighWaterMark: writeBufferBytes };
    const tls = opts.tls;
    const socket: Socket = tls
      ? tlsConnect({
          ...common,
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          servername: tls.servername ?? (/^[\d.:]+$/.test(opts.host) ? undefined : opts.host),
          rejectUnauthorized: tls.rejectUnauthorized ?? true,
        })
      : netConnect(common);
    const timer = setTimeout(() => {
      fail(new RedisConnectionError(`cannot connect to redis at ${address}: timed out after ${timeoutMs} ms`, address));
    }, timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        err instanceof RedisConnectionError
          ? err
          : new RedisConnectionError(`cannot connect to redis at ${address}: ${err.message}`, address, { cause: err }),
      );
    };
    socket.once('error', fail);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      // --trace: every connection of the process is recorded from here (the one place sockets are opened).
      activeTrace()?.attach(socket, { side: opts.side, address, password: opts.password });
      resolve(socket);
    });
  });
}
