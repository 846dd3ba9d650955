/**
 * Does the installed redis-server speak TLS? Decided once per process by starting a TLS-only server
 * and completing a PING over a verified TLS connection. Tests skip with `reason` when it does not.
 */
import { startRedis } from './redis-server.js';

export interface TlsSupport {
  supported: boolean;
  reason: string;
}

let cached: Promise<TlsSupport> | undefined;

export function tlsSupport(): Promise<TlsSupport> {
  cached ??= check();
  return cached;
}

export async function tlsSupported(): Promise<boolean> {
  return (await tlsSupport()).supported;
}

async function check(): Promise<TlsSupport> {
  let server;
  try {
    server = await startRedis({ tls: true });
  } catch (err) {
    return { supported: false, reason: `redis-server could not start with --tls-port: ${String(err).slice(0, 300)}` };
  }
  const c = server.client();
  c.on('error', () => {});
  try {
    const pong = await c.ping();
    return pong === 'PONG'
      ? { supported: true, reason: 'redis-server answered PING over TLS' }
      : { supported: false, reason: `unexpected reply over TLS: ${pong}` };
  } catch (err) {
    return { supported: false, reason: `no TLS handshake with redis-server: ${String(err).slice(0, 300)}` };
  } finally {
    c.disconnect();
    await server.stop();
  }
}
