/**
 * Readiness probe that needs nothing but PING and a raw socket, so it works whatever the server renamed
 * away (ElastiCache mimic), whatever users exist (NOAUTH/WRONGPASS/NOPERM still prove the server is up)
 * and over TLS. Only `-LOADING` (dataset still loading) and connection failures count as "not ready".
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export type Probe = 'ready' | 'loading' | 'down';

export function probe(host: string, port: number, tls: boolean, timeoutMs = 1000): Promise<Probe> {
  return new Promise((resolve) => {
    const sock: Socket = tls ? tlsConnect({ host, port, rejectUnauthorized: false }) : netConnect({ host, port });
    let settled = false;
    let line = '';
    const done = (p: Probe): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(p);
    };
    const timer = setTimeout(() => done('down'), timeoutMs);
    sock.on('error', () => done('down'));
    sock.on('close', () => done('down'));
    sock.once(tls ? 'secureConnect' : 'connect', () => sock.write('PING\r\n'));
    sock.on('data', (d: Buffer) => {
      line += d.toString('latin1');
      if (!line.includes('\r\n')) return;
      done(line.startsWith('-LOADING') ? 'loading' : 'ready');
    });
  });
}

/** Poll until the server answers PING with anything but LOADING, or `isDead()` says it exited. */
export async function waitReady(
  host: string,
  port: number,
  tls: boolean,
  isDead: () => boolean,
  timeoutMs = 20000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (isDead()) return false;
    if ((await probe(host, port, tls)) === 'ready') return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
