/**
 * shake sync into a 3-master cluster target (standalone 7.0 source, db 0): the batch is applied per slot with a
 * checkpoint key per slot; multi-key commands split per slot; the target ends equal to the source value by
 * value; a restart resumes with PSYNC and skips what each slot's checkpoint already covers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
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
