import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { startCluster, type ClusterNode, type RedisCluster } from '../harness/cluster.js';
import { startRedis } from '../harness/redis-server.js';
import { keySlot } from '../../src/cluster/key-slot.js';
import { ClusterRouter } from '../../src/cluster/router.js';
import { discoverTopology } from '../../src/cluster/discover.js';
import { SlotTable } from '../../src/cluster/slots.js';
import { addressKey } from '../../src/cluster/types.js';
import { ioredisCaller, type ClosableCaller } from './ioredis-caller.js';

let cluster: RedisCluster;
const callers: ClosableCaller[] = [];
const connect = (n: { host: string; port: number }): ClosableCaller => {
  const c = ioredisCaller(n);
  callers.push(c);
  return c;
};
const admin = (n: ClusterNode): Redis => {
  const c = n.server.client();
  c.on('error', () => {});
  return c;
};

before(async () => {
  cluster = await startCluster({ masters: 3 });
});
after(async () => {
  for (const c of callers) c.redis.disconnect();
  await cluster?.stop();
});

function randomKey(i: number): Buffer {
  const body = randomBytes(1 + (i % 40));
  switch (i % 5) {
    case 0:
      return Buffer.concat([Buffer.from('{'), randomBytes(i % 7), Buffer.from('}'), body]); // tag, maybe empty
    case 1:
      return Buffer.concat([body, Buffer.from('{'), randomBytes(1 + (i % 3)), Buffer.from('}x}')]);
    case 2:
      return Buffer.concat([Buffer.from('{{'), body, Buffer.from('}')]);
    case 3:
      return Buffer.concat([Buffer.from('}{'), body]);
    default:
      return body;
  }
}

test('keySlot equals CLUSTER KEYSLOT for 5000 random binary keys, hash tags included', async () => {
  const c = admin(cluster.masters()[0]!);
  try {
    const keys = Array.from({ length: 5000 }, (_, i) => randomKey(i));
    const pipe = c.pipeline();
    for (const k of keys) pipe.call('CLUSTER', 'KEYSLOT', k);
    const replies = (await pipe.exec()) ?? [];
    const server = replies.map(([err, slot]) => (err ? -1 : Number(slot)));
    const mismatches = keys.filter((k, i) => keySlot(k) !== Number(server[i]));
    assert.deepEqual(
      mismatches.map((k) => k.toString('hex')),
      [],
    );
    assert.ok(new Set(server).size > 3000, 'keys spread over many slots');
  } finally {
    c.disconnect();
  }
});

test('router slot map equals what every node reports (CLUSTER NODES)', async () => {
  const router = new ClusterRouter({ seeds: [cluster.masters()[1]!], connect });
  await router.refresh();
  const topo = await cluster.topology();
  const expected = topo
    .flatMap((n) => n.slots.map(([a, b]) => [a, b, n.port, n.id] as const))
    .sort((x, y) => x[0] - y[0]);
  assert.deepEqual(
    router.table.ranges().map((r) => [r.start, r.end, r.master.port, r.master.id]),
    expected,
  );
  assert.equal(router.table.uncovered(), 0);
});

test('router sends every key to the node that owns its slot (no MOVED needed)', async () => {
  const router = new ClusterRouter({ seeds: [cluster.masters()[0]!], connect });
  await router.refresh();
  const keys = Array.from({ length: 2000 }, (_, i) => Buffer.from(`route:${i}`));
  await Promise.all(keys.map((k) => router.sendKey(k, ['SET', k, k])));
  assert.equal(router.stats.moved, 0);
  const topo = await cluster.topology();
  const ownerPort = (slot: number): number => topo.find((n) => n.slots.some(([a, b]) => slot >= a && slot <= b))!.port;
  for (const m of cluster.masters()) {
    const c = admin(m);
    const mine = keys.filter((k) => ownerPort(keySlot(k)) === m.port);
    assert.ok(mine.length > 400);
    const exists = await Promise.all(mine.map((k) => c.exists(k)));
    assert.ok(exists.every((e) => e === 1));
    assert.equal(await c.dbsize(), mine.length);
    c.disconnect();
  }
  const values = await Promise.all(keys.map((k) => router.sendKey(k, ['GET', k])));
  assert.ok(values.every((v, i) => Buffer.isBuffer(v) && v.equals(keys[i]!)));
});

