import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, RedisConnectionError } from '../../src/redis/index.js';
import { freePort, startRedis, type RedisServer } from '../harness/redis-server.js';
import { makeTestCA } from '../harness/tls.js';

/** A throwaway CA with a server certificate for 127.0.0.1 / localhost, and a second, unrelated CA (the harness's). */
async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string; otherCa: string }> {
  const otherDir = join(dir, 'other');
  mkdirSync(otherDir);
  const [main, other] = await Promise.all([makeTestCA(dir), makeTestCA(otherDir)]);
  return { ca: main.caCertFile, cert: main.serverCertFile, key: main.serverKeyFile, otherCa: other.caCertFile };
}

function opensslMissing(): string | null {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
  } catch {
    return 'openssl is not installed';
  }
  return null;
}

test('TLS: rediss connection with a CA, AUTH over TLS; wrong CA is refused with host:port', async (t) => {
  const missing = opensslMissing();
  if (missing) return t.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'shake-tls-'));
  let server: RedisServer | null = null;
  try {
    const certs = await makeCertificates(dir);
    const tlsPort = await freePort();
    try {
      server = await startRedis({
        password: 'pw',
        config: {
          'tls-port': String(tlsPort),
          'tls-cert-file': certs.cert,
          'tls-key-file': certs.key,
          'tls-ca-cert-file': certs.ca,
          'tls-auth-clients': 'no',
        },
      });
    } catch (e) {
      if (/tls|TLS/.test(String(e))) return t.skip(`redis-server was built without TLS: ${String(e).slice(0, 200)}`);
      throw e;
    }
    const ca = readFileSync(certs.ca);
    const conn = await connect({ host: '127.0.0.1', port: tlsPort, password: 'pw', tls: { ca }, db: 1 });
    const value = Buffer.alloc(300_000, 0x5a);
    const replies = await conn.sendBatch([
      ['SET', 'tls-key', value],
      ['GET', 'tls-key'],
      ['CLIENT', 'INFO'],
    ]);
    assert.equal(replies[0], 'OK');
    assert.ok((replies[1] as Buffer).equals(value));
    assert.match(String(replies[2]), /db=1/);
    await conn.close();

    await assert.rejects(
      connect({ host: '127.0.0.1', port: tlsPort, password: 'pw', tls: { ca: readFileSync(certs.otherCa) } }),
      (e: unknown) =>
        e instanceof RedisConnectionError && e.message.startsWith(`cannot connect to redis at 127.0.0.1:${tlsPort}:`),
    );
    const insecure = await connect({
      host: '127.0.0.1',
      port: tlsPort,
      password: 'pw',
      tls: { rejectUnauthorized: false },
    });
    assert.equal(await insecure.call(['PING']), 'PONG');
    await insecure.close();
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
