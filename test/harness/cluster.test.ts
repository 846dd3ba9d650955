import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, evenSlotRanges } from './cluster.js';

test('evenSlotRanges covers 0..16383 without gaps', () => {
  for (const n of [1, 2, 3, 5, 7]) {
    const r = evenSlotRanges(n);
    assert.equal(r[0]![0], 0);
    assert.equal(r.at(-1)![1], 16383);
    for (let i = 1; i < r.length; i++) assert.equal(r[i]![0], r[i - 1]![1] + 1);
  }
});

test('startCluster: 3 masters converge, ioredis Cluster client routes keys', async () => {
  const t0 = Date.now();
  const cluster = await startCluster({ masters: 3 });
  const startMs = Date.now() - t0;
  const c = cluster.client();
  try {
    assert.ok(startMs < 10000, `cluster start took ${startMs} ms`);
    assert.equal(cluster.masters().length, 3);
    const topo = await cluster.topology();
    assert.equal(topo.length, 3);
    const covered = topo.flatMap((n) => n.slots).reduce((acc, [a, b]) => acc + (b - a + 1), 0);
    assert.equal(covered, 16384);
    for (let i = 0; i < 50; i++) await c.set(`k${i}`, `v${i}`);
    for (let i = 0; i < 50; i++) assert.equal(await c.get(`k${i}`), `v${i}`);
    // keys really are spread: every master holds some
    for (const m of cluster.masters()) {
      const nc = cluster.nodeClient(m);
      assert.ok((await nc.dbsize()) > 0, `master ${m.port} holds no keys`);
      nc.disconnect();
    }
  } finally {
    c.disconnect();
    await cluster.stop();
  }
});

test('startCluster: replicas attach to their masters (password: masterauth works)', async () => {
  const cluster = await startCluster({ masters: 3, replicasPerMaster: 1, password: 'pw' });
  try {
    const anon = cluster.nodes[0]!.server.client({ password: '' });
    anon.on('error', () => {});
    await assert.rejects(anon.get('x'), /NOAUTH/);
    anon.disconnect();
    const topo = await cluster.topology();
    const replicas = topo.filter((n) => n.flags.includes('slave'));
    assert.equal(replicas.length, 3);
    const masterIds = new Set(topo.filter((n) => n.flags.includes('master')).map((n) => n.id));
    for (const r of replicas) assert.ok(r.masterId && masterIds.has(r.masterId));
    assert.equal(new Set(replicas.map((r) => r.masterId)).size, 3);
  } finally {
    await cluster.stop();
  }
});
