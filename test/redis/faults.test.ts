import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { connect, RedisConnectionError } from '../../src/redis/index.js';

/** A fake server for faults a real redis-server does not produce on demand. */
async function fakeServer(onConnection: (s: Socket) => void): Promise<{ port: number; stop(): void }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    stop: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test('a garbage reply destroys the connection with a protocol error naming host:port', async () => {
  const { stop, port } = await fakeServer((s) => s.once('data', () => s.write('+OK\r\n?garbage\r\n')));
  try {
    const conn = await connect({ host: '127.0.0.1', port });
    const [a, b] = await Promise.allSettled([conn.call(['PING']), conn.call(['PING'])]);
    assert.deepEqual(a, { status: 'fulfilled', value: 'OK' });
    assert.equal(b.status, 'rejected');
    const reason = (b as PromiseRejectedResult).reason as Error;
    assert.ok(reason instanceof RedisConnectionError);
    assert.match(
      reason.message,
      new RegExp(`^protocol error from 127\\.0\\.0\\.1:${port}: unknown RESP type byte 0x3f`),
    );
  } finally {
    stop();
  }
});

test('a reply with nothing in flight is a protocol error; a server that never answers times out the handshake', async () => {
  const chatty = await fakeServer((s) => s.write('+HELLO\r\n'));
  const silent = await fakeServer(() => {});
  try {
    const conn = await connect({ host: '127.0.0.1', port: chatty.port });
    await new Promise((r) => setTimeout(r, 100)); // let the unsolicited +HELLO arrive
    assert.equal(conn.closed, true);
    await assert.rejects(conn.call(['PING']), /unexpected reply from 127\.0\.0\.1:\d+ with no command in flight/);
    await assert.rejects(
      connect({ host: '127.0.0.1', port: silent.port, password: 'x', connectTimeoutMs: 300 }),
      new RegExp(`handshake with 127\\.0\\.0\\.1:${silent.port} timed out after 300 ms`),
    );
  } finally {
    chatty.stop();
    silent.stop();
  }
});
