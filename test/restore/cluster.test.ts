/**
 * Restore into a live 3-master Redis 7.0 cluster: every fixture's db 0 routed by slot and read back from
 * every master equal to expected.jsonl; an input with several dbs and no --db-map is refused with a clear
 * error; a slot that moved after the slot map was read (MOVED) and a slot being migrated (ASK) are followed,
 * never written to the wrong node.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keySlot } from '../../src/cluster/index.js';
import { DbMapError } from '../../src/sinks/redis/db-map.js';
import { openTarget } from '../../src/sinks/redis/open-target.js';
import { restore } from '../../src/pipelines/restore.js';
import { startCluster, type ClusterNode, type RedisCluster } from '../harness/cluster.js';
import { startRedis, emptyServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace, readKeyspaceCluster } from '../helpers/keyspace.js';
import { fixturesDir, loadExpected } from '../helpers/load-records.js';
import { alignFor70, restoreInto } from './helpers.js';

const labels = readdirSync(join(fixturesDir, 'rdb'))
  .filter((f) => f.endsWith('.rdb'))
  .map((f) => f.slice(0, -4))
  .sort();

async function flushAll(cluster: RedisCluster): Promise<void> {
  for (const m of cluster.masters()) await emptyServer(m.server);
}

function ownerOf(cluster: RedisCluster, slot: number): ClusterNode {
  const n = cluster.masters().find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b));
  assert.ok(n, `slot ${slot} has an owner`);
  return n;
}

describe('restore into a 3-master cluster', () => {
  let cluster: RedisCluster;
  before(async () => {
    cluster = await startCluster({ masters: 3 });
  });
  after(async () => {
    await cluster?.stop();
  });

  for (const label of labels) {
    it(`${label}: db 0 routed by slot equals expected.jsonl`, async () => {
      const fx = loadExpected(label, { aliveAt: Date.now() });
      await flushAll(cluster);
      const m = cluster.masters()[0] as ClusterNode;
      const run = await restoreInto(m, { input: fx.rdbFile as string, dbs: [0], onError: 'skip' });
      const expected = fx.records.filter((r) => r.db === 0);
      assert.deepEqual(run.counters.failures, []);
      assert.equal(run.counters.keysWritten, expected.length);
      const actual = await readKeyspaceCluster(cluster);
      const aligned = alignFor70(expected, actual);
      assertRecordsMatch(aligned.actual, aligned.expected);
    });
  }

  it("a cluster dump's manifest (one RDB per master) restores into a standalone server", async () => {
    await flushAll(cluster);
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    const m = cluster.masters()[0] as ClusterNode;
    await restoreInto(m, { input: fx.rdbFile as string, dbs: [0] });
    const dir = mkdtempSync(join(tmpdir(), 'shake-manifest-'));
    const standalone = await startRedis();
    try {
      const nodes = [];
      for (const n of cluster.masters()) {
        const c = n.server.client();
        await c.save();
        c.disconnect();
        const file = `dump-${n.id.slice(0, 8)}-${n.host}-${n.port}.rdb`;
        copyFileSync(join(n.server.dir, 'dump.rdb'), join(dir, file));
        nodes.push({ id: n.id, host: n.host, port: n.port, slots: n.slots, file });
      }
      writeFileSync(join(dir, 'dump.manifest.json'), JSON.stringify({ version: 1, nodes }, null, 2));
      const run = await restoreInto(standalone, { input: join(dir, 'dump.manifest.json') });
      assert.equal(run.kind, 'dump-manifest');
      assert.equal(run.files.length, 3);
      assert.deepEqual(run.counters.failures, []);
      assert.equal(run.stats.functionsLoaded, 1, 'the library every node holds is loaded once');
      const expected = fx.records.filter((r) => r.db === 0);
      const aligned = alignFor70(expected, await readKeyspace({ host: standalone.host, port: standalone.port }));
      assertRecordsMatch(aligned.actual, aligned.expected);
    } finally {
      await standalone.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to merge several dbs into db 0 unless --db-map says so', async () => {
    await flushAll(cluster);
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    const m = cluster.masters()[0] as ClusterNode;
    await assert.rejects(restoreInto(m, { input: fx.rdbFile as string }), (err: unknown) => {
      assert.ok(err instanceof DbMapError);
      assert.match(err.message, /db 0 and db 1.*only db 0.*--db-map/);
      return true;
    });
  });

  it('--db-map 5:0 restores db 5 into the cluster', async () => {
    await flushAll(cluster);
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    const m = cluster.masters()[0] as ClusterNode;
    const run = await restoreInto(m, {
      input: fx.rdbFile as string,
      dbs: [5],
      dbMap: { map: new Map([[5, 0]]), rest: null },
    });
    const expected = fx.records.filter((r) => r.db === 5).map((r) => ({ ...r, db: 0 }));
    assert.equal(run.counters.keysWritten, expected.length);
    const aligned = alignFor70(expected, await readKeyspaceCluster(cluster));
    assertRecordsMatch(aligned.actual, aligned.expected);
  });

  it('follows MOVED (slot reassigned after the map was read) and ASK (slot migrating)', async () => {
    await flushAll(cluster);
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    const db0 = fx.records.filter((r) => r.db === 0);
    const keys = db0.map((r) => Buffer.from(r.key_b64, 'base64'));
    const movedSlot = keySlot(keys[0] as Buffer);
    const askSlot = keys
      .map((k) => keySlot(k))
      .find((s) => ownerOf(cluster, s) !== ownerOf(cluster, movedSlot)) as number;
    const m = cluster.masters()[0] as ClusterNode;
    const target = await openTarget({ connection: { host: m.host, port: m.port } });
    try {
      // MOVED: give movedSlot to another master on every node.
      const from = ownerOf(cluster, movedSlot);
      const to = cluster.masters().find((n) => n !== from) as ClusterNode;
      for (const n of cluster.masters()) {
        const c = n.server.client();
        await c.call('CLUSTER', 'SETSLOT', String(movedSlot), 'NODE', to.id);
        c.disconnect();
      }
      // ASK: askSlot migrating from its owner to a third node (empty slot, so every write is redirected).
      const askFrom = ownerOf(cluster, askSlot);
      const askTo = cluster.masters().find((n) => n !== askFrom) as ClusterNode;
      const a = askFrom.server.client();
      const b = askTo.server.client();
      await b.call('CLUSTER', 'SETSLOT', String(askSlot), 'IMPORTING', askFrom.id);
      await a.call('CLUSTER', 'SETSLOT', String(askSlot), 'MIGRATING', askTo.id);
      const run = await restore({ input: { path: fx.rdbFile as string }, target, dbs: [0], onError: 'skip' });
      assert.deepEqual(run.counters.failures, []);
      assert.equal(run.counters.keysWritten, db0.length);
      assert.ok(run.stats.redirects > 0, 'redirections were followed');
      // Every key of the moved slot is on its new owner, the ASK ones on the importing node.
      const onTo = to.server.client();
      for (const k of keys.filter((x) => keySlot(x) === movedSlot)) assert.equal(await onTo.exists(k), 1);
      onTo.disconnect();
      for (const k of keys.filter((x) => keySlot(x) === askSlot)) {
        assert.equal(await b.call('ASKING').then(() => b.exists(k)), 1);
        // Not on the migrating node: it answers ASK for a key it does not hold.
        await assert.rejects(a.exists(k), /ASK/);
      }
      await b.call('CLUSTER', 'SETSLOT', String(askSlot), 'NODE', askTo.id);
      await a.call('CLUSTER', 'SETSLOT', String(askSlot), 'NODE', askTo.id);
      a.disconnect();
      b.disconnect();
      const aligned = alignFor70(db0, await readKeyspaceCluster(cluster));
      assertRecordsMatch(aligned.actual, aligned.expected);
    } finally {
      await target.close();
    }
  });
});
