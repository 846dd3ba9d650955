import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from './harness/redis-server.js';

test('harness starts and stops a real redis-server on a free loopback port', async () => {
  const server = await startRedis({ disableCommands: ['KEYS'] });
  const c = server.client();
  try {
    assert.equal(await c.set('k', 'v'), 'OK');
    assert.equal(await c.get('k'), 'v');
    await assert.rejects(c.keys('*'), /unknown command/i);
  } finally {
    c.disconnect();
    await server.stop();
  }
});
