import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RespServerError } from '@shake/resp';
import { connect, RedisAuthError, RedisConnectionError } from '../../src/redis/index.js';
import { freePort, startRedis } from '../harness/redis-server.js';

/** The V8 gc() function (flag set at run time: the test runner passes no --expose-gc). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const binary = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0x24, 0x2a, 0x80]);

test('pipelining 100k calls and a 100k batch; binary-safe args; error replies are values', async () => {
  const server = await startRedis();
  const client = server.client();
  const conn = await connect({ host: server.host, port: server.port, maxInflightCommands: 5000 });
  try {
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 100_000; i++) calls.push(conn.call(['SET', `k:${i}`, String(i)]));
    const replies = await Promise.all(calls);
    assert.ok(replies.every((r) => r === 'OK'));
    const batch = await conn.sendBatch(Array.from({ length: 100_000 }, (_, i) => ['INCRBY', `k:${i}`, '1']));
    assert.equal(batch.length, 100_000);
    assert.ok(
      batch.every((r, i) => r === i + 1),
      'replies in order',
    );
    assert.equal(await client.dbsize(), 100_000);

    const big = Buffer.alloc(1 << 20, 0xab);
    const [ok1, ok2, got, gotBig, wrong] = await conn.sendBatch([
      ['SET', binary, binary],
      ['SET', Buffer.from('big'), big],
      ['GET', binary],
      ['GET', 'big'],
      ['LPUSH', 'k:1', 'x'],
    ]);
    assert.deepEqual([ok1, ok2], ['OK', 'OK']);
    assert.deepEqual(got, binary);
    assert.ok((gotBig as Buffer).equals(big));
    assert.ok(wrong instanceof RespServerError && wrong.code === 'WRONGTYPE');
    assert.deepEqual(await client.getBuffer(binary), binary);
    await assert.rejects(conn.callOrThrow(['LPUSH', 'k:1', 'x']), /WRONGTYPE/);
  } finally {
    await conn.close();
    client.disconnect();
    await server.stop();
  }
});

test('AUTH (password, ACL user), CLIENT SETNAME, SELECT; a refused AUTH names user@host:port', async () => {
  const server = await startRedis({ password: 'sekret' });
  const client = server.client();
  try {
    await client.call('ACL', 'SETUSER', 'alice', 'on', '>alicepw', '~*', '+@all');
    const conn = await connect({ host: server.host, port: server.port, password: 'sekret', db: 3, name: 'shake-test' });
    assert.equal(await conn.call(['SET', 'in3', 'yes']), 'OK');
    assert.equal(String(await conn.call(['CLIENT', 'GETNAME'])), 'shake-test');
    await conn.close();
    await client.select(3);
    assert.equal(await client.get('in3'), 'yes');

    const alice = await connect({ host: server.host, port: server.port, username: 'alice', password: 'alicepw' });
    assert.equal(String(await alice.call(['ACL', 'WHOAMI'])), 'alice');
    await alice.close();

    const addr = `127.0.0.1:${server.port}`;
    await assert.rejects(
      connect({ host: server.host, port: server.port, password: 'wrong' }),
      (e: unknown) =>
        e instanceof RedisAuthError &&
        e.message.startsWith(`server ${addr} refused the password of user default (WRONGPASS`) &&
        e.address === addr,
    );
    await assert.rejects(
      connect({ host: server.host, port: server.port, username: 'alice', password: 'nope' }),
      new RegExp(`^RedisAuthError: server ${addr} refused the password of user alice \\(WRONGPASS`),
    );
    const noauth = await connect({ host: server.host, port: server.port });
    const r = await noauth.call(['GET', 'x']);
    assert.ok(r instanceof RespServerError && r.code === 'NOAUTH');
    await noauth.close();
    await assert.rejects(
      connect({ host: server.host, port: server.port, password: 'sekret', db: 99 }),
      /cannot select db 99 on 127\.0\.0\.1:\d+: ERR/,
    );
  } finally {
    client.disconnect();
    await server.stop();
  }
});

test('connection refused and connect timeout name host:port', async () => {
  const port = await freePort();
  await assert.rejects(
    connect({ host: '127.0.0.1', port }),
    (e: unknown) =>
      e instanceof RedisConnectionError &&
      e.message === `cannot connect to redis at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
  );
  // 192.0.2.0/24 (TEST-NET-1) is not routed: the connect hangs until our deadline (or fails fast, offline)
  await assert.rejects(
    connect({ host: '192.0.2.1', port: 6379, connectTimeoutMs: 200 }),
    /cannot connect to redis at 192\.0\.2\.1:6379/,
  );
});

test('server closing the connection mid-pipeline rejects every pending call, naming host:port', async () => {
  const server = await startRedis();
  const killer = server.client();
  const conn = await connect({ host: server.host, port: server.port, maxInflightCommands: 1000 });
  try {
    const id = await conn.callOrThrow(['CLIENT', 'ID']);
    const value = Buffer.alloc(1000, 1);
    const calls = Array.from({ length: 50_000 }, (_, i) => conn.call(['SET', `k${i}`, value]));
    const batch = conn.sendBatch(Array.from({ length: 10 }, () => ['PING'])).catch((e: unknown) => e);
    const allSettled = Promise.allSettled(calls);
    await calls[10];
    await killer.call('CLIENT', 'KILL', 'ID', String(id));
    const settled = await allSettled;
    const rejected = settled.filter((s) => s.status === 'rejected');
    assert.ok(rejected.length > 0, 'some calls were still pending');
    const reason = (rejected[0] as PromiseRejectedResult).reason as Error;
    assert.ok(reason instanceof RedisConnectionError);
    assert.match(
      reason.message,
      new RegExp(`^connection to 127\\.0\\.0\\.1:${server.port} closed .* with \\d+ commands pending`),
    );
    // every call after the first rejected one rejected too (FIFO), and the batch with them
    const firstRejected = settled.findIndex((s) => s.status === 'rejected');
    assert.ok(settled.slice(firstRejected).every((s) => s.status === 'rejected'));
    assert.ok((await batch) instanceof RedisConnectionError);
    await assert.rejects(conn.call(['PING']), RedisConnectionError);
    await assert.rejects(conn.ready(), RedisConnectionError);
  } finally {
    killer.disconnect();
    await server.stop();
  }
});

test('backpressure: 1M commands with await ready() keep in-flight work and memory bounded', async () => {
  const server = await startRedis();
  const conn = await connect({
    host: server.host,
    port: server.port,
    maxInflightCommands: 2000,
    maxInflightBytes: 1 << 20,
  });
  try {
    const gc = exposeGc();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let maxPending = 0;
    let maxHeap = 0;
    let replies = 0;
    const value = Buffer.alloc(64, 0x76);
    const total = 1_000_000;
    const batch = 100;
    for (let i = 0; i < total; i += batch) {
      await conn.ready();
      const argvs = [];
      for (let j = i; j < i + batch; j++) argvs.push(['SET', `key:${j % 10_000}`, value]);
      void conn.sendBatch(argvs).then((r) => (replies += r.length));
      const pending = conn.inflightCount + conn.queuedCount;
      if (pending > maxPending) maxPending = pending;
      if ((i & 0x1ffff) === 0) {
        gc();
        maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
      }
    }
    await conn.idle();
    assert.equal(replies, total);
    assert.ok(maxPending < 2000 + batch, `pending commands stayed under the limit (max ${maxPending})`);
    const growth = (maxHeap - heapBefore) / 1e6;
    console.log(`backpressure: 1M SETs, max pending ${maxPending}, heap growth ${growth.toFixed(1)} MB`);
    assert.ok(growth < 32, `live heap growth ${growth.toFixed(1)} MB`);

    // byte limit: 10 KiB commands with a 32 KiB budget: at most 3 in flight at once
    const small = await connect({ host: server.host, port: server.port, maxInflightBytes: 32 * 1024 });
    const payload = Buffer.alloc(10 * 1024);
    let maxInflight = 0;
    const calls = [];
    for (let i = 0; i < 200; i++) {
      await small.ready();
      calls.push(small.call(['SET', `b${i}`, payload]));
      maxInflight = Math.max(maxInflight, small.inflightCount);
    }
    await Promise.all(calls);
    assert.ok(maxInflight <= 3, `in flight by bytes: ${maxInflight}`);
    await small.close();
  } finally {
    await conn.close();
    await server.stop();
  }
});

test('takeOver hands the authenticated socket to a raw RespDecoder; detach refuses while busy', async () => {
  const server = await startRedis({ password: 'pw' });
  try {
    const conn = await connect({ host: server.host, port: server.port, password: 'pw', db: 2 });
    const pending = conn.call(['PING']);
    assert.throws(() => conn.detach(), /commands still in flight/);
    await pending;
    await conn.call(['SET', 'raw', 'value']);
    const replies: unknown[] = [];
    let done!: () => void;
    const got = new Promise<void>((r) => (done = r));
    const raw = conn.takeOver({
      onReply: (v) => {
        replies.push(Buffer.isBuffer(v) ? v.toString() : v);
        if (replies.length === 2) done();
      },
    });
    raw.send(['GET', 'raw']); // still authenticated and in db 2
    raw.send(['PING']);
    await got;
    assert.deepEqual(replies, ['value', 'PONG']);
    await assert.rejects(conn.call(['PING']), /handed over/);
    raw.socket.destroy();
  } finally {
    await server.stop();
  }
});
