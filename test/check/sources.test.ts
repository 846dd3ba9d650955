/**
 * Other sources and targets: an RDB file as the source (a restore checked against its input: the target
 * loaded from the same file), a cluster source against a standalone target and back, db map and filters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Cluster, Redis } from 'ioredis';
import { startCluster, type RedisCluster } from '../harness/cluster.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { loadExpected } from '../helpers/load-records.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheck } from '../../src/pipelines/check.js';
import { runDump } from '../../src/pipelines/dump.js';
import type { Difference } from '../../src/check/problems.js';
import { CheckError } from '../../src/check/side.js';
import { check, triples, NO_SYNC_DELAY } from './helpers.js';

// The file read with the parser and joined with the target's replication snapshot (the default, where the target
// allows replication), or the target read per key.
for (const targetRead of ['replication', 'commands'] as const) {
  const joined = targetRead === 'replication';
  describe(`shake check: an RDB file as the source (target read: ${targetRead})`, () => {
    const fx = loadExpected('redis-7.0');
    let target: RedisServer;
    let tgt: Redis;
    before(async () => {
      target = await startRedis({ rdbFile: fx.rdbFile, config: NO_SYNC_DELAY });
      tgt = target.client();
    });
    after(async () => {
      tgt?.disconnect();
      await target?.stop();
    });

    test('the server loaded from the file equals the file', async () => {
      const r = await check({ rdbFile: fx.rdbFile! }, target, { targetRead });
      assert.deepEqual(triples(r.diffs), []);
      assert.equal(r.summary.exitCode, 0);
      const loaded = (await tgt.info('keyspace')).match(/keys=(\d+)/g)!.reduce((n, m) => n + Number(m.slice(5)), 0);
      assert.equal(r.summary.stats.compared, loaded);
      assert.equal(r.summary.stats.equal, loaded);
      assert.equal(r.summary.stats.functions, 1);
      assert.equal(r.summary.stats.targetSnapshots, joined ? 1 : 0);
      if (!joined) {
        // auto: a target this small is read per key (see FILE_JOIN_MIN_KEYS).
        const auto = await check({ rdbFile: fx.rdbFile! }, target);
        assert.equal(auto.summary.stats.targetSnapshots, 0);
        assert.equal(auto.summary.stats.equal, loaded);
      }
    });

    test('a damaged file (a byte changed inside a value): an error naming the file and its checksum', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'shake-check-bad-'));
      try {
        const bad = join(dir, 'bad.rdb');
        const data = readFileSync(fx.rdbFile!);
        // 200 bytes before the end: inside the last keys' values, where only the CRC can tell.
        data[data.length - 200]! ^= 0x01;
        writeFileSync(bad, data);
        await assert.rejects(check({ rdbFile: bad }, target, { targetRead }), (err: Error) => {
          assert.ok(err instanceof CheckError, String(err));
          assert.match(err.message, /bad\.rdb.*checksum/);
          return true;
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    // Big keys too: every key above 100 bytes is read again from the file and compared as a value.
    for (const bigKeyThreshold of [undefined, 100]) {
      test(`one changed key, one extra key and one missing key are reported (big keys: ${bigKeyThreshold ?? 'default'})`, async () => {
        // Keys as bytes (SCAN's order varies with the server's hash seed: any key, binary or not, may come first).
        const [b1, b2] = (await tgt.scanBuffer('0', 'COUNT', 1000, 'TYPE', 'string'))[1];
        assert.ok(b1 && b2);
        const [k1, k2] = [b1.toString('latin1'), b2.toString('latin1')];
        const v1 = await tgt.getBuffer(b1);
        const v2 = await tgt.dumpBuffer(b2);
        const ttl2 = await tgt.pttl(b2);
        await tgt.set(b1, 'changed', 'KEEPTTL');
        await tgt.del(b2);
        await tgt.set('only-on-target', 'x');
        try {
          const r = await check({ rdbFile: fx.rdbFile! }, target, { targetRead, bigKeyThreshold });
          const got = triples(r.diffs).sort((a, b) => String(a[1]).localeCompare(String(b[1])));
          const want: [number, string, string][] = [
            [0, k1, 'value'],
            [0, k2, 'missing'],
            [0, 'only-on-target', 'extra'],
          ];
          assert.deepEqual(
            got,
            want.sort((a, b) => a[1].localeCompare(b[1])),
          );
          assert.equal(r.summary.stats.targetSnapshots, joined ? 1 : 0);
          if (joined && bigKeyThreshold === undefined) {
            // Candidates: the two keys that differ, the extra key, and the fixture's keys whose bytes differ on an
            // equal copy; far fewer than the file's keys.
            assert.ok(r.summary.stats.joinCandidates >= 3 && r.summary.stats.joinCandidates < 30);
          }
        } finally {
          await tgt.set(b1, v1!, 'KEEPTTL');
          await tgt.restore(b2, ttl2 > 0 ? ttl2 : 0, v2!);
          await tgt.del('only-on-target');
        }
      });
    }
  });
}

describe('shake check: cluster source vs standalone target (and back), db map, filters', () => {
  let cluster: RedisCluster;
  let single: RedisServer;
  let cc: Cluster;
  let sc: Redis;
  before(async () => {
    [cluster, single] = await Promise.all([
      startCluster({ masters: 3, config: NO_SYNC_DELAY }),
      startRedis({ config: NO_SYNC_DELAY }),
    ]);
    cc = cluster.client();
    sc = single.client();
    await sc.select(3);
    for (let i = 0; i < 600; i++) {
      const k = `user:${i}`;
      await cc.hset(k, 'name', `n${i}`, 'i', String(i));
      await sc.hset(k, 'name', `n${i}`, 'i', String(i));
      if (i % 10 === 0) {
        await cc.pexpireat(k, 4_102_444_800_000 + i);
        await sc.pexpireat(k, 4_102_444_800_000 + i);
      }
    }
    await cc.set('other:1', 'x');
  });
  after(async () => {
    cc?.disconnect();
    sc?.disconnect();
    await Promise.all([cluster?.stop(), single?.stop()]);
  });

  const clusterConn = (): { host: string; port: number } => ({ host: '127.0.0.1', port: cluster.masters()[0]!.port });

  async function run(
    source: Parameters<typeof runCheck>[0]['source'],
    target: { host: string; port: number },
    extra: Partial<Parameters<typeof runCheck>[0]> = {},
  ): Promise<Difference[]> {
    const diffs: Difference[] = [];
    await runCheck({ rounds: 0, source, target, onDifference: (d) => diffs.push(d), ...extra });
    return diffs;
  }

  test('cluster -> db 3 of a standalone server (--db-map 0:3, --key user:*): equal, then one hash field', async () => {
    const map = { dbMap: { map: new Map([[0, 3]]), rest: null }, keyGlobs: ['user:*'] };
    const single3 = { host: single.host, port: single.port };
    assert.deepEqual(triples(await run(clusterConn(), single3, map)), []);
    await sc.hset('user:77', 'name', 'changed');
    try {
      const diffs = await run(clusterConn(), single3, map);
      assert.deepEqual(triples(diffs), [[0, 'user:77', 'value']]);
      assert.equal(String(diffs[0]!.detail.field), 'name');
    } finally {
      await sc.hset('user:77', 'name', 'n77');
    }
    // Without the key filter, other:1 is missing on the target.
    const all = await run(clusterConn(), single3, { dbMap: map.dbMap });
    assert.deepEqual(triples(all), [[0, 'other:1', 'missing']]);
  });

  test('a shake dump manifest of the cluster as the source: equal, then a changed and an extra key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shake-check-manifest-'));
    try {
      const dumped = await runDump({ connection: clusterConn(), output: join(dir, 'dump.rdb'), mode: 'replication' });
      assert.equal(dumped.nodes.length, 3);
      const manifest = { rdbFile: join(dir, 'dump.manifest.json') };
      const equal = await run(manifest, clusterConn());
      assert.deepEqual(triples(equal), []);
      await cc.hset('user:5', 'name', 'changed');
      await cc.set('only-on-target', 'x');
      try {
        const got = triples(await run(manifest, clusterConn())).sort((a, b) =>
          String(a[1]).localeCompare(String(b[1])),
        );
        assert.deepEqual(got, [
          [0, 'only-on-target', 'extra'],
          [0, 'user:5', 'value'],
        ]);
      } finally {
        await cc.hset('user:5', 'name', 'n5');
        await cc.del('only-on-target');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('standalone db 3 -> cluster: extra key on the cluster found on its master, TTL moved', async () => {
    const map = { dbs: [3], dbMap: { map: new Map([[3, 0]]), rest: null } };
    await cc.pexpireat('user:10', 4_102_444_800_000 + 11);
    try {
      const diffs = await run({ host: single.host, port: single.port }, clusterConn(), map);
      const got = triples(diffs).sort((a, b) => String(a[1]).localeCompare(String(b[1])));
      assert.deepEqual(got, [
        [3, 'other:1', 'extra'],
        [3, 'user:10', 'ttl'],
      ]);
      const ttl = diffs.find((d) => d.problem === 'ttl')!.detail;
      assert.deepEqual(ttl, {
        change: 'moved',
        source: Number(await sc.pexpiretime('user:10')),
        target: Number(await cc.pexpiretime('user:10')),
      });
    } finally {
      await cc.pexpireat('user:10', 4_102_444_800_000 + 10);
    }
  });
});
