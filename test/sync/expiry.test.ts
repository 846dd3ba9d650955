/**
 * Expiries in the replication stream, as a Redis replica keeps them: a replica never executes an expiry
 * (expire.c checkAlreadyExpired() is false with a master set); the master sends DEL when the key expires.
 * shake's target is a master, so a stream applied after the times it carries (shake lagging) must not lose a key
 * that the master PERSISTed, or gave a later TTL, before it expired.
 * Times are taken from the servers' own clock (TIME), never from a date.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { Counters } from '../../src/core/counters.js';
import { DbMapper } from '../../src/sinks/redis/db-map.js';
import { DEFAULT_CONN_LIMITS } from '../../src/sinks/redis/conn-writer.js';
import { SinkCore } from '../../src/sinks/redis/core.js';
import { openTarget } from '../../src/sinks/redis/open-target.js';
import { emptyStats } from '../../src/sinks/redis/stats.js';
import { BatchApplier } from '../../src/sync/apply.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { nameOf, sleep, standaloneCheckpoint, startSync, waitApplied } from './helpers.js';

async function serverMs(c: Redis): Promise<number> {
  const [s, us] = (await c.time()) as unknown as [string, string];
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

describe('sync: expiries applied after their time (shake lagging)', () => {
  let source: RedisServer;
  let target: RedisServer;
  let src: Redis;
  let dst: Redis;
  before(async () => {
    [source, target] = await Promise.all([
      startRedis({ config: { 'enable-debug-command': 'yes' } }),
      startRedis({ config: { 'enable-debug-command': 'yes' } }),
    ]);
    src = source.client();
    dst = target.client();
  });
  after(async () => {
    src?.disconnect();
    dst?.disconnect();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  test('PERSIST and a later PEXPIREAT the master ran before the expiry still find the key; expired keys go by DEL', async () => {
    const run = startSync(source, target);
    const checkpoint = standaloneCheckpoint(dst, nameOf(source));
    while ((await checkpoint()) < 0) await sleep(20);
    const sleeper = target.client();
    const asleep = sleeper.call('DEBUG', 'SLEEP', '2.5');
    await sleep(100);
    const later = (await serverMs(src)) + 3_600_000;
    await src.set('persisted', 'v', 'PX', 400);
    await src.persist('persisted');
    await src.set('later', 'v', 'PX', 400);
    await src.pexpireat('later', later);
    await src.set('counter', '1', 'PX', 400);
    await src.incr('counter');
    await src.persist('counter');
    await src.set('gone', 'v', 'PX', 300);
    await asleep;
    sleeper.disconnect();
    // By now every PX above has passed: the target applies them late. The master expires `gone` (and says DEL).
    assert.equal(await src.exists('gone'), 0);
    await waitApplied(src, checkpoint, 30_000, run);
    const result = await run.stop();
    const e = result.links[0]!.apply.expiry!;
    assert.ok(e.deferredKeys > 0, 'some expiries were applied after their time');
    assert.equal(await dst.get('persisted'), 'v');
    assert.equal(await dst.pttl('persisted'), -1);
    assert.equal(await dst.get('counter'), '2');
    assert.equal(await dst.pttl('counter'), -1);
    assert.equal(Number(await dst.call('PEXPIRETIME', 'later')), later);
    assert.equal(await dst.exists('gone'), 0);
    await dst.del(`__shake:sync:${nameOf(source)}`);
    assert.equal(await dst.call('DEBUG', 'DIGEST'), await src.call('DEBUG', 'DIGEST'));
  });

  test('at the cut-over point, keys still deferred get their time back or go as expired', async () => {
    await dst.flushall();
    const t = await openTarget({ connection: { host: target.host, port: target.port } });
    try {
      const counters = new Counters();
      const core = new SinkCore(t, counters, emptyStats(), DEFAULT_CONN_LIMITS, 'replace', 'skip');
      const applier = new BatchApplier({
        target: t,
        core,
        counters,
        dbs: new DbMapper({ map: new Map(), rest: null }, false),
        name: 'expiry-test',
        start: { replid: 'x'.repeat(40), offset: 0, db: 0 },
        forwardPublish: false,
        knownCommands: null,
      });
      const now = await serverMs(dst);
      const soon = now + 60_000;
      const b = (...a: (string | number)[]): Buffer[] => a.map((x) => Buffer.from(String(x)));
      let offset = 0;
      await applier.apply(
        [
          b('SELECT', 0),
          b('SET', 'lazy', 'v', 'PXAT', now - 1000),
          b('SET', 'soon', 'v', 'PXAT', soon),
          b('SET', 'p', 'v'),
          b('PEXPIREAT', 'p', now - 500),
          b('PERSIST', 'p'),
          b('SET', 'deleted', 'v', 'PXAT', now - 1000),
          b('DEL', 'deleted'),
        ].map((argv) => ({ argv, offset: (offset += 10) })),
      );
      // As a replica holds them: the key whose time passed is still there, with a deferred time.
      assert.equal(await dst.exists('lazy'), 1);
      assert.ok((await dst.pttl('lazy')) > 2 ** 51);
      // soon: due within a minute, so the target decided (not passed: its real time); deleted: forgotten with its DEL.
      assert.equal(applier.expiry.remembered, 3, 'lazy, soon and p');
      assert.equal(Number(await dst.call('PEXPIRETIME', 'soon')), soon);
      await applier.sweepExpiries();
      assert.equal(await dst.exists('lazy'), 0);
      assert.equal(Number(await dst.call('PEXPIRETIME', 'soon')), soon);
      assert.equal(await dst.pttl('p'), -1);
      assert.equal(applier.expiry.stats.expiredKeys, 1);
      assert.equal(counters.skipped.get('expired'), 1);
      assert.deepEqual(counters.failures, []);
    } finally {
      await t.close();
    }
  });
});
