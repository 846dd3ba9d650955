import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from './redis-server.js';

test('startRedis({ users }): ACL users with rules; default user keeps the password', async () => {
  const server = await startRedis({
    password: 'admin secret',
    users: [
      { name: 'reader', password: 'r p@ss "quoted"', rules: '~* +@read +ping' },
      { name: 'writer', password: 'w', rules: '~w:* +@write +@read' },
      { name: 'open', rules: '~* +ping' },
    ],
  });
  const admin = server.client();
  const reader = server.client({ username: 'reader', password: 'r p@ss "quoted"' });
  const writer = server.client({ username: 'writer', password: 'w' });
  const open = server.client({ username: 'open', password: 'anything' });
  const anon = server.client({ password: '' });
  anon.on('error', () => {});
  try {
    await admin.set('k', 'v');
    assert.equal(await reader.get('k'), 'v');
    await assert.rejects(reader.set('k', 'x'), /NOPERM/);
    assert.equal(await writer.set('w:1', 'x'), 'OK');
    await assert.rejects(writer.set('k', 'x'), /NOPERM/);
    assert.equal(await open.ping(), 'PONG');
    await assert.rejects(open.get('k'), /NOPERM/);
    await assert.rejects(anon.get('k'), /NOAUTH|WRONGPASS/);
  } finally {
    for (const c of [admin, reader, writer, open, anon]) c.disconnect();
    await server.stop();
  }
});
