/**
 * --shard INDEX/COUNT: three processes, each given a different node of a 6-master cluster as its source address,
 * together copy every key exactly once: their node lists partition the masters (two each, by node id), the keys
 * they say they wrote add up to the source's count, and the target then holds exactly the source's keys with the
 * same values (read back from both servers). rump, sync (each master its own checkpoint) and dump (scan) alike;
 * three sharded checks compare every key once and report a missing and an extra key once each; a standalone
 * source refuses a share; the assignment does not depend on the order masters are listed in.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { parseShard, shardMasters } from '../../src/cluster/index.js';
import { startCluster, type RedisCluster } from '../harness/cluster.js';
import { emptyServer, startRedis, type RedisServer } from '../harness/redis-server.js';
import { readKeyspace, readKeyspaceCluster } from '../helpers/keyspace.js';
import { runCli, type CliResult } from '../cli/helpers/run-cli.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const COUNT = 3;

function json(r: CliResult): Json {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.toString()) as Json;
}

test('shardMasters: a partition by node id, whatever the order; parseShard refuses nonsense', () => {
  const masters = Array.from({ length: 7 }, (_, i) => ({ host: 'h', port: 7000 + i, id: `id-${(i * 5) % 7}` }));
  const shares = [0, 1, 2].map((index) => shardMasters(masters, { index, count: 3 }));
  const reversed = [0, 1, 2].map((index) => shardMasters([...masters].reverse(), { index, count: 3 }));
  assert.deepEqual(reversed, shares);
  assert.deepEqual(
    shares.map((s) => s.length),
    [3, 2, 2],
  );
  assert.deepEqual(
    shares
      .flat()
      .map((m) => m.port)
      .sort(),
    masters.map((m) => m.port).sort(),
  );
  assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 });
  for (const bad of ['3/3', '1/0', '-1/3', 'a/b', '1', '']) assert.throws(() => parseShard(bad), /INDEX\/COUNT/);
});

describe('--shard over a 6-master cluster source: 3 processes copy every key once', () => {
  let cluster: RedisCluster;
  let target: RedisServer;
  let tgt: Redis;
  let total = 0;
  const work = mkdtempSync(join(tmpdir(), 'shake-shard-'));
  before(async () => {
    [cluster, target] = await Promise.all([startCluster({ masters: 6 }), startRedis()]);
    tgt = target.client();
    const io = cluster.client();
    for (let i = 0; i < 1200; i++) await io.set(`str:${i}`, `value-${i}`);
    for (let i = 0; i < 120; i++) await io.hset(`hash:${i}`, 'f', String(i), 'g', 'x'.repeat(i));
    for (let i = 0; i < 60; i++) await io.rpush(`list:${i}`, 'a', 'b', String(i));
    await io.set('with-ttl', 'yes', 'PX', 3_600_000);
    io.disconnect();
    total = 1200 + 120 + 60 + 1;
    // Every master holds keys of its own (so a share that skipped one would show).
    for (const m of cluster.masters()) {
      const c = cluster.nodeClient(m);
      assert.ok((await c.dbsize()) > 50);
      c.disconnect();
    }
  });
  after(async () => {
    tgt?.disconnect();
    await Promise.all([cluster?.stop(), target?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  /** The 3 processes at once, each seeded with a different master's address. */
  function shards(args: (index: number, seed: string) => string[]): Promise<CliResult[]> {
    const masters = cluster.masters();
    return Promise.all(
      Array.from({ length: COUNT }, (_, i) =>
        runCli([...args(i, `redis://127.0.0.1:${masters[i * 2]!.port}`), '--shard', `${i}/${COUNT}`, '--json'], {
          cwd: work,
          timeoutMs: 120_000,
        }),
      ),
    );
  }

  async function assertTargetEqualsSource(): Promise<void> {
    assert.equal(await tgt.dbsize(), total);
    const [src, dst] = await Promise.all([readKeyspaceCluster(cluster), readKeyspace(tgt)]);
    assert.equal(src.length, total);
    assert.deepEqual(dst, src);
  }

  const seedUrl = (i: number): string => `redis://127.0.0.1:${cluster.masters()[i]!.port}`;
  const allMasters = (): string[] =>
    cluster
      .masters()
      .map((m) => `127.0.0.1:${m.port}`)
      .sort();

  test('rump: the node lists partition the masters; written keys add up to the source; values equal', async () => {
    await emptyServer(target);
    const runs = (await shards((_, seed) => ['rump', '--source', seed, '--target', target.url, '--rate', '0'])).map(
      json,
    );
    const nodes = runs.flatMap((r) => r.nodes as string[]);
    assert.deepEqual(nodes.sort(), allMasters(), 'each master read by exactly one process');
    for (const r of runs) assert.equal((r.nodes as string[]).length, 2);
    assert.equal(
      runs.reduce((n, r) => n + r.counters.keysWritten, 0),
      total,
      'written once each',
    );
    await assertTargetEqualsSource();
  });

  test('sync --until-caught-up: one link per master across the processes, each its own checkpoint', async () => {
    await emptyServer(target);
    const runs = (
      await shards((_, seed) => [
        'sync',
        '--source',
        seed,
        '--target',
        target.url,
        '--until-caught-up',
        '--on-conflict',
        'replace',
      ])
    ).map(json);
    const links = runs.flatMap((r) => r.links as Json[]);
    assert.deepEqual(links.map((l) => l.source).sort(), allMasters());
    assert.equal(
      links.reduce((n, l) => n + l.snapshot.keys, 0),
      total,
    );
    const checkpoints = await tgt.keys('__shake:sync:*');
    assert.deepEqual(
      checkpoints.sort(),
      allMasters()
        .map((a) => `__shake:sync:${a}`)
        .sort(),
    );
    await tgt.del(...checkpoints);
    await assertTargetEqualsSource();
  });

  test('dump --mode scan: one file per master across the processes, a manifest per shard, every key once', async () => {
    const dir = mkdtempSync(join(work, 'dump-'));
    const runs = (
      await shards((_, seed) => ['dump', '--source', seed, '-o', join(dir, 'c.rdb'), '--mode', 'scan'])
    ).map(json);
    const nodes = runs.flatMap((r) => r.nodes as Json[]);
    assert.deepEqual(nodes.map((n) => n.source).sort(), allMasters());
    assert.equal(
      nodes.reduce((n, x) => n + x.keys, 0),
      total,
    );
    const manifests = readdirSync(dir).filter((f) => f.endsWith('.manifest.json'));
    assert.deepEqual(
      manifests.sort(),
      [0, 1, 2].map((i) => `c.shard-${i}-of-3.manifest.json`),
    );
    // The three manifests restored one after the other rebuild the source.
    await emptyServer(target);
    for (const m of manifests) {
      const r = await runCli(['restore', join(dir, m), '--target', target.url]);
      assert.equal(r.code, 0, r.stderr);
    }
    await assertTargetEqualsSource();
  });

  test('check: each share compares its own keys; a missing and an extra key are reported once, by their shard', async () => {
    await emptyServer(target);
    const copy = await runCli(['rump', '--source', seedUrl(0), '--target', target.url, '--rate', '0']);
    assert.equal(copy.code, 0, copy.stderr);
    const equal = (await shards((_, seed) => ['check', '--source', seed, '--target', target.url])).map(json);
    for (const r of equal) assert.equal(r.equal, true);
    assert.equal(
      equal.reduce((n, r) => n + r.keysCompared, 0),
      total,
      'every source key compared by exactly one share',
    );
    assert.equal(await tgt.del('str:17'), 1);
    await tgt.set('only-on-target', 'x');
    const runs = await shards((_, seed) => ['check', '--source', seed, '--target', target.url, '--rounds', '0']);
    const found = runs.map((r) => JSON.parse(r.stdout.toString()) as Json);
    const missing = found.filter((r) => r.differences.missing === 1);
    const extra = found.filter((r) => r.differences.extra === 1);
    assert.equal(missing.length, 1, 'the missing key reported by one share');
    assert.equal(extra.length, 1, 'the extra key reported by one share');
    for (const [i, r] of found.entries()) {
      const diffs = Object.values(r.differences as Record<string, number>).reduce((a, b) => a + b, 0);
      assert.equal(runs[i]!.code, diffs > 0 ? 1 : 0);
    }
    assert.equal(
      found.reduce(
        (n, r) => n + (Object.values(r.differences as Record<string, number>) as number[]).reduce((a, b) => a + b, 0),
        0,
      ),
      2,
    );
  });

  test('a standalone source refuses a share', async () => {
    const r = await runCli(['rump', '--source', target.url, '--target', target.url, '--shard', '1/3']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--shard 1\/3: the source is not a cluster/);
  });
});