test('resharding: ASK while a slot migrates, TRYAGAIN for split multi-key, MOVED after; router follows', async () => {
  const router = new ClusterRouter({ seeds: [cluster.masters()[0]!], connect });
  await router.refresh();
  const tag = '{mig}';
  const slot = keySlot(tag + 'x');
  const srcAddr = router.nodeForSlot(slot);
  const src = cluster.nodes.find((n) => n.port === srcAddr.port)!;
  const dst = cluster.masters().find((n) => n !== src)!;
  const keys = Array.from({ length: 10 }, (_, i) => `${tag}${i}`);
  for (const k of keys) await router.sendKey(k, ['SET', k, `v-${k}`]);
  const a = admin(src);
  const b = admin(dst);
  try {
    await b.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', src.id);
    await a.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', dst.id);
    const moved = keys.slice(0, 5);
    await a.call('MIGRATE', dst.host, String(dst.port), '', '0', '5000', 'KEYS', ...moved);

    // migrated key: src answers ASK, router sends ASKING + GET to dst
    assert.equal(String(await router.sendKey(moved[0]!, ['GET', moved[0]!])), `v-${moved[0]}`);
    assert.equal(router.stats.ask, 1);
    // key still on src: served there
    assert.equal(String(await router.sendKey(keys[7]!, ['GET', keys[7]!])), `v-${keys[7]}`);
    assert.equal(router.stats.ask, 1);
    // a new key in the migrating slot is created on the importing node (ASK), not on the source
    await router.sendKey(`${tag}new`, ['SET', `${tag}new`, 'n']);
    assert.equal(router.stats.ask, 2);
    // the source does not have it (it would answer 1; it answers ASK for a key it lacks)
    await assert.rejects(a.exists(`${tag}new`), /^ReplyError: ASK /);
    // table unchanged by ASK
    assert.equal(router.nodeForSlot(slot).port, src.port);

    // MGET over migrated + not migrated keys: TRYAGAIN; we finish the migration during the back-off
    let finished = false;
    const finish = async (): Promise<void> => {
      await a.call('MIGRATE', dst.host, String(dst.port), '', '0', '5000', 'KEYS', ...keys.slice(5));
      for (const n of cluster.masters()) {
        const c = admin(n);
        await c.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', dst.id);
        c.disconnect();
      }
      finished = true;
    };
    const router2 = new ClusterRouter({
      seeds: [cluster.masters()[0]!],
      connect,
      sleep: async () => {
        if (!finished) await finish();
      },
    });
    await router2.refresh();
    const mget = (await router2.sendKey(keys[0]!, ['MGET', keys[0]!, keys[9]!])) as Buffer[];
    assert.deepEqual(mget.map(String), [`v-${keys[0]}`, `v-${keys[9]}`]);
    assert.ok(router2.stats.retries >= 1, 'TRYAGAIN was retried');
    assert.ok(router2.stats.moved >= 1, 'MOVED after the migration finished');
    assert.equal(router2.nodeForSlot(slot).port, dst.port);

    // the first router still maps the slot to src: MOVED, table updated, then direct
    assert.equal(String(await router.sendKey(keys[3]!, ['GET', keys[3]!])), `v-${keys[3]}`);
    assert.equal(router.stats.moved, 1);
    assert.equal(router.nodeForSlot(slot).port, dst.port);
    assert.equal(String(await router.sendKey(keys[4]!, ['GET', keys[4]!])), `v-${keys[4]}`);
    assert.equal(router.stats.moved, 1);
    assert.equal(await b.exists(`${tag}new`), 1);
    assert.deepEqual(await a.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot)), 0);
    assert.deepEqual(await b.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot)), keys.length + 1);
  } finally {
    a.disconnect();
    b.disconnect();
  }
  await cluster.waitConverged();
});

test('discoverTopology: cluster lists its masters; a standalone server is standalone', async () => {
  const seed = cluster.masters()[2]!;
  const topo = await discoverTopology(connect(seed), seed);
  assert.equal(topo.mode, 'cluster');
  assert.deepEqual(
    topo.masters.map(addressKey).sort(),
    cluster
      .masters()
      .map((m) => addressKey(m))
      .sort(),
  );
  assert.ok(topo.mode === 'cluster' && topo.table instanceof SlotTable && topo.table.uncovered() === 0);
  const solo = await startRedis({ elasticache: true });
  try {
    const t = await discoverTopology(connect(solo), solo);
    assert.deepEqual(t, { mode: 'standalone', masters: [{ host: '127.0.0.1', port: solo.port }] });
  } finally {
    await solo.stop();
  }
});
