/**
 * shake check between two standalone servers holding the same data (the 7.0 fixture loaded into both: every
 * type, several dbs, TTLs, a function library): equal as loaded; then, one test per kind of difference, each
 * injects exactly one difference and asserts that exactly that key is reported with that problem, the detail
 * holding what the servers hold.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { loadExpected } from '../helpers/load-records.js';
import { check as checkWith, NO_SYNC_DELAY, triples } from './helpers.js';

// Every case three times: both sides read through one replication snapshot and joined by key (the default),
// the source by snapshot and the target per key, and both per key (SCAN).
const MODES = [
  { sourceRead: 'replication', targetRead: 'replication' },
  { sourceRead: 'replication', targetRead: 'commands' },
  { sourceRead: 'scan', targetRead: 'commands' },
] as const;
for (const { sourceRead, targetRead } of MODES) {
  const joined = targetRead === 'replication';
  describe(`shake check: standalone vs standalone, one difference at a time (read: ${sourceRead}/${targetRead})`, () => {
    const check: typeof checkWith = (s, t, o = {}) => checkWith(s, t, { sourceRead, targetRead, ...o });
    const fx = loadExpected('redis-7.0');
    let source: RedisServer;
    let target: RedisServer;
    let src: Redis;
    let tgt: Redis;
    before(async () => {
      [source, target] = await Promise.all([
        startRedis({ rdbFile: fx.rdbFile, config: NO_SYNC_DELAY }),
        startRedis({ rdbFile: fx.rdbFile, config: NO_SYNC_DELAY }),
      ]);
      src = source.client();
      tgt = target.client();
    });
    after(async () => {
      src?.disconnect();
      tgt?.disconnect();
      await Promise.all([source?.stop(), target?.stop()]);
    });

    // Every test's keys are named ck:*, in db 0 or 7; deleted on both sides after each test.
    afterEach(async () => {
      for (const c of [src, tgt]) {
        for (const db of [7, 0]) {
          await c.select(db);
          const keys = await c.keys('ck:*');
          if (keys.length > 0) await c.del(...keys);
        }
      }
    });

    /** Writes the same keys on both sides with `make`, lets `inject` change one side, then checks. */
    async function scenario(
      _keys: string[],
      make: (c: Redis) => Promise<unknown>,
      inject: () => Promise<unknown>,
      db = 0,
    ): Promise<Awaited<ReturnType<typeof check>>> {
      for (const c of [src, tgt]) {
        await c.select(db);
        await make(c);
      }
      await inject();
      const r = await check(source, target);
      for (const c of [src, tgt]) await c.select(db);
      return r;
    }

    test('the same data on both sides: exit 0, nothing reported, every key compared', async () => {
      const { summary, diffs } = await check(source, target);
      assert.deepEqual(triples(diffs), []);
      assert.equal(summary.exitCode, 0);
      const dbsize = (await src.info('keyspace')).match(/keys=(\d+)/g)!.reduce((n, m) => n + Number(m.slice(5)), 0);
      assert.equal(summary.stats.compared, dbsize);
      assert.equal(summary.stats.equal, dbsize);
      assert.ok(summary.stats.payloadEqual > 0);
      assert.equal(summary.stats.functions, 1);
      assert.equal(summary.stats.snapshots, sourceRead === 'replication' ? 1 : 0);
      assert.equal(summary.stats.scannedMasters, sourceRead === 'scan' ? 1 : 0);
      const dbs = (await tgt.info('keyspace')).match(/^db\d+:/gm)!.length;
      if (joined) {
        // The target's snapshot held every key; the join needs no extra-keys scan.
        assert.equal(summary.stats.targetSnapshots, 1);
        assert.equal(summary.stats.targetSnapshotKeys, dbsize);
        assert.ok(summary.stats.joinCandidates < dbsize, String(summary.stats.joinCandidates));
        assert.equal(summary.stats.targetScanned, 0);
      } else {
        // Every target db holds exactly the source keys found there: no db needs the extra-keys scan.
        assert.equal(summary.stats.targetSnapshots, 0);
        assert.equal(summary.stats.extraScanSkipped, dbs);
        assert.equal(summary.stats.targetScanned, 0);
      }
    });

    test('extra and missing in one db: the target key count equals the source count, yet both are found', async () => {
      const r = await scenario(
        ['ck:gone', 'ck:new'],
        (c) => c.set('ck:gone', 'v'),
        async () => {
          await tgt.del('ck:gone');
          await tgt.set('ck:new', 'x');
        },
      );
      const got = triples(r.diffs).sort((a, b) => String(a[1]).localeCompare(String(b[1])));
      assert.deepEqual(got, [
        [0, 'ck:gone', 'missing'],
        [0, 'ck:new', 'extra'],
      ]);
      if (joined) assert.ok(r.summary.stats.targetSnapshotKeys > 0);
      else assert.ok(r.summary.stats.targetScanned > 0);
    });

    test('missing: a key deleted on the target', async () => {
      const r = await scenario(
        ['ck:missing'],
        (c) => c.set('ck:missing', 'v'),
        () => tgt.del('ck:missing'),
      );
      assert.deepEqual(triples(r.diffs), [[0, 'ck:missing', 'missing']]);
      assert.equal(r.summary.exitCode, 1);
    });

    test('extra: a key only on the target; extra = false skips that scan', async () => {
      const r = await scenario(
        ['ck:extra'],
        async () => {},
        () => tgt.set('ck:extra', 'x'),
      );
      assert.deepEqual(triples(r.diffs), [[0, 'ck:extra', 'extra']]);
      await tgt.set('ck:extra', 'x');
      try {
        const skipped = await check(source, target, { extra: false });
        assert.deepEqual(triples(skipped.diffs), []);
        assert.equal(skipped.summary.stats.targetScanned, 0);
      } finally {
        await tgt.del('ck:extra');
      }
    });

    test('shake state keys (__shake:*, sync checkpoints) are never compared nor called extra', async () => {
      await tgt.set('__shake:sync:127.0.0.1:1', 'x 1 0');
      await src.set('__shake:other', 'y');
      try {
        const r = await check(source, target);
        assert.deepEqual(triples(r.diffs), []);
        assert.equal(r.summary.exitCode, 0);
      } finally {
        await tgt.del('__shake:sync:127.0.0.1:1');
        await src.del('__shake:other');
      }
    });

    test('type: a string on the source, a list on the target', async () => {
      const r = await scenario(
        ['ck:type'],
        (c) => c.set('ck:type', 'v'),
        async () => {
          await tgt.del('ck:type');
          await tgt.rpush('ck:type', 'v');
        },
      );
      assert.deepEqual(triples(r.diffs), [[0, 'ck:type', 'type']]);
      assert.deepEqual(r.diffs[0]!.detail, { source: await src.type('ck:type'), target: await tgt.type('ck:type') });
    });

    test('string bytes: one byte changed', async () => {
      const r = await scenario(
        ['ck:str'],
        (c) => c.set('ck:str', 'abcdef'),
        () => tgt.setrange('ck:str', 3, 'X'),
      );
      assert.deepEqual(triples(r.diffs), [[0, 'ck:str', 'value']]);
      assert.deepEqual(r.diffs[0]!.detail, { what: 'bytes', firstDifferenceAt: 3 });
    });

    test('list element: one element replaced', async () => {
      const r = await scenario(
        ['ck:list'],
        (c) => c.rpush('ck:list', 'a', 'b', 'c'),
        () => tgt.lset('ck:list', 1, 'B'),
      );
      assert.deepEqual(triples(r.diffs), [[0, 'ck:list', 'value']]);
      const d = r.diffs[0]!.detail;
      assert.equal(d.what, 'element');
      assert.equal(d.index, 1);
      assert.deepEqual(d.source, await src.lindexBuffer('ck:list', 1));
      assert.deepEqual(d.target, await tgt.lindexBuffer('ck:list', 1));
    });

    test('set member: one member removed on the target', async () => {
      const r = await scenario(
        ['ck:set'],
        (c) => c.sadd('ck:set', 'm1', 'm2', 'm3'),
        () => tgt.srem('ck:set', 'm2'),
      );
      assert.deepEqual(triples(r.diffs), [[0, 'ck:set', 'value']]);
      const d = r.diffs[0]!.detail;
      assert.equal(d.what, 'member');
      assert.equal((d.member as Buffer).toString(), 'm2');
      assert.equal(await src.sismember('ck:set', 'm2'), 1);
      assert.equal(await tgt.sismember('ck:set', 'm2'), 0);
    });

    test('zset score: off by one unit in the last place', async () => {
      const r = await scenario(
        ['ck:zset'],
        (c) => c.zadd('ck:zset', '1.5', 'a', '2', 'b'),
        () => tgt.zadd('ck:zset', '1.5000000000000002', 'a'),
      );
      assert.deepEqual(triples(r.diffs), [[0, 'ck:zset', 'value']]);
      const d = r.diffs[0]!.detail;
      assert.equal(d.what, 'score');
      assert.equal(d.source, Number(await src.zscore('ck:zset', 'a')));
      assert.equal(d.target, Number(await tgt.zscore('ck:zset', 'a')));
      assert.notEqual(d.source, d.target);
    });

    test('hash value: one field changed', async () => {
      const r = await scenario(
        ['ck:hash'],
        (c) => c.hset('ck:hash', 'f', 'v', 'g', 'w'),
        () => tgt.hset('ck:hash', 'g', 'W'),
      );
      assert.deepEqual(triples(r.diffs), [[0, 'ck:hash', 'value']]);
      const d = r.diffs[0]!.detail;
      assert.equal((d.field as Buffer).toString(), 'g');
      assert.deepEqual(d.source, await src.hgetBuffer('ck:hash', 'g'));
      assert.deepEqual(d.target, await tgt.hgetBuffer('ck:hash', 'g'));
    });

    test('TTL moved by 1 ms is reported exactly (PEXPIRETIME on both)', async () => {
      const at = 4_102_444_800_000; // 2100-01-01, far from any test run
      const r = await scenario(
        ['ck:ttl'],
        (c) => c.set('ck:ttl', 'v', 'PXAT', at),
        () => tgt.pexpireat('ck:ttl', at + 1),
      );
      assert.deepEqual(triples(r.diffs), [[0, 'ck:ttl', 'ttl']]);
      assert.deepEqual(r.diffs[0]!.detail, {
        change: 'moved',
        source: Number(await src.pexpiretime('ck:ttl')),
        target: Number(await tgt.pexpiretime('ck:ttl')),
      });
    });

    test('TTL added on the target', async () => {
      const at = 4_102_444_800_000;
      const added = await scenario(
        ['ck:ttl2'],
        (c) => c.set('ck:ttl2', 'v'),
        () => tgt.pexpireat('ck:ttl2', at),
      );
      assert.deepEqual(triples(added.diffs), [[0, 'ck:ttl2', 'ttl']]);
      assert.deepEqual(added.diffs[0]!.detail, { change: 'added', source: null, target: at });
    });

    test('TTL removed on the target', async () => {
      const at = 4_102_444_800_000;
      const removed = await scenario(
        ['ck:ttl3'],
        (c) => c.set('ck:ttl3', 'v', 'PXAT', at),
        () => tgt.persist('ck:ttl3'),
      );
      assert.deepEqual(triples(removed.diffs), [[0, 'ck:ttl3', 'ttl']]);
      assert.deepEqual(removed.diffs[0]!.detail, { change: 'removed', source: at, target: null });
    });

    const stream = async (c: Redis): Promise<void> => {
      await c.xadd('ck:stream', '1-1', 'f', 'a');
      await c.xadd('ck:stream', '2-1', 'f', 'b');
      await c.xadd('ck:stream', '3-1', 'f', 'c');
      await c.xgroup('CREATE', 'ck:stream', 'g1', '0');
      await c.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', '2', 'STREAMS', 'ck:stream', '>');
    };

    test('stream entry: one entry field changed (same ids)', async () => {
      const r = await scenario(
        ['ck:stream'],
        async (c) => {
          await c.xadd('ck:stream', '1-1', 'f', 'a');
          await c.xadd('ck:stream', '2-1', 'f', c === tgt ? 'B' : 'b');
        },
        async () => {},
      );
      assert.deepEqual(triples(r.diffs), [[0, 'ck:stream', 'value']]);
      assert.deepEqual(r.diffs[0]!.detail, { what: 'entry', id: '2-1', detail: 'fields differ' });
    });

    test('stream PEL: one pending entry acknowledged on the target', async () => {
      const r = await scenario(['ck:stream'], stream, () => tgt.xack('ck:stream', 'g1', '2-1'));
      assert.deepEqual(triples(r.diffs), [[0, 'ck:stream', 'value']]);
      assert.deepEqual(r.diffs[0]!.detail, {
        what: 'pending entry',
        group: Buffer.from('g1'),
        id: '2-1',
        source: true,
        target: false,
      });
    });

    test('stream consumer: one more consumer on the target', async () => {
      const r = await scenario(['ck:stream'], stream, () => tgt.xgroup('CREATECONSUMER', 'ck:stream', 'g1', 'bob'));
      assert.deepEqual(triples(r.diffs), [[0, 'ck:stream', 'value']]);
      assert.deepEqual(r.diffs[0]!.detail, {
        what: 'consumer',
        group: Buffer.from('g1'),
        consumer: Buffer.from('bob'),
        source: false,
        target: true,
      });
    });

    test('another db: the difference is reported with its db', async () => {
      const r = await scenario(
        ['ck:db'],
        (c) => c.set('ck:db', 'v'),
        async () => {
          await tgt.select(7);
          await tgt.set('ck:db', 'w');
        },
        7,
      );
      assert.deepEqual(triples(r.diffs), [[7, 'ck:db', 'value']]);
    });

    test('function library: deleted on the target', async () => {
      const libs = (await src.call('FUNCTION', 'LIST', 'WITHCODE')) as unknown[][];
      const code = String(libs[0]![libs[0]!.indexOf('library_code') + 1]);
      await tgt.call('FUNCTION', 'DELETE', 'corpuslib_s1');
      try {
        const r = await check(source, target);
        assert.deepEqual(triples(r.diffs), [[null, null, 'function']]);
        assert.deepEqual(r.diffs[0]!.detail, { library: 'corpuslib_s1', what: 'missing on the target' });
      } finally {
        await tgt.call('FUNCTION', 'LOAD', code);
      }
    });

    test('encodings differ (listpack vs hashtable/skiplist/quicklist) and the values are equal: nothing reported', async () => {
      await tgt.config('SET', 'set-max-intset-entries', '1');
      await tgt.config('SET', 'hash-max-listpack-entries', '1');
      await tgt.config('SET', 'zset-max-listpack-entries', '1');
      try {
        const r = await scenario(
          ['ck:e1', 'ck:e2', 'ck:e3'],
          async (c) => {
            await c.sadd('ck:e1', '1', '2', '3');
            await c.hset('ck:e2', 'a', '1', 'b', '2');
            await c.zadd('ck:e3', '1', 'a', '2', 'b');
          },
          async () => {
            assert.equal(await tgt.object('ENCODING', 'ck:e1'), 'hashtable');
            assert.equal(await src.object('ENCODING', 'ck:e1'), 'intset');
          },
        );
        assert.deepEqual(triples(r.diffs), []);
      } finally {
        await tgt.config('SET', 'set-max-intset-entries', '512');
        await tgt.config('SET', 'hash-max-listpack-entries', '128');
        await tgt.config('SET', 'zset-max-listpack-entries', '128');
      }
    });

    test('big keys compared in chunks: equal, then one member / element / field / entry changed', async () => {
      const n = 2500;
      const make = async (c: Redis): Promise<void> => {
        const p = c.pipeline();
        for (let i = 0; i < n; i += 500) {
          const members = Array.from({ length: 500 }, (_, j) => `m${i + j}`);
          p.sadd('ck:bset', ...members);
          p.rpush('ck:blist', ...members);
          p.hset('ck:bhash', ...members.flatMap((m) => [m, `v${m}`]));
          p.zadd('ck:bzset', ...members.flatMap((m, j) => [String((i + j) / 7), m]));
        }
        p.set('ck:bstr', 'x'.repeat(300_000));
        for (let i = 1; i <= n; i++) p.xadd('ck:bstream', `${i}-0`, 'f', String(i));
        await p.exec();
      };
      const keys = ['ck:bset', 'ck:blist', 'ck:bhash', 'ck:bzset', 'ck:bstr', 'ck:bstream'];
      const opts = { bigKeyThreshold: 1024, chunk: 100 };
      for (const c of [src, tgt]) await make(c);
      try {
        const equal = await check(source, target, opts);
        assert.deepEqual(triples(equal.diffs), []);
        assert.ok(equal.summary.stats.bigKeys >= keys.length, String(equal.summary.stats.bigKeys));
        await tgt.srem('ck:bset', 'm1999');
        await tgt.lset('ck:blist', 2100, 'changed');
        await tgt.hset('ck:bhash', 'm7', 'changed');
        await tgt.zadd('ck:bzset', '1e9', 'm1234');
        await tgt.setrange('ck:bstr', 250_000, 'y');
        await tgt.xdel('ck:bstream', '2001-0');
        const r = await check(source, target, opts);
        const byKey = new Map(r.diffs.map((d) => [d.key!.toString(), d]));
        assert.deepEqual(
          triples(r.diffs)
            .map((t) => t[1])
            .sort(),
          [...keys].sort(),
        );
        const detail = (k: string): Record<string, unknown> => byKey.get(k)!.detail;
        assert.deepEqual(
          { ...detail('ck:bset'), member: String(detail('ck:bset').member) },
          {
            what: 'member',
            member: 'm1999',
            source: true,
            target: false,
          },
        );
        assert.equal(detail('ck:blist').index, 2100);
        assert.equal(String(detail('ck:bhash').field), 'm7');
        assert.equal(String(detail('ck:bzset').member), 'm1234');
        assert.equal(detail('ck:bzset').target, Number(await tgt.zscore('ck:bzset', 'm1234')));
        assert.equal(detail('ck:bstr').firstDifferenceAt, 250_000);
        assert.equal(detail('ck:bstream').index, 2000);
      } finally {
        for (const c of [src, tgt]) await c.del(...keys);
      }
    });
  });
}
