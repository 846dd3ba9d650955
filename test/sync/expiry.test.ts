/**
 * Expiries in the replication stream, as a Redis replica keeps them: a replica never executes an expiry
 * (expire.c checkAlreadyExpired() is false with a master set); the master sends DEL when the key expires.
 * shake's target is a master, so a stream applied after the times it carries (shake lagging) must not lose a key
 * that the master PERSISTed, or gave a later TTL, before it expired.
 * Times are taken from the servers' own clock (TIME), never from a date.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { Counters } from '../../src/core/counters.js';
import { DbMapper } from '../../src/sinks/redis/db-map.js';
import { DEFAULT_CONN_LIMITS } from '../../src/sinks/redis/conn-writer.js';
import { SinkCore } from '../../src/sinks/redis/core.js';
import { openTarget } from '../../src/sinks/redis/open-target.js';
import { emptyStats } from '../../src/sinks/redis/stats.js';
import { BatchApplier } from '../../src/sync/apply.js';
import { serverPair } from '../harness/server-pair.js';
import { assertSameDigest, blockTarget, syncPair, waitCheckpoint } from './helpers.js';

async function serverMs(c: Redis): Promise<number> {
  const [s, us] = (await c.time()) as unknown as [string, string];
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

describe('sync: expiries applied after their time (shake lagging)', () => {
  const debug = { config: { 'enable-debug-command': 'yes' } };
  const p = serverPair(debug, debug);

  test('PERSIST and a later PEXPIREAT the master ran before the expiry still find the key; expired keys go by DEL', async () => {
    const { src, dst } = p;
    const run = syncPair(p);
    await waitCheckpoint(run.checkpoint);
    const blocked = await blockTarget(p.target, 2.5);
    const later = (await serverMs(src)) + 3_600_000;
    await src.set('persisted', 'v', 'PX', 400);
    await src.persist('persisted');
    await src.set('later', 'v', 'PX', 400);
    await src.pexpireat('later', later);
    await src.set('counter', '1', 'PX', 400);
    await src.incr('counter');
    await src.persist('counter');
    await src.set('gone', 'v', 'PX', 300);
    await blocked.awake;
    // By now every PX above has passed: the target applies them late. The master expires `gone` (and says DEL).
    assert.equal(await src.exists('gone'), 0);
    const result = await run.finish();
    const e = result.links[0]!.apply.expiry!;
    assert.ok(e.deferredKeys > 0, 'some expiries were applied after their time');
    assert.equal(await dst.get('persisted'), 'v');
    assert.equal(await dst.pttl('persisted'), -1);
    assert.equal(await dst.get('counter'), '2');
    assert.equal(await dst.pttl('counter'), -1);
    assert.equal(Number(await dst.call('PEXPIRETIME', 'later')), later);
    assert.equal(await dst.exists('gone'), 0);
    await assertSameDigest(p);
  });

  test('at the cut-over point, keys still deferred get their time back or go as expired', async () => {
    const { dst } = p;
    await dst.flushall();
    const t = await openTarget({ connection: { host: p.target.host, port: p.target.port } });
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
