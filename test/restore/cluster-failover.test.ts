/**
 * A target master fails over in the middle of a restore (CLUSTER FAILOVER on its replica, in a real 3-master
 * cluster with one replica each): the writes the old master refuses after the hand-over (MOVED to its former
 * replica) are sent again where the router says, and every key of the input arrives, none counted as failed.
 * The input is an RDB written by a real Redis (SAVE of a server filled over the wire), streamed slowly around
 * the failover so that writes are in flight before, during and after it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openTarget } from '../../src/sinks/redis/open-target.js';
import { restore } from '../../src/pipelines/restore.js';
import { startCluster, type ClusterNode, type RedisCluster } from '../harness/cluster.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';

const KEYS = 60_000;

describe('restore into a cluster whose master fails over mid-run', () => {
  let cluster: RedisCluster;
  let source: RedisServer;
  before(async () => {
    [cluster, source] = await Promise.all([startCluster({ masters: 3, replicasPerMaster: 1 }), startRedis()]);
    const c = source.client();
    for (let i = 0; i < KEYS; i += 5000) {
      const p = c.pipeline();
      for (let j = i; j < Math.min(KEYS, i + 5000); j++) p.set(`key:${j}`, `value:${j}`);
      await p.exec();
    }
    await c.save();
    c.disconnect();
  });
  after(async () => {
    await Promise.all([cluster?.stop(), source?.stop()]);
  });

  it('CLUSTER FAILOVER on a replica during the restore: every key arrives, none failed', async () => {
    const oldMaster = cluster.masters()[0] as ClusterNode;
    const replica = cluster.nodes.find((n) => n.role === 'replica' && n.masterId === oldMaster.id) as ClusterNode;
    assert.ok(replica, 'the first master has a replica');
    const rdb = join(source.dir, 'dump.rdb');
    const size = statSync(rdb).size;
    const rc = replica.server.client();
    let phase: 'before' | 'failing-over' | 'after' = 'before';
    let slowChunksAfter = 0;
    // 16 KiB chunks; once a quarter is read, start the failover and go slowly until it is over and a bit beyond.
    async function* input(): AsyncGenerator<Buffer> {
      let read = 0;
      for await (const chunk of createReadStream(rdb, { highWaterMark: 16 * 1024 })) {
        yield chunk as Buffer;
        read += (chunk as Buffer).length;
        if (phase === 'before' && read >= size / 4) {
          assert.equal(await rc.call('CLUSTER', 'FAILOVER'), 'OK');
          phase = 'failing-over';
        }
        if (phase === 'failing-over') {
          const role = (await rc.call('ROLE')) as [string];
          if (role[0] === 'master') phase = 'after';
          await sleep(15);
        } else if (phase === 'after' && slowChunksAfter++ < 10) {
          await sleep(15);
        }
      }
    }
    const target = await openTarget({ connection: { host: oldMaster.host, port: oldMaster.port } });
    let run;
    try {
      run = await restore({ input: { stream: input() }, target, onError: 'skip' });
      // The former replica serves the first master's slots now.
      assert.equal(((await rc.call('ROLE')) as [string])[0], 'master');
    } finally {
      rc.disconnect();
      await target.close();
    }
    assert.equal(phase, 'after', 'the replica took over while the input was still being read');
    assert.deepEqual(run.counters.failures, []);
    assert.equal(run.counters.failed, 0);
    assert.equal(run.counters.keysRead, KEYS);
    assert.equal(run.counters.keysWritten, KEYS);
    assert.ok(run.stats.redirects > 0, 'writes refused by the old master were redirected');

    // Read back through the cluster as it is now.
    const client = cluster.client();
    try {
      let total = 0;
      for (const n of cluster.nodes) {
        const nc = cluster.nodeClient(n);
        if (((await nc.call('ROLE')) as [string])[0] === 'master') total += await nc.dbsize();
        nc.disconnect();
      }
      assert.equal(total, KEYS);
      for (let i = 0; i < KEYS; i += 2000) {
        const ids = Array.from({ length: Math.min(KEYS, i + 2000) - i }, (_, k) => i + k);
        const values = await Promise.all(ids.map((j) => client.get(`key:${j}`)));
        values.forEach((v, k) => assert.equal(v, `value:${i + k}`));
      }
    } finally {
      client.disconnect();
    }
  });
});
