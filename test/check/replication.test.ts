/**
 * How check reads a live source: through one replication snapshot per master (the default), what that costs the
 * source (one full sync, INFO stats sync_full), the fall-back to SCAN where the source refuses replication (the
 * ElastiCache mimic), big keys of the snapshot compared in chunks against the live source, a cluster source (one
 * snapshot per master), and an RDB file's big keys read again from the file. Expected results come from the
 * servers (the injected difference, the servers' own counters), never from shake's output.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startCluster, type RedisCluster } from '../harness/cluster.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { loadExpected, repoRoot } from '../helpers/load-records.js';
import { CheckError } from '../../src/check/side.js';
import { check, conn, NO_SYNC_DELAY, triples } from './helpers.js';
import { runCheck } from '../../src/pipelines/check.js';
import type { Difference } from '../../src/check/problems.js';

async function syncFull(c: Redis): Promise<number> {
  return Number(/sync_full:(\d+)/.exec(await c.info('stats'))![1]);
}

describe('shake check: the source read through replication', () => {
  const fx = loadExpected('redis-7.0');
  let source: RedisServer;
  let target: RedisServer;
  let mimic: RedisServer;
  let src: Redis;
  let tgt: Redis;
  before(async () => {
    [source, target, mimic] = await Promise.all([
      startRedis({ rdbFile: fx.rdbFile, config: NO_SYNC_DELAY }),
      startRedis({ rdbFile: fx.rdbFile }),
      startRedis({ rdbFile: fx.rdbFile, elasticache: true }),
    ]);
    src = source.client();
    tgt = target.client();
  });
  after(async () => {
    src?.disconnect();
    tgt?.disconnect();
    await Promise.all([source?.stop(), target?.stop(), mimic?.stop()]);
  });

  test('one full sync on the source (INFO stats sync_full), every key compared, equal', async () => {
    const before = await syncFull(src);
    const r = await check(source, target, { sourceRead: 'auto' });
    assert.deepEqual(triples(r.diffs), []);
    assert.equal(r.summary.exitCode, 0);
    assert.equal((await syncFull(src)) - before, 1);
    assert.equal(r.summary.stats.snapshots, 1);
    assert.equal(r.summary.stats.scannedMasters, 0);
    assert.ok(r.summary.stats.snapshotBytes > 0);
    const dbsize = (await src.info('keyspace')).match(/keys=(\d+)/g)!.reduce((n, m) => n + Number(m.slice(5)), 0);
    assert.equal(r.summary.stats.compared, dbsize);
  });

  test('ElastiCache mimic (SYNC/PSYNC renamed away): auto reads it by SCAN, says so, and finds the difference', async () => {
    const m = mimic.client();
    const [key] = (await m.scanBuffer('0', 'COUNT', 1000, 'TYPE', 'string'))[1];
    assert.ok(key);
    const value = await m.getBuffer(key);
    await tgt.set(key, 'changed', 'KEEPTTL');
    try {
      const notices: string[] = [];
      const r = await check(mimic, target, { onNotice: (n) => notices.push(n) });
      assert.deepEqual(triples(r.diffs), [[0, key.toString('latin1'), 'value']]);
      assert.equal(r.summary.stats.snapshots, 0);
      assert.equal(r.summary.stats.scannedMasters, 1);
      assert.ok(
        notices.some((n) => /refused replication.*reading it by SCAN/.test(n)),
        notices.join('\n'),
      );
      await assert.rejects(check(mimic, target, { sourceRead: 'replication' }), (err: Error) => {
        assert.ok(err instanceof CheckError);
        assert.match(err.message, /--source-read scan/);
        return true;
      });
    } finally {
      await tgt.set(key, value!, 'KEEPTTL');
      m.disconnect();
    }
  });

  test('an ACL user without PSYNC/SYNC/REPLCONF: auto reads by SCAN; replication fails naming --source-read scan', async () => {
    const locked = await startRedis({
      rdbFile: fx.rdbFile,
      users: [{ name: 'norepl', password: 'pw', rules: '~* &* +@all -psync -sync -replconf' }],
    });
    try {
      const as = { host: locked.host, port: locked.port, username: 'norepl', password: 'pw' };
      const notices: string[] = [];
      const diffs: Difference[] = [];
      const r = await runCheck({
        source: as,
        target: conn(target),
        rounds: 0,
        onNotice: (n) => notices.push(n),
        onDifference: (d) => diffs.push(d),
      });
      assert.deepEqual(triples(diffs), []);
      assert.equal(r.stats.scannedMasters, 1);
      assert.ok(
        notices.some((n) => /refused replication.*(PSYNC|REPLCONF|SYNC).*reading it by SCAN/.test(n)),
        notices.join('\n'),
      );
      await assert.rejects(
        runCheck({ source: as, target: conn(target), rounds: 0, sourceRead: 'replication' }),
        (err: Error) =>
          err instanceof CheckError && /--source-read scan/.test(err.message) && !/--mode/.test(err.message),
      );
    } finally {
      await locked.stop();
    }
  });

  test('big keys of the snapshot are compared in chunks against the live source: equal, then one element', async () => {
    const opts = { bigKeyThreshold: 64 * 1024, chunk: 1000 };
    const already = (await check(source, target, opts)).summary.stats.bigKeys;
    const elements = Array.from({ length: 20_000 }, (_, i) => `element-${i}`);
    const fields = elements.flatMap((e, i) => [`field-${i}`, e]);
    const randomBytes = (n: number): Buffer => {
      const b = Buffer.alloc(n);
      let x = 12345;
      for (let i = 0; i < n; i++) b[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
      return b;
    };
    for (const c of [src, tgt]) {
      await c.rpush('rp:list', ...elements);
      await c.hset('rp:hash', ...fields);
      // Bytes no compression shrinks: big in the snapshot as in memory.
      await c.set('rp:string', randomBytes(300_000));
    }
    try {
      const equal = await check(source, target, opts);
      assert.deepEqual(triples(equal.diffs), []);
      assert.equal(equal.summary.stats.bigKeys, already + 3);
      assert.equal(equal.summary.stats.snapshots, 1);
      await tgt.lset('rp:list', 12_345, 'other');
      const r = await check(source, target, opts);
      assert.deepEqual(triples(r.diffs), [[0, 'rp:list', 'value']]);
      assert.equal(r.diffs[0]!.detail.what, 'element');
      assert.equal(r.diffs[0]!.detail.index, 12_345);
      assert.equal(String(r.diffs[0]!.detail.target), await tgt.lindex('rp:list', 12_345));
    } finally {
      for (const c of [src, tgt]) await c.del('rp:list', 'rp:hash', 'rp:string');
    }
  });

  test('an RDB file source: its big keys read again from the file, one hash field changed on the target', async () => {
    const [key] = (await tgt.scanBuffer('0', 'COUNT', 1000, 'TYPE', 'hash'))[1];
    assert.ok(key);
    const [field, value] = await tgt.hgetallBuffer(key).then((h) => Object.entries(h)[0]!);
    const equal = await check({ rdbFile: fx.rdbFile! }, target, { bigKeyThreshold: 1 });
    assert.deepEqual(triples(equal.diffs), []);
    assert.equal(equal.summary.stats.bigKeys, equal.summary.stats.compared);
    await tgt.hset(key, field, 'changed');
    try {
      const r = await check({ rdbFile: fx.rdbFile! }, target, { bigKeyThreshold: 1 });
      assert.deepEqual(triples(r.diffs), [[0, key.toString('latin1'), 'value']]);
      assert.equal(String(r.diffs[0]!.detail.field), field);
    } finally {
      await tgt.hset(key, field, value);
    }
  });
});

describe('shake check: a cluster source read through replication, one snapshot per master', () => {
  let cluster: RedisCluster;
  let single: RedisServer;
  before(async () => {
    [cluster, single] = await Promise.all([startCluster({ masters: 3, config: NO_SYNC_DELAY }), startRedis()]);
    const cc = cluster.client();
    const sc = single.client();
    for (let i = 0; i < 300; i++) {
      await cc.set(`k:${i}`, `v${i}`);
      await sc.set(`k:${i}`, `v${i}`);
    }
    cc.disconnect();
    sc.disconnect();
  });
  after(async () => {
    await Promise.all([cluster?.stop(), single?.stop()]);
  });

  test('each master syncs once; a key deleted on the target is missing', async () => {
    const masters = cluster.masters().map((m) => m.server.client());
    const sc = single.client();
    try {
      const before = await Promise.all(masters.map(syncFull));
      const source = { host: '127.0.0.1', port: cluster.masters()[0]!.port } as unknown as RedisServer;
      const equal = await check(source, single);
      assert.deepEqual(triples(equal.diffs), []);
      assert.equal(equal.summary.stats.snapshots, 3);
      assert.equal(equal.summary.stats.compared, 300);
      const after = await Promise.all(masters.map(syncFull));
      assert.deepEqual(
        after.map((n, i) => n - before[i]!),
        [1, 1, 1],
      );
      await sc.del('k:42');
      const r = await check(source, single);
      assert.deepEqual(triples(r.diffs), [[0, 'k:42', 'missing']]);
    } finally {
      await sc.set('k:42', 'v42');
      sc.disconnect();
      for (const m of masters) m.disconnect();
    }
  });
});

describe('shake check: big keys through the replication read, memory bounded', () => {
  const child = join(repoRoot, 'dist', 'test', 'check', 'child', 'check-child.js');
  const STRING_BYTES = 150 * 1024 * 1024;
  let source: RedisServer;
  let target: RedisServer;
  before(async () => {
    [source, target] = await Promise.all([
      startRedis({ config: NO_SYNC_DELAY }),
      startRedis({ config: NO_SYNC_DELAY }),
    ]);
    for (const s of [source, target]) {
      const c = s.client();
      // 150 MB of zero bytes ending in 'x', and a list of 200k elements.
      await c.setrange('big:string', STRING_BYTES - 1, 'x');
      for (let i = 0; i < 200_000; i += 10_000) {
        await c.rpush('big:list', ...Array.from({ length: 10_000 }, (_, j) => `element-${i + j}`));
      }
      c.disconnect();
    }
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  function run(targetRead: 'replication' | 'commands'): {
    maxRssKb: number;
    bigKeys: number;
    snapshots: number;
    targetSnapshots: number;
    diffs: { key: string; problem: string; detail: Record<string, unknown> }[];
  } {
    // A 64 MB heap cap: a big value held whole as JS objects would abort the child.
    const res = spawnSync(
      process.execPath,
      [
        '--max-old-space-size=64',
        child,
        `${source.host}:${source.port}`,
        `${target.host}:${target.port}`,
        String(1 << 20),
        'replication',
        targetRead,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(res.status, 0, res.stderr);
    return JSON.parse(res.stdout) as ReturnType<typeof run>;
  }

  for (const targetRead of ['replication', 'commands'] as const) {
    test(`a 150 MB string and a 200k-element list: compared in chunks, peak RSS < 200 MB; then one byte (target read: ${targetRead})`, async () => {
      const equal = run(targetRead);
      assert.deepEqual(equal.diffs, []);
      assert.equal(equal.snapshots, 1);
      assert.equal(equal.targetSnapshots, targetRead === 'replication' ? 1 : 0);
      // Joined, the string's snapshot bytes (LZF: about 1.7 MB) are equal on both sides: compared by digest.
      assert.equal(equal.bigKeys, targetRead === 'replication' ? 1 : 2);
      console.log(
        `big keys through replication (target: ${targetRead}): peak RSS ${(equal.maxRssKb / 1024).toFixed(0)} MB`,
      );
      assert.ok(equal.maxRssKb < 200 * 1024, `peak RSS ${equal.maxRssKb} KB`);
      const t = target.client();
      try {
        await t.setrange('big:string', 100_000_000, 'y');
        const r = run(targetRead);
        assert.deepEqual(
          r.diffs.map((d) => [d.key, d.problem, d.detail.what, d.detail.firstDifferenceAt]),
          [['big:string', 'value', 'bytes', 100_000_000]],
        );
        assert.ok(r.maxRssKb < 200 * 1024, `peak RSS ${r.maxRssKb} KB`);
      } finally {
        await t.setrange('big:string', 100_000_000, '\0');
        t.disconnect();
      }
    });
  }
});
