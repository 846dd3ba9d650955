import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from './redis-server.js';
import { startCluster } from './cluster.js';
import { ELASTICACHE_DISABLED_COMMANDS } from './elasticache.js';

test('startRedis({ elasticache: true }) refuses every ElastiCache-restricted command, serves the rest', async () => {
  const server = await startRedis({ elasticache: true, rdbFile: undefined });
  const c = server.client();
  try {
    for (const cmd of ELASTICACHE_DISABLED_COMMANDS) {
      await assert.rejects(c.call(cmd), /unknown command/i, cmd);
    }
    await c.set('k', 'v');
    assert.deepEqual(await c.scan('0'), ['0', ['k']]);
    assert.match(await c.info('keyspace'), /db0:keys=1/);
  } finally {
    c.disconnect();
    await server.stop();
  }
});

test('startCluster({ elasticache: true }) still converges (harness uses no restricted command)', async () => {
  const cluster = await startCluster({ masters: 3, elasticache: true });
  const c = cluster.client();
  try {
    await c.set('{a}1', 'x');
    assert.equal(await c.get('{a}1'), 'x');
    const node = cluster.nodeClient(cluster.masters()[0]!);
    await assert.rejects(node.call('CONFIG', 'GET', 'maxmemory'), /unknown command/i);
    node.disconnect();
  } finally {
    c.disconnect();
    await cluster.stop();
  }
});
