/**
 * rump with clusters on either side (real 3-master clusters, the source with one replica per master; the
 * ElastiCache mimic cannot have replicas, its SYNC/PSYNC being renamed away): every master scanned in parallel, or a replica of each shard with
 * --prefer-replica; a cluster target routed by slot; --live on a cluster source (one subscription per
 * node) and into a cluster target, with writes during the copy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from 'ioredis';
import { rump, type RumpOptions } from '../../src/pipelines/rump.js';
import { RumpStats } from '../../src/rump/stats.js';
import { openTarget } from '../../src/sinks/redis/open-target.js';
import { startCluster, type RedisCluster } from '../harness/cluster.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace, readKeyspaceCluster } from '../helpers/keyspace.js';
import { connectionOf, runRump, waitFor } from './helpers.js';

/** `n` keys of several types through a cluster client (auto-pipelined across slots). */
async function fillCluster(c: Cluster, prefix: string, n: number): Promise<void> {
  const expireAt = Date.now() + 3_600_000;
  for (let start = 0; start < n; start += 500) {
    const ops: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(n, start + 500); i++) {
      const k = `${prefix}${i}`;
      if (i % 4 === 0) ops.push(c.set(k, `v${i}`));
      else if (i % 4 === 1) ops.push(c.hset(k, 'f', String(i)));
      else if (i % 4 === 2) ops.push(c.rpush(k, 'a', String(i)));
      else ops.push(c.zadd(k, i, 'm'));
      if (i % 5 === 0) ops.push(c.pexpireat(k, expireAt + i));
    }
    await Promise.all(ops);
  }
}

/** Waits until every replica has what its master has (WAIT on each master). */
async function syncReplicas(cluster: RedisCluster): Promise<void> {
  await Promise.all(
    cluster.masters().map(async (m) => {
      const c = cluster.nodeClient(m);
      try {
        await c.call('WAIT', '1', '5000');
      } finally {
        c.disconnect();
      }
    }),
  );
}

async function flushCluster(cluster: RedisCluster): Promise<void> {
  await Promise.all(
    cluster.masters().map(async (m) => {
      const c = cluster.nodeClient(m);
      await c.flushall();
      c.disconnect();
    }),
  );
}

