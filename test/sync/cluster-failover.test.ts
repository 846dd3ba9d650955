/**
 * A cluster source (3 masters, one replica each) changing under a running sync:
 * - a failover (CLUSTER FAILOVER on a replica): the link of that shard is dropped by its old master, and shake
 *   follows the shard to its new master with PSYNC from the checkpoint (psync2: no new snapshot, the promoted
 *   node's sync_full stays 0); the target ends equal to the source;
 * - a reshard (a key MIGRATEd between shards): the RESTORE-ASKING in the receiving shard's stream stops the run
 *   with one clear line (a key moving between shards cannot be applied in order by two independent links).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from 'ioredis';
import { startCluster, type ClusterNode, type RedisCluster } from '../harness/cluster.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { prng } from '../helpers/prng.js';
import { readKeyspace, readKeyspaceCluster } from '../helpers/keyspace.js';
import { assertNoFailures, assertSynced, nameOf, sleep, startSync, waitApplied, waitStreaming } from './helpers.js';

async function writes(c: Cluster, seed: number, ops: number): Promise<void> {
  const r = prng(seed);
  const key = (kind: string): string => `${kind}:${Math.floor(r() * 80)}`;
  for (let done = 0; done < ops; done += 20) {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const x = r();
      if (x < 0.3) calls.push(c.set(key('s'), `v${Math.floor(r() * 1e6)}`));
      else if (x < 0.6) calls.push(c.incr(key('n')));
      else if (x < 0.8) calls.push(c.lpush(key('l'), `e${Math.floor(r() * 1000)}`));
      else calls.push(c.hincrby(key('h'), `f${Math.floor(r() * 5)}`, 1));
    }
    await Promise.all(calls);
  }
}

async function info(node: ClusterNode, c: RedisCluster, section: string): Promise<string> {
  const x = c.nodeClient(node);
  try {
    return await x.info(section);
  } finally {
    x.disconnect();
  }
}

describe('sync from a cluster source with replicas: failover followed, reshard stopped', () => {
  let source: RedisCluster;
  let target: RedisServer;
  before(async () => {
    [source, target] = await Promise.all([
      startCluster({ masters: 3, replicasPerMaster: 1, config: { 'repl-backlog-size': '16mb' } }),
      startRedis(),
    ]);
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  test('CLUSTER FAILOVER on a shard: the link follows the promoted replica with PSYNC, equal at the end', async () => {
    const c = source.client();
    const dst = target.client();
    const notices: string[] = [];
    try {
      await writes(c, 91, 600);
      const oldMaster = source.masters()[0]!;
      const name = nameOf(oldMaster.server);
      const run = startSync(oldMaster.server, target, { onNotice: (m) => notices.push(m) });
      await waitStreaming(run.progress);
      await writes(c, 92, 600);
      const replica = source.nodes.find((n) => n.role === 'replica' && n.masterId === oldMaster.id)!;
      const rc = source.nodeClient(replica);
      await rc.call('CLUSTER', 'FAILOVER');
      const deadline = Date.now() + 30_000;
      while (!/role:master/.test(await rc.info('replication'))) {
        assert.ok(Date.now() < deadline, 'the replica was never promoted');
        await sleep(100);
      }
      rc.disconnect();
      // The old master follows the new one (the harness's waitConverged expects the start-up roles).
      for (;;) {
        const r = await info(oldMaster, source, 'replication');
        if (/role:slave/.test(r) && /master_link_status:up/.test(r)) break;
        assert.ok(Date.now() < deadline, `the old master never followed the new one: ${r}`);
        await sleep(100);
      }
      await writes(c, 93, 900);
      // Every shard's current master: the checkpoint of its link covers its offset.
      const masters = source.nodes.filter((n) => n !== oldMaster && (n.role === 'master' || n === replica));
      for (const m of masters) {
        const mc = source.nodeClient(m);
        const linkName = m === replica ? name : nameOf(m.server);
        try {
          await waitApplied(
            mc,
            async () => {
              const v = await dst.get(`__shake:sync:${linkName}`);
              return v ? Number(v.split(' ')[1]) : -1;
            },
            60_000,
            run,
          );
        } finally {
          mc.disconnect();
        }
      }
      const result = await run.stop();
      for (const l of result.links) assertNoFailures(l);
      assert.ok(
        notices.some((n) => n.includes(`failed over: following its new master 127.0.0.1:${replica.port}`)),
        notices.join('\n'),
      );
      const followed = result.links.find((l) => l.name === name)!;
      assert.equal(followed.peer, `127.0.0.1:${replica.port}`);
      assert.equal(followed.fullSyncs, 1, 'no second snapshot');
      assert.ok(followed.partialSyncs >= 1);
      assert.match(await info(replica, source, 'stats'), /sync_full:0\r?\n/);
      assertSynced(await readKeyspace(target), await readKeyspaceCluster(c));
    } finally {
      c.disconnect();
      dst.disconnect();
    }
  });

  test('a key MIGRATEd between source shards: the run stops with a clear message', async () => {
    const c = source.client();
    const dst = target.client();
    try {
      await dst.flushall(); // a fresh run (the failover above renamed a shard's master)
      const run = startSync(source.masters()[1]!.server, target);
      await waitStreaming(run.progress);
      // Move one key's slot from its master to another one (the manual reshard steps), key by key.
      const key = 'moving:key';
      await c.set(key, 'v');
      const slot = Number(await c.call('CLUSTER', 'KEYSLOT', key));
      const nodes = await source.topology();
      const from = nodes.find((n) => n.flags.includes('master') && n.slots.some(([a, b]) => slot >= a && slot <= b))!;
      const to = nodes.find((n) => n.flags.includes('master') && n.id !== from.id)!;
      const fc = source.nodeClient(source.nodes.find((n) => n.id === from.id)!);
      const tc = source.nodeClient(source.nodes.find((n) => n.id === to.id)!);
      await tc.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id);
      await fc.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id);
      await fc.call('MIGRATE', '127.0.0.1', to.port, key, 0, 5000);
      fc.disconnect();
      tc.disconnect();
      const err = await run.done.then(
        () => null,
        (e: Error) => e,
      );
      assert.ok(err, 'the run stopped');
      assert.match(err.message, /RESTORE-ASKING "moving:key" .*a slot migration on the source cluster/);
      assert.match(err.message, /--flush-target/);
    } finally {
      c.disconnect();
      dst.disconnect();
    }
  });
});
