import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { startRedis } from './redis-server.js';
import { startCluster } from './cluster.js';
import { makeTestCA } from './tls.js';
import { probe } from './ready.js';
import { tlsSupport } from './tls-support.js';

const support = await tlsSupport();
const skip = support.supported ? false : `TLS not available: ${support.reason}`;

test('makeTestCA: server cert verifies for 127.0.0.1 and localhost against the CA', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-ca-test-'));
  const ca = await makeTestCA(dir);
  const server = await startRedis({ tls: ca });
  try {
    for (const servername of ['localhost', undefined]) {
      const sock = connect({ host: '127.0.0.1', port: server.port, ca: ca.ca, servername });
      await new Promise<void>((resolve, reject) => {
        sock.once('secureConnect', () => resolve());
        sock.once('error', reject);
      });
      assert.equal(sock.authorized, true);
      sock.destroy();
    }
    // a client that does not trust the CA is refused by verification
    const bad = connect({ host: '127.0.0.1', port: server.port });
    await assert.rejects(
      new Promise((resolve, reject) => {
        bad.once('secureConnect', resolve);
        bad.once('error', reject);
      }),
    );
    bad.destroy();
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('startRedis({ tls: true }): TLS only, client cert optional', { skip }, async () => {
  const server = await startRedis({ tls: true });
  const withCert = server.client();
  const withoutCert = server.client({ clientCert: false });
  try {
    assert.match(server.url, /^rediss:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await withCert.set('k', 'v'), 'OK');
    assert.equal(await withoutCert.get('k'), 'v');
    // the port speaks only TLS: a plain-text PING gets no reply
    assert.equal(await probe('127.0.0.1', server.port, false, 500), 'down');
    assert.equal(await probe('127.0.0.1', server.port, true), 'ready');
  } finally {
    withCert.disconnect();
    withoutCert.disconnect();
    await server.stop();
  }
});

test('tlsSupport() gives a reason either way', async () => {
  assert.equal(typeof support.supported, 'boolean');
  assert.ok(support.reason.length > 0);
});

test('startCluster({ tls: true }): TLS for clients, cluster bus and replication', { skip }, async () => {
  const cluster = await startCluster({ masters: 3, replicasPerMaster: 1, tls: true });
  const c = cluster.client();
  try {
    for (let i = 0; i < 30; i++) await c.set(`t${i}`, String(i));
    for (let i = 0; i < 30; i++) assert.equal(await c.get(`t${i}`), String(i));
    assert.equal(await probe('127.0.0.1', cluster.nodes[0]!.port, false, 500), 'down');
  } finally {
    c.disconnect();
    await cluster.stop();
  }
});
