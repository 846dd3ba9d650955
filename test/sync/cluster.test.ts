/**
 * shake sync into a 3-master cluster target (standalone 7.0 source, db 0): the batch is applied per slot with a
 * checkpoint key per slot; multi-key commands split per slot; the target ends equal to the source value by
 * value; a restart resumes with PSYNC and skips what each slot's checkpoint already covers. A 3-master cluster
 * source into a standalone target, into a 3-master cluster target, and into a standalone target's db 3 (db map).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Cluster, Redis } from 'ioredis';
import { parseDbMap } from '../../src/sinks/redis/db-map.js';
import { prng } from '../helpers/prng.js';
import { startCluster, type RedisCluster } from '../harness/cluster.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace, readKeyspaceCluster } from '../helpers/keyspace.js';
import {
  assertNoFailures,
  assertSynced,
  nameOf,
  sleep,
  standaloneCheckpoint,
  startSync,
  stateDir,
  stopWhenApplied,
  syncStats,
  userKeys,
  waitApplied,
  waitStreaming,
} from './helpers.js';
import { runWorkload } from './workload.js';

describe('sync 7.0 standalone -> 7.0 cluster (3 masters)', () => {
  let source: RedisServer;
  let cluster: RedisCluster;
  let src: Redis;
  const dir = stateDir();
  before(async () => {
    [source, cluster] = await Promise.all([
      startRedis({ config: { 'repl-backlog-size': '16mb' } }),
      startCluster({ masters: 3 }),
    ]);
    src = source.client();
    await runWorkload(src, { seed: 41, ops: 1000, singleDb: true });
  });
  after(async () => {
    src?.disconnect();
    await Promise.all([source?.stop(), cluster?.stop()]);
  });

  /** The base checkpoint (every slot applied up to it) can lag a second: the slot keys say more. */
  async function appliedOffset(): Promise<number> {
    const c = cluster.client();
    try {
      return await standaloneCheckpoint(c, nameOf(source))();
    } finally {
      c.disconnect();
    }
  }

  test('snapshot + stream under a random workload; MSET/DEL across slots split; equal to the source', async () => {
    const run = startSync(source, cluster.masters()[0]!.server, { stateDir: dir });
    await runWorkload(src, { seed: 42, ops: 1000, singleDb: true });
    await waitStreaming(run.progress);
    await runWorkload(src, { seed: 45, ops: 1000, singleDb: true });
    await src.mset('a{1}', '1', 'b{2}', '2', 'c{3}', '3');
    await src.del('a{1}', 'b{2}');
    await sleep(500); // short TTLs pass
    const link = (await stopWhenApplied(run, src, appliedOffset)).links[0]!;
    assertNoFailures(link);
    assert.ok(link.apply.splitCommands >= 2, `${link.apply.splitCommands} split commands`);
    assertSynced(await readKeyspaceCluster(cluster), await readKeyspace(source));
  });

  test('restart: PSYNC +CONTINUE, equal again', async () => {
    const before = await syncStats(src);
    await runWorkload(src, { seed: 43, ops: 500, singleDb: true });
    const run = startSync(source, cluster.masters()[0]!.server, { stateDir: dir });
    await runWorkload(src, { seed: 44, ops: 500, singleDb: true });
    await sleep(500);
    assertNoFailures((await stopWhenApplied(run, src, appliedOffset)).links[0]!);
    const after = await syncStats(src);
    assert.equal(after.partialOk, before.partialOk + 1);
    assert.equal(after.full, before.full);
    assertSynced(await readKeyspaceCluster(cluster), await readKeyspace(source));
  });
});

