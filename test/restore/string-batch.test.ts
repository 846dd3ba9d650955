/**
 * Strings without a TTL go many to one MSET / MSETNX on a standalone target (src/sinks/redis/string-batch.ts).
 * The RDB comes from a real server (plain, integer and LZF strings, strings with TTLs, other types, two dbs);
 * every outcome is judged by what the target holds, read back key by key against the source server:
 * an empty target gets every value; existing keys under --on-conflict error / skip / replace are failed /
 * skipped / overwritten one by one (MSETNX sets none when one exists: its keys go again one by one); a target
 * out of memory fails every key of the refused commands, none lost from the count; a merging --db-map and a
 * cluster-less check that the batches are only used where key order cannot matter.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { parseDbMap } from '../../src/sinks/redis/db-map.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { restoreInto } from './helpers.js';

const STRINGS = 1000;
const CENTURY_MS = 100 * 365 * 86_400_000;

function valueOf(i: number): string {
  switch (i % 4) {
    case 0:
      return String(i * 7919 - 3000000); // integer encodings
    case 1:
      return `value:${i}`.padEnd(64, 'x'); // LZF
    case 2:
      return `v${i}`;
    default:
      return Buffer.from([i & 255, 0, 255, 13, 10, (i >> 8) & 255]).toString('latin1');
  }
}

describe('strings batched into MSET / MSETNX', () => {
  let source: RedisServer;
  let target: RedisServer;
  let src: Redis;
  let tgt: Redis;
  let rdbFile: string;
  before(async () => {
    source = await startRedis();
    target = await startRedis({ config: { maxmemory: '0' } });
    src = source.client();
    tgt = target.client();
    const p = src.pipeline();
    for (let i = 0; i < STRINGS; i++) p.set(`s:${i}`, Buffer.from(valueOf(i), 'latin1'));
    // TTLs a century away by the server's clock: alive at any date the suite's clock is moved to (+1y, +10y)
    for (let i = 0; i < 50; i++) p.set(`ttl:${i}`, `t${i}`, 'PX', CENTURY_MS + i);
    p.rpush('list', 'a', 'b');
    p.hset('hash', 'f', 'v');
    p.select(1);
    for (let i = 0; i < 100; i++) p.set(`s:${i}`, `db1-${i}`);
    p.select(0);
    await p.exec();
    await src.save();
    rdbFile = `${source.dir}/dump.rdb`;
  });
  after(async () => {
    src?.disconnect();
    tgt?.disconnect();
    await source?.stop();
    await target?.stop();
  });

  /** Every key of db `db` on the target equals the source's (DUMP payloads: same server version). */
  async function assertSameAsSource(db: number, except: Set<string> = new Set()): Promise<void> {
    await src.select(db);
    await tgt.select(db);
    const keys = (await src.keys('*')).filter((k) => !except.has(k));
    for (const k of keys) {
      assert.deepEqual(await tgt.dumpBuffer(k), await src.dumpBuffer(k), `db ${db} key ${k}`);
    }
    await src.select(0);
    await tgt.select(0);
  }

  it('an empty target gets every key; the strings without TTL went by MSETNX', async () => {
    await tgt.flushall();
    const run = await restoreInto(target, { input: rdbFile, connections: 2 });
    assert.equal(run.counters.failed, 0);
    assert.equal(run.counters.keysWritten, STRINGS + 50 + 2 + 100);
    assert.equal(run.stats.stringBatched, STRINGS + 100, 'every string without a TTL, in both dbs');
    await assertSameAsSource(0);
    await assertSameAsSource(1);
    const info = await tgt.info('commandstats');
    assert.match(info, /cmdstat_msetnx:calls=\d+/);
  });

  for (const mode of ['error', 'skip', 'replace'] as const) {
    it(`existing keys under --on-conflict ${mode}: exactly those keys are ${mode === 'replace' ? 'overwritten' : mode === 'skip' ? 'skipped' : 'failed'}`, async () => {
      await tgt.flushall();
      const existing = ['s:5', 's:500', 's:999'];
      await tgt.set('s:5', 'old-5');
      await tgt.set('s:500', 'old-500');
      await tgt.rpush('s:999', 'a list');
      const run = await restoreInto(target, { input: rdbFile, onConflict: mode, onError: 'skip' });
      const total = STRINGS + 50 + 2 + 100;
      if (mode === 'replace') {
        assert.equal(run.counters.keysWritten, total);
        await assertSameAsSource(0);
      } else {
        assert.equal(run.counters.keysWritten, total - existing.length);
        if (mode === 'skip') {
          assert.equal(run.counters.skipped.get('conflict'), existing.length);
          assert.equal(run.counters.failed, 0);
        } else {
          assert.equal(run.counters.failed, existing.length);
          const failedKeys = run.counters.failures.map((f) => f.key?.toString()).sort();
          assert.deepEqual(failedKeys, [...existing].sort());
          for (const f of run.counters.failures) assert.match(f.message, /exists in the target/);
        }
        assert.equal(await tgt.get('s:5'), 'old-5', 'left alone');
        assert.equal(await tgt.get('s:500'), 'old-500', 'left alone');
        assert.deepEqual(await tgt.lrange('s:999', 0, -1), ['a list'], 'left alone');
        await assertSameAsSource(0, new Set(existing));
      }
      await assertSameAsSource(1);
    });
  }

  it('a target out of memory: every key of a refused MSETNX is failed and named, none lost from the count', async () => {
    await tgt.flushall();
    await tgt.config('SET', 'maxmemory-policy', 'noeviction');
    const used = Number(/used_memory:(\d+)/.exec(await tgt.info('memory'))![1]);
    // room for some keys, not for all
    await tgt.config('SET', 'maxmemory', String(used + 40_000));
    try {
      const run = await restoreInto(target, { input: rdbFile, onError: 'skip' });
      const total = STRINGS + 50 + 2 + 100;
      assert.ok(run.counters.failed > 0, 'some refused');
      assert.equal(run.counters.keysWritten + run.counters.failed, total, 'every key counted once');
      const held = Number(
        /keys=(\d+)/.exec((await tgt.info('keyspace')).split('\n').find((l) => l.startsWith('db0')) ?? 'keys=0')![1],
      );
      const held1 = /db1:keys=(\d+)/.exec(await tgt.info('keyspace'));
      assert.equal(
        held + Number(held1?.[1] ?? 0),
        run.counters.keysWritten,
        'the target holds exactly the keys counted written',
      );
      for (const f of run.counters.failures) assert.match(f.message, /OOM/);
    } finally {
      await tgt.config('SET', 'maxmemory', '0');
    }
  });

  it('a user allowed RESTORE but not MSET/MSETNX (NOPERM): every key still written, by RESTORE', async () => {
    const limited = await startRedis({
      users: [{ name: 'loader', password: 'pw', rules: '~* &* +@all -mset -msetnx' }],
    });
    try {
      const run = await restoreInto({ ...limited, username: 'loader', password: 'pw' }, { input: rdbFile });
      assert.equal(run.counters.failed, 0);
      assert.equal(run.counters.keysWritten, STRINGS + 50 + 2 + 100);
      assert.equal(run.stats.stringBatched, 0, 'the refused batches went again as RESTOREs');
      const c = limited.client({ username: 'loader', password: 'pw' });
      try {
        for (let i = 0; i < STRINGS; i += 37) {
          assert.deepEqual(await c.getBuffer(`s:${i}`), Buffer.from(valueOf(i), 'latin1'), `s:${i}`);
        }
      } finally {
        c.disconnect();
      }
    } finally {
      await limited.stop();
    }
  });

  it('dbs merged by --db-map: no batching (the order of equal keys decides), same result as RESTORE', async () => {
    await tgt.flushall();
    const run = await restoreInto(target, { input: rdbFile, dbMap: parseDbMap('*:0'), onConflict: 'replace' });
    assert.equal(run.stats.stringBatched, 0);
    assert.equal(run.counters.failed, 0);
    // db 1 came after db 0 in the file: its 100 strings replaced db 0's of the same names
    for (let i = 0; i < 100; i++) assert.equal(await tgt.get(`s:${i}`), `db1-${i}`);
    assert.equal(await tgt.get('s:100'), valueOf(100));
  });
});
