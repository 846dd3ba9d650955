import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../harness/cluster.js';
import { startRedis } from '../harness/redis-server.js';
import { diffRecords } from '../harness/keyspace/diff.js';
import { expectedAfterReload, readKeyspaceCluster } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { recordId } from '../helpers/records.js';
import { ClusterRouter } from '../../src/cluster/router.js';
import { ioredisCaller, type ClosableCaller } from './ioredis-caller.js';

test('readKeyspaceCluster: fixture db0 spread over 3 masters (server DUMP -> RESTORE via the router) reads back exactly', async () => {
  const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
  const source = await startRedis({ rdbFile: fx.rdbFile });
  const cluster = await startCluster({ masters: 3 });
  const callers: ClosableCaller[] = [];
  const src = source.client();
  const io = cluster.client();
  try {
    const router = new ClusterRouter({
      seeds: [cluster.masters()[0]!],
      connect: (n) => {
        const c = ioredisCaller(n);
        callers.push(c);
        return c;
      },
    });
    await router.refresh();
    const db0 = fx.records.filter((r) => r.db === 0);
    for (const r of db0) {
      const key = Buffer.from(r.key_b64, 'base64');
      const payload = await src.dumpBuffer(key);
      assert.ok(payload, `DUMP ${r.key_b64}`);
      const ttl = r.expire_at_ms === null ? '0' : String(r.expire_at_ms);
      const args = ['RESTORE', key, ttl, payload, ...(r.expire_at_ms === null ? [] : ['ABSTTL'])];
      assert.equal(String(await router.sendKey(key, args)), 'OK');
    }
    const fromHarness = await readKeyspaceCluster(cluster);
    assert.deepEqual(diffRecords(fromHarness, db0.map(expectedAfterReload)), []);
    assert.deepEqual(fromHarness.map(recordId), db0.map(recordId));
    // the same through an ioredis Cluster client
    assert.deepEqual(await readKeyspaceCluster(io), fromHarness);
    // and the keys really are spread over every master
    for (const m of cluster.masters()) {
      const c = cluster.nodeClient(m);
      assert.ok((await c.dbsize()) > 20);
      c.disconnect();
    }
  } finally {
    for (const c of callers) c.redis.disconnect();
    src.disconnect();
    io.disconnect();
    await Promise.all([source.stop(), cluster.stop()]);
  }
});