describe('sync 7.0 cluster source (3 masters) -> 7.0 standalone: one link per master', () => {
  let cluster: RedisCluster;
  let target: RedisServer;
  before(async () => {
    [cluster, target] = await Promise.all([startCluster({ masters: 3 }), startRedis()]);
  });
  after(async () => {
    await Promise.all([cluster?.stop(), target?.stop()]);
  });

  test('every master synced with its own checkpoint; the target equals the union of the shards', async () => {
    const c = cluster.client();
    const dst = target.client();
    try {
      for (let i = 0; i < 300; i++) await c.set(`before:${i}`, `v${i}`);
      const run = startSync(cluster.masters()[0]!.server, target, {});
      await waitStreaming(run.progress);
      for (let i = 0; i < 600; i++) {
        await c.incr(`n:${i % 37}`);
        await c.lpush(`l:${i % 23}`, String(i));
        await c.incrbyfloat(`f:${i % 11}`, '0.5');
      }
      for (const m of cluster.masters()) {
        const mc = cluster.nodeClient(m);
        try {
          await waitApplied(mc, standaloneCheckpoint(dst, nameOf(m.server)), 30_000, run);
        } finally {
          mc.disconnect();
        }
      }
      const result = await run.stop();
      assert.equal(result.links.length, 3);
      for (const l of result.links) assertNoFailures(l);
      assertRecordsMatch(userKeys(await readKeyspace(target)), await readKeyspaceCluster(cluster));
      assert.equal((await dst.keys('__shake:sync:*')).length, 3);
    } finally {
      c.disconnect();
      dst.disconnect();
    }
  });
});

/**
 * Writes of every type through a cluster client: single-key commands on random slots, short TTLs the source
 * expires itself, and per hash tag: MULTI/EXEC of INCR/LPUSH/INCRBYFLOAT, MSET and a multi-key DEL.
 */
async function clusterWorkload(c: Cluster, seed: number, ops: number): Promise<void> {
  const r = prng(seed);
  const key = (kind: string): string => `${kind}:${Math.floor(r() * 60)}`;
  for (let done = 0; done < ops; done += 20) {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const x = r();
      if (x < 0.15) calls.push(c.set(key('s'), `v${Math.floor(r() * 1e6)}`));
      else if (x < 0.25) calls.push(c.incr(key('n')));
      else if (x < 0.35) calls.push(c.lpush(key('l'), `e${Math.floor(r() * 1000)}`));
      else if (x < 0.45) calls.push(c.hset(key('h'), `f${Math.floor(r() * 20)}`, `${r()}`));
      else if (x < 0.55) calls.push(c.sadd(key('S'), `m${Math.floor(r() * 50)}`));
      else if (x < 0.65) calls.push(c.zadd(key('z'), (r() * 100).toFixed(4), `m${Math.floor(r() * 50)}`));
      else if (x < 0.7) calls.push(c.xadd(key('x'), 'MAXLEN', '~', '20', '*', 'f', `${Math.floor(r() * 1000)}`));
      else if (x < 0.75) calls.push(c.set(key('t'), 'short', 'PX', 50 + Math.floor(r() * 250)));
      else if (x < 0.85) {
        const tag = `{t${Math.floor(r() * 8)}}`;
        calls.push(
          c
            .multi()
            .incr(`${tag}n`)
            .lpush(`${tag}l`, `${Math.floor(r() * 100)}`)
            .incrbyfloat(`${tag}f`, '0.1')
            .exec(),
        );
      } else if (x < 0.92) {
        const tag = `{m${Math.floor(r() * 8)}}`;
        calls.push(c.mset(`${tag}a`, `${r()}`, `${tag}b`, `${r()}`));
      } else if (x < 0.96) {
        const tag = `{m${Math.floor(r() * 8)}}`;
        calls.push(c.del(`${tag}a`, `${tag}b`));
      } else calls.push(c.del(key(pick(r, ['s', 'n', 'l', 'h']))));
    }
    for (const res of await Promise.allSettled(calls)) {
      if (res.status === 'rejected' && !/WRONGTYPE/.test(String(res.reason))) throw res.reason as Error;
    }
  }
}

