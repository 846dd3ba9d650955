/**
 * What can be known before the first write is refused before it (issue 14, item 2): an RDB file or a live source
 * with keys in several dbs, into a cluster target that has only db 0, without a --db-map that says how to merge
 * them. The refused run leaves the target as it was (no key, no function library, nothing flushed), and the
 * command the message suggests then runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type RedisCluster } from '../harness/cluster.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { serverBinary } from '../harness/servers.js';
import { rawCaller, serverNow } from '../harness/keyspace/raw-call.js';
import { loadExpected } from '../helpers/load-records.js';
import { runCli } from '../cli/helpers/run-cli.js';

const fx = loadExpected('redis-7.0');
/** The fixture's dbs and key counts, as the redis-server that wrote it reported them. */
const dbKeys = (db: number): number => fx.records.filter((r) => r.db === db).length;
const REFUSAL =
  /^error: the input holds keys of db 0 and db 1, but a cluster target has only db 0: say how to merge them with --db-map \(e\.g\. --db-map 0:0,1:0 or --db-map '\*:0'\), or restore one db with --db 0( \(0 key\(s\) written to the target before it\))?$/;

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  return lines[0]!;
}

/** The flags the refusal suggests, as a shell would pass them ("--db-map '*:0'" -> ['--db-map', '*:0']). */
function suggested(line: string, which: 'db-map' | 'db'): string[] {
  const m = which === 'db' ? / (--db \d+)( \(|$)/.exec(line) : / or (--db-map '[^']+')\)/.exec(line);
  assert.ok(m, `the message suggests --${which}: ${line}`);
  const [flag, value] = m[1]!.split(' ') as [string, string];
  return [flag, value.replace(/^'|'$/g, '')];
}

describe('refused before the first write: several dbs into a cluster target (CLI)', () => {
  let cluster: RedisCluster;
  /** A live source holding the fixture (dbs 0, 1, 5, 15, a function library). */
  let source: RedisServer;
  let seed: string;

  before(async () => {
    [cluster, source] = await Promise.all([startCluster({ masters: 3 }), startRedis({ rdbFile: fx.rdbFile })]);
    seed = cluster.masters()[0]!.server.url;
  });
  after(async () => {
    await Promise.all([cluster?.stop(), source?.stop()]);
  });

  async function clusterKeys(): Promise<number> {
    let n = 0;
    for (const m of cluster.masters()) {
      const c = m.server.client();
      n += await c.dbsize();
      c.disconnect();
    }
    return n;
  }

  async function assertUntouched(): Promise<void> {
    assert.equal(await clusterKeys(), 0, 'no key written');
    for (const m of cluster.masters()) {
      const c = m.server.client();
      assert.deepEqual(await c.call('FUNCTION', 'LIST'), [], `no function library on ${m.port}`);
      c.disconnect();
    }
  }

  async function emptyCluster(): Promise<void> {
    for (const m of cluster.masters()) {
      const c = m.server.client();
      await c.flushall();
      await c.call('FUNCTION', 'FLUSH');
      c.disconnect();
    }
  }

  test('restore: the RDB is read ahead; refused with nothing written (--flush-target not run either)', async () => {
    await emptyCluster();
    const r = await runCli(['restore', fx.rdbFile as string, '--target', seed, '--flush-target', '-q']);
    assert.equal(r.code, 1);
    const line = oneLine(r.stderr);
    assert.match(line, REFUSAL);
    await assertUntouched();

    // The suggested --db 0 runs: db 0's keys and the function library land.
    const one = await runCli(['restore', fx.rdbFile as string, '--target', seed, ...suggested(line, 'db'), '-q']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(await clusterKeys(), dbKeys(0));
  });

  test("restore: the suggested --db-map '*:0' runs; the one key both db 0 and db 1 hold is the merge collision", async () => {
    await emptyCluster();
    const r = await runCli(['restore', fx.rdbFile as string, '--target', seed, '-q']);
    const line = oneLine(r.stderr);
    const merged = await runCli(['restore', fx.rdbFile as string, '--target', seed, ...suggested(line, 'db-map')]);
    // The fixture holds one key name in two dbs: merged into one db, the second is refused (--on-conflict error).
    const names = new Map<string, number>();
    for (const rec of fx.records) names.set(rec.key_b64 as string, (names.get(rec.key_b64 as string) ?? 0) + 1);
    const twice = [...names.values()].filter((n) => n > 1).length;
    assert.equal(twice, 1);
    assert.equal(merged.code, 1, merged.stderr);
    assert.match(merged.stderr, new RegExp(`${fx.total} keys read, ${fx.total - twice} written`));
    assert.match(merged.stderr, /another source db merged into target db 0/);
    assert.equal(await clusterKeys(), fx.total - twice);
  });

  test('rump: the dbs INFO keyspace lists are checked first; refused with nothing written, --db 0 then runs', async () => {
    await emptyCluster();
    const r = await runCli(['rump', '--source', source.url, '--target', seed, '-q']);
    assert.equal(r.code, 1);
    const line = oneLine(r.stderr);
    assert.match(line, REFUSAL);
    await assertUntouched();
    const one = await runCli(['rump', '--source', source.url, '--target', seed, ...suggested(line, 'db'), '-q']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(await clusterKeys(), dbKeys(0));
  });
});

describe('function libraries into a target that cannot hold them (a real redis 6.2) (CLI)', () => {
  let target: RedisServer;
  before(async () => {
    target = await startRedis({ binary: serverBinary('redis-6.2') });
  });
  after(async () => {
    await target?.stop();
  });

  test('restore stops at the library, before any key; the suggested --functions skip copies the keys', async () => {
    // The target's clock decides which keys have expired (restore asks it with TIME).
    const clock = target.client();
    const alive = loadExpected('redis-7.0', { aliveAt: await serverNow(rawCaller(clock)) });
    clock.disconnect();
    const r = await runCli(['restore', fx.rdbFile as string, '--target', target.url, '-q']);
    assert.equal(r.code, 1);
    const line = oneLine(r.stderr);
    assert.match(
      line,
      /function library "corpuslib_s1": the target cannot hold functions \(needs Redis 7\.0\+, no proxy\): --functions skip copies the keys without the libraries/,
    );
    const c = target.client();
    try {
      assert.equal((await c.info('keyspace')).trim(), '# Keyspace', 'no key written');
      const flag = /(--functions skip)/.exec(line)![1]!.split(' ');
      const ok = await runCli(['restore', fx.rdbFile as string, '--target', target.url, ...flag]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stderr, /WARNING: 1 function librar\(y\/ies\) NOT copied \(--functions skip\)/);
      assert.match(ok.stderr, new RegExp(`${alive.total} keys read, ${alive.records.length} written`));
      let keys = 0;
      for (const db of new Set(alive.records.map((rec) => rec.db))) {
        await c.select(db);
        keys += await c.dbsize();
      }
      assert.equal(keys, alive.records.length);
    } finally {
      c.disconnect();
    }
  });
});