describe('rump with clusters', () => {
  let source: RedisCluster;
  let target: RedisCluster;
  let single: RedisServer;
  let client: Cluster;
  before(async () => {
    // One at a time: ten servers gossiping at once on two cores can miss the convergence deadline.
    source = await startCluster({ masters: 3, replicasPerMaster: 1, config: { 'notify-keyspace-events': 'KEA' } });
    target = await startCluster({ masters: 3 });
    single = await startRedis();
    client = source.client({ enableAutoPipelining: true });
    await fillCluster(client, 'k:', 3000);
    await syncReplicas(source);
  });
  after(async () => {
    client?.disconnect();
    await Promise.all([source?.stop(), target?.stop(), single?.stop()]);
  });

  const seed = () => connectionOf(source.masters()[0]!.server);

  test('cluster source (every master in parallel) -> standalone target', async () => {
    const run = await runRump(seed(), connectionOf(single));
    assert.equal(run.nodes.length, 3);
    assert.deepEqual(run.counters.failures, []);
    assert.equal(run.counters.keysWritten, 3000);
    assert.equal(run.stats.totalKeys, 3000);
    const [src, dst] = await Promise.all([
      readKeyspaceCluster(source),
      readKeyspace({ host: single.host, port: single.port }),
    ]);
    assertRecordsMatch(dst, src, { approxMs: 0 });
  });

  test('--prefer-replica reads the replicas (not one command to the masters) -> cluster target', async () => {
    await flushCluster(target);
    await replicasListed(source);
    const before = await Promise.all(source.masters().map((m) => dumpCalls(source, m.port)));
    const run = await runRump(seed(), connectionOf(target.masters()[0]!.server), { preferReplica: true });
    const afterCalls = await Promise.all(source.masters().map((m) => dumpCalls(source, m.port)));
    assert.deepEqual(afterCalls, before, 'no DUMP reached a master');
    const replicaPorts = source.nodes.filter((n) => n.role === 'replica').map((n) => `127.0.0.1:${n.port}`);
    assert.deepEqual([...run.nodes].sort(), replicaPorts.sort());
    assert.equal(run.counters.keysWritten, 3000);
    const [src, dst] = await Promise.all([readKeyspaceCluster(source), readKeyspaceCluster(target)]);
    assertRecordsMatch(dst, src, { approxMs: 0 });
  });

  /** rump --live from the source cluster into the target cluster, running until `ac` aborts; `isLive` once following. */
  async function startLive(extra: Partial<RumpOptions>) {
    const stats = new RumpStats();
    const ac = new AbortController();
    let live!: () => void;
    const isLive = new Promise<void>((r) => (live = r));
    const t = await openTarget({ connection: connectionOf(target.masters()[0]!.server) });
    const run = rump({ source: seed(), target: t, live: true, ...extra, stats, signal: ac.signal, onLive: live });
    run.catch(() => {});
    return { stats, ac, isLive, t, run };
  }

  test('--live: cluster source (a subscription per master) -> cluster target, writes during the copy', async () => {
    await flushCluster(target);
    const { stats, ac, isLive, t, run } = await startLive({ rate: 3000, scanCount: 100, debounceMs: 10 });
    const dst = target.client();
    try {
      let i = 0;
      let writing = true;
      const writer = (async () => {
        while (writing) {
          const k = `w:${i % 300}`;
          await Promise.all([
            client.set(k, String(i)),
            client.del(`k:${i % 3000}`),
            client.hset(`h:${i % 50}`, 'f', i),
          ]);
          i++;
        }
      })();
      await Promise.race([isLive, run.then(() => assert.fail('ended early'))]);
      assert.equal(stats.notifyChecks.length, 3);
      writing = false;
      await writer;
      await client.set('marker', 'end');
      await waitFor('the marker', async () => (await dst.get('marker')) === 'end');
      await waitFor('nothing pending', () => stats.live.pending === 0);
      const [s, d] = await Promise.all([readKeyspaceCluster(source), readKeyspaceCluster(target)]);
      assertRecordsMatch(d, s, { approxMs: 0 });
      assert.ok(stats.live.deleted > 0);
    } finally {
      dst.disconnect();
      ac.abort();
      await run.catch(() => {});
      await t.close();
    }
    const res = await run;
    assert.deepEqual(res.counters.failures, []);
  });

  test('--live --prefer-replica: key events are followed on the replicas', async () => {
    await flushCluster(target);
    await replicasListed(source);
    const { stats, ac, isLive, t, run } = await startLive({ preferReplica: true, rate: 0 });
    const dst = target.client();
    try {
      await Promise.race([isLive, run.then(() => assert.fail('ended early'))]);
      assert.equal(stats.notifyChecks.filter((n) => /probe writes ok/.test(n)).length, 0, 'CONFIG GET works here');
      await Promise.all([client.set('via-replica', '1'), client.del('k:1'), client.rpush('k:2', 'more')]);
      await waitFor(
        'the writes',
        async () => (await dst.get('via-replica')) === '1' && (await dst.exists('k:1')) === 0,
      );
      await waitFor('nothing pending', () => stats.live.pending === 0);
      await syncReplicas(source);
      const [s, d] = await Promise.all([readKeyspaceCluster(source), readKeyspaceCluster(target)]);
      assertRecordsMatch(d, s, { approxMs: 0 });
    } finally {
      dst.disconnect();
      ac.abort();
      await run.catch(() => {});
      await t.close();
    }
    assert.deepEqual((await run).counters.failures, []);
  });
});

/**
 * Waits until the seed's CLUSTER SLOTS lists a replica for every shard: Redis leaves out replicas whose
 * replication offset it has not yet heard of through the cluster bus (isReplicaAvailable).
 */
async function replicasListed(cluster: RedisCluster): Promise<void> {
  const c = cluster.nodeClient(cluster.masters()[0]!);
  try {
    await waitFor('replicas in CLUSTER SLOTS', async () => {
      const slots = (await c.call('CLUSTER', 'SLOTS')) as unknown[][];
      return slots.length === 3 && slots.every((r) => r.length >= 4);
    });
  } finally {
    c.disconnect();
  }
}

/** DUMP calls a node has served (INFO commandstats). */
async function dumpCalls(cluster: RedisCluster, port: number): Promise<number> {
  const node = cluster.nodes.find((n) => n.port === port)!;
  const c = cluster.nodeClient(node);
  try {
    const info = String(await c.info('commandstats'));
    return Number(/cmdstat_dump:calls=(\d+)/.exec(info)?.[1] ?? 0);
  } finally {
    c.disconnect();
  }
}
