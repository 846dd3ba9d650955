/**
 * A big key never becomes one giant RESTORE and is never held whole: a 2,000,000-field hash (500,000 with
 * SHAKE_QUICK_TESTS=1) restored with a 1 MiB big-key threshold goes as streamed HSET batches, in a child process whose JS heap is capped at 64 MB
 * (it could not hold the hash) and whose peak RSS stays under 200 MB; and the same file by `--load replication`
 * (the target loads it; shake only reads it, keys only, as it sends it) under the same caps.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { repoRoot } from '../helpers/load-records.js';

/** 2M fields unless SHAKE_QUICK_TESTS=1 (then 500k) (still far more than a 64 MB heap could hold as objects). */
const FIELDS = process.env.SHAKE_QUICK_TESTS === '1' ? 500_000 : 2_000_000;
const child = join(repoRoot, 'dist', 'test', 'restore', 'child', 'restore-child.js');

describe(`big key: ${FIELDS}-field hash with a low threshold`, () => {
  let source: RedisServer;
  let target: RedisServer;
  before(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    const c = source.client();
    await c.eval(
      "for i = 1, tonumber(ARGV[1]) do redis.call('HSET', KEYS[1], 'field:' .. i, 'value:' .. i) end return 1",
      1,
      'big:hash',
      String(FIELDS),
    );
    await c.set('small', 'x');
    await c.save();
    c.disconnect();
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });
  /** The source's file restored into `into` by a child whose heap is capped at 64 MB, with a 1 MiB threshold. */
  const restoreInChild = (into: RedisServer, load: 'commands' | 'replication') =>
    spawnSync(
      process.execPath,
      // A 64 MB heap cap: holding the hash (2M fields = hundreds of MB as JS objects) would abort the child.
      ['--max-old-space-size=64', child, join(source.dir, 'dump.rdb'), into.host, String(into.port), String(1 << 20)],
      { encoding: 'utf8', env: { ...process.env, SHAKE_CHILD_LOAD: load } },
    );

  it('streams HSET batches; peak RSS bounded; every field arrives', async () => {
    const res = restoreInChild(target, 'commands');
    assert.equal(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout) as {
      ms: number;
      maxRssKb: number;
      counters: { keysWritten: number; failed: number };
      stats: { rewritten: number; restoreRaw: number; stringBatched: number };
    };
    console.log(`big key: ${FIELDS} fields in ${out.ms} ms, peak RSS ${(out.maxRssKb / 1024).toFixed(0)} MB`);
    assert.equal(out.counters.failed, 0);
    assert.equal(out.counters.keysWritten, 2);
    assert.equal(out.stats.rewritten, 1, 'the hash went as commands');
    assert.equal(out.stats.restoreRaw + out.stats.stringBatched, 1, 'the small key (a string) as RESTORE or MSET');
    assert.ok(out.maxRssKb < 200 * 1024, `peak RSS ${out.maxRssKb} KB`);
    const c = target.client();
    assert.equal(await c.hlen('big:hash'), FIELDS);
    assert.equal(await c.hget('big:hash', 'field:1'), 'value:1');
    assert.equal(await c.hget('big:hash', `field:${FIELDS}`), `value:${FIELDS}`);
    c.disconnect();
  });

  it('--load replication of the same file: the target loads it; shake reads it in bounded memory', async () => {
    const loaded = await startRedis();
    try {
      const res = restoreInChild(loaded, 'replication');
      assert.equal(res.status, 0, res.stderr);
      const out = JSON.parse(res.stdout) as { ms: number; maxRssKb: number; counters: { keysWritten: number } };
      console.log(`big key by replication: ${out.ms} ms, peak RSS ${(out.maxRssKb / 1024).toFixed(0)} MB`);
      assert.equal(out.counters.keysWritten, 2);
      assert.ok(out.maxRssKb < 200 * 1024, `peak RSS ${out.maxRssKb} KB`);
      const c = loaded.client();
      try {
        assert.equal(await c.hlen('big:hash'), FIELDS);
        assert.equal(await c.hget('big:hash', `field:${FIELDS}`), `value:${FIELDS}`);
        assert.match(await c.info('replication'), /role:master/);
      } finally {
        c.disconnect();
      }
    } finally {
      await loaded.stop();
    }
  });
});