/** sync_full / sync_partial_ok of every master of `cluster`. */
async function masterStats(cluster: RedisCluster): Promise<{ full: number; partialOk: number }[]> {
  return Promise.all(
    cluster.masters().map(async (m) => {
      const mc = cluster.nodeClient(m);
      try {
        return await syncStats(mc);
      } finally {
        mc.disconnect();
      }
    }),
  );
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

/** Waits until, for every source master, the target holds that master's offset (`read` gives the checkpoint). */
async function waitAllApplied(source: RedisCluster, read: (name: string) => Promise<string | null>): Promise<void> {
  for (const m of source.masters()) {
    const mc = source.nodeClient(m);
    try {
      await waitApplied(mc, async () => {
        const v = await read(nameOf(m.server));
        const got = v ? /^\S+ (\d+) \d+$/.exec(v) : null;
        return got ? Number(got[1]) : -1;
      });
    } finally {
      mc.disconnect();
    }
  }
}

describe('sync 7.0 cluster (3 masters) -> 7.0 cluster (3 masters)', () => {
  let source: RedisCluster;
  let target: RedisCluster;
  before(async () => {
    [source, target] = await Promise.all([
      startCluster({ masters: 3, config: { 'repl-backlog-size': '16mb' } }),
      startCluster({ masters: 3 }),
    ]);
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  test('one link per source master, per-slot checkpoints in the target; equal, then resumed with PSYNC', async () => {
    const c = source.client();
    const t = target.client();
    const dir = stateDir();
    try {
      await clusterWorkload(c, 51, 1500);
      const full = await masterStats(source);
      const run = startSync(source.masters()[0]!.server, target.masters()[1]!.server, { stateDir: dir });
      await clusterWorkload(c, 52, 1000);
      await waitStreaming(run.progress);
      await clusterWorkload(c, 53, 2000);
      await sleep(500); // short TTLs pass
      // The base checkpoint of each link moves once a second when idle: every slot is applied up to it.
      await waitAllApplied(source, (name) => t.get(`__shake:sync:${name}`));
      const result = await run.stop();
      assert.equal(result.links.length, 3);
      for (const l of result.links) assertNoFailures(l);
      assertSynced(await readKeyspaceCluster(target), await readKeyspaceCluster(source));
      // Restart: every link resumes with PSYNC, none takes a snapshot.
      await clusterWorkload(c, 54, 500);
      const again = startSync(source.masters()[0]!.server, target.masters()[1]!.server, { stateDir: dir });
      await clusterWorkload(c, 55, 500);
      await sleep(500);
      await waitAllApplied(source, (name) => t.get(`__shake:sync:${name}`));
      const second = await again.stop();
      for (const l of second.links) {
        assertNoFailures(l);
        assert.equal(l.fullSyncs, 0);
        assert.equal(l.partialSyncs, 1);
      }
      const after = await masterStats(source);
      after.forEach((a, i) => {
        assert.equal(a.full, full[i]!.full + 1, 'one snapshot per master');
        assert.equal(a.partialOk, full[i]!.partialOk + 1, 'one PSYNC per master on the restart');
      });
      assertSynced(await readKeyspaceCluster(target), await readKeyspaceCluster(source));
    } finally {
      c.disconnect();
      t.disconnect();
    }
  });
});

describe('sync 7.0 cluster (3 masters) -> 7.0 standalone with a db map (0:3)', () => {
  let source: RedisCluster;
  let target: RedisServer;
  before(async () => {
    [source, target] = await Promise.all([startCluster({ masters: 3 }), startRedis()]);
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  test('the shards land in db 3 of the target, equal to the source', async () => {
    const c = source.client();
    const dst = target.client();
    try {
      await clusterWorkload(c, 61, 1000);
      const run = startSync(source.masters()[0]!.server, target, { dbMap: parseDbMap('0:3') });
      await waitStreaming(run.progress);
      await clusterWorkload(c, 62, 1500);
      await sleep(500);
      await waitAllApplied(source, (name) => dst.get(`__shake:sync:${name}`));
      const result = await run.stop();
      for (const l of result.links) assertNoFailures(l);
      const held = userKeys(await readKeyspace(target));
      assert.ok(held.length > 100);
      assert.deepEqual([...new Set(held.map((r) => r.db))], [3]);
      assertSynced(
        held.map((r) => ({ ...r, db: 0 })),
        await readKeyspaceCluster(source),
      );
    } finally {
      c.disconnect();
      dst.disconnect();
    }
  });
});
