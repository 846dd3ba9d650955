import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCluster, type RedisCluster } from '../harness/cluster.js';
import { startRedis } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace, readKeyspaceCluster } from '../helpers/keyspace.js';
import type { KeyRecord } from '../helpers/records.js';
import { checkRdb, repoRoot } from './helpers.js';

interface Manifest {
  version: number;
  nodes: { id: string; host: string; port: number; slots: [number, number][]; file: string }[];
}

function shake(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'run.js'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr };
}

describe('shake dump of a 3-master cluster: one RDB per master + manifest, restored elsewhere', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-cdump-'));
  let cluster: RedisCluster;
  let records: KeyRecord[];
  before(async () => {
    cluster = await startCluster({ masters: 3 });
    const c = cluster.client();
    const writes: Promise<unknown>[] = [];
    const p = {
      set: (k: string, v: string) => writes.push(c.set(k, v)),
      hset: (k: string, ...a: string[]) => writes.push(c.hset(k, ...a)),
      rpush: (k: string, ...a: string[]) => writes.push(c.rpush(k, ...a)),
      zadd: (k: string, ...a: (string | number)[]) => writes.push(c.zadd(k, ...a)),
      sadd: (k: string, ...a: string[]) => writes.push(c.sadd(k, ...a)),
      pexpireat: (k: string, t: number) => writes.push(c.pexpireat(k, t)),
    };
    for (let i = 0; i < 3000; i++) {
      const k = `k:${i}`;
      switch (i % 5) {
        case 0:
          p.set(k, `v${i}`);
          break;
        case 1:
          p.hset(k, 'a', String(i), 'b', 'x'.repeat(i % 100));
          break;
        case 2:
          p.rpush(k, 'a', 'b', String(i));
          break;
        case 3:
          p.zadd(k, i, 'm', -i, 'n');
          break;
        default:
          p.sadd(k, 'x', String(i));
      }
      if (i % 7 === 0) p.pexpireat(k, 4102444800000 + i);
    }
    await Promise.all(writes);
    c.disconnect();
    records = await readKeyspaceCluster(cluster);
    assert.equal(records.length, 3000);
  });
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ['replication', 'scan'] as const) {
    test(`--mode ${mode}`, async () => {
      const out = join(dir, mode, 'dump.rdb');
      spawnSync('mkdir', ['-p', join(dir, mode)]);
      const seed = cluster.masters()[1]!;
      const r = shake(['dump', '--source', `redis://127.0.0.1:${seed.port}`, '-o', out, '--mode', mode]);
      assert.equal(r.status, 0, r.stderr);
      const manifestFile = join(dir, mode, 'dump.manifest.json');
      assert.match(r.stderr, new RegExp(`manifest: ${manifestFile.replace(/[.]/g, '\\.')} \\(3 masters\\)`));
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
      assert.equal(manifest.version, 1);
      const masters = cluster.masters();
      assert.deepEqual(manifest.nodes.map((n) => n.id).sort(), masters.map((m) => m.id).sort());
      let covered = 0;
      for (const n of manifest.nodes) {
        const m = masters.find((x) => x.id === n.id)!;
        assert.equal(n.port, m.port);
        assert.deepEqual(n.slots, m.slots);
        for (const [a, b] of n.slots) covered += b - a + 1;
        assert.equal(n.file, `dump-${n.id.slice(0, 8)}-127.0.0.1-${n.port}.rdb`);
        const check = checkRdb(join(dir, mode, n.file));
        assert.equal(check.status, 0, check.output);
      }
      assert.equal(covered, 16384);

      // shake restore takes the manifest: everything lands in one standalone server.
      const target = await startRedis();
      try {
        // --verify checks the target against every node's file of the manifest (shake check's file source).
        const rr = shake(['restore', manifestFile, '--target', target.url, '--verify']);
        assert.equal(rr.status, 0, rr.stderr);
        assert.match(rr.stderr, /verify: 3000 keys compared, 3000 equal/);
        assertRecordsMatch(await readKeyspace({ host: target.host, port: target.port }), records);
      } finally {
        await target.stop();
      }
    });
  }
});
