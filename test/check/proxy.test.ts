/**
 * A proxy target (twemproxy in front of a real redis-server, harness/twemproxy.ts): the check reads it with
 * per-key commands only (PTTL, DUMP, and the chunk commands for big keys; no INFO, SCAN, SELECT, MEMORY or
 * FUNCTION, on which twemproxy closes the connection). Equal data is equal; a changed field of a big hash, a
 * moved TTL and a missing key are each reported; keys only on the target cannot be looked for (a notice).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { startTwemproxy, type Twemproxy } from '../harness/twemproxy.js';
import { runCheck } from '../../src/pipelines/check.js';
import type { Difference } from '../../src/check/problems.js';
import { conn, triples, NO_SYNC_DELAY } from './helpers.js';

describe('shake check: a proxy target (twemproxy)', () => {
  let source: RedisServer;
  let backend: RedisServer;
  let proxy: Twemproxy;
  let src: Redis;
  let tgt: Redis;
  before(async () => {
    [source, backend] = await Promise.all([startRedis({ config: NO_SYNC_DELAY }), startRedis()]);
    proxy = await startTwemproxy([backend]);
    src = source.client();
    tgt = backend.client();
    for (const c of [src, tgt]) {
      for (let i = 0; i < 50; i++) {
        await c.set(`s:${i}`, `v${i}`);
        await c.rpush(`l:${i}`, 'a', 'b', String(i));
        await c.zadd(`z:${i}`, i + 0.25, 'm', -i, 'n');
      }
      await c.hset('big', Object.fromEntries(Array.from({ length: 3000 }, (_, j) => [`f${j}`, `value-${j}`])));
      await c.sadd('set', 'x', 'y');
      await c.pexpireat('s:1', 4_102_444_800_000);
    }
  });
  after(async () => {
    src?.disconnect();
    tgt?.disconnect();
    await proxy?.stop();
    await Promise.all([source?.stop(), backend?.stop()]);
  });

  async function check(): Promise<{ diffs: Difference[]; notices: string[]; exitCode: number; big: number }> {
    const diffs: Difference[] = [];
    const notices: string[] = [];
    const s = await runCheck({
      rounds: 0,
      bigKeyThreshold: 16 * 1024,
      source: conn(source),
      target: { host: proxy.host, port: proxy.port },
      targetKind: 'proxy',
      onDifference: (d) => diffs.push(d),
      onNotice: (m) => notices.push(m),
    });
    return { diffs, notices, exitCode: s.exitCode, big: s.stats.bigKeys };
  }

  test('equal through the proxy; the extra-keys scan is not possible there (notice)', async () => {
    const r = await check();
    assert.deepEqual(triples(r.diffs), []);
    assert.equal(r.exitCode, 0);
    assert.equal(r.big, 1, 'the big hash compared in chunks (by the source MEMORY USAGE)');
    assert.ok(r.notices.some((n) => /proxy \(no SCAN through it\)/.test(n)));
  });

  test('a big hash field, a moved TTL and a missing key are reported', async () => {
    await tgt.hset('big', 'f2999', 'changed');
    await tgt.pexpireat('s:1', 4_102_444_800_000 + 60_000);
    await tgt.del('l:7');
    try {
      const r = await check();
      const got = triples(r.diffs).sort((a, b) => String(a[1]).localeCompare(String(b[1])));
      assert.deepEqual(got, [
        [0, 'big', 'value'],
        [0, 'l:7', 'missing'],
        [0, 's:1', 'ttl'],
      ]);
      assert.equal(String(r.diffs.find((d) => d.key?.toString() === 'big')!.detail.field), 'f2999');
    } finally {
      await tgt.hset('big', 'f2999', 'value-2999');
      await tgt.pexpireat('s:1', 4_102_444_800_000);
      await tgt.rpush('l:7', 'a', 'b', '7');
    }
  });
});
