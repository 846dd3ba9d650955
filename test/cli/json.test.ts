/**
 * --json on every subcommand: stdout holds exactly one JSON object (the final summary), whose counts agree with what
 * the real servers hold afterwards (INFO keyspace, DBSIZE, the file on disk), and whose exitCode is the process's
 * own. Failures are one object too (ok false, the one-line error), and an option that would also write to stdout
 * is refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { emptyServer, startRedis, type RedisServer } from '../harness/redis-server.js';
import { loadExpected } from '../helpers/load-records.js';
import { runCli, type CliResult } from './helpers/run-cli.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The one JSON object on stdout (fails unless stdout is exactly one line of JSON). */
function summary(r: CliResult): Json {
  const lines = r.stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one line on stdout, got:\n${r.stdout.toString()}\nstderr:\n${r.stderr}`);
  const obj = JSON.parse(lines[0]!) as Json;
  assert.equal(obj.exitCode, r.code, 'exitCode is the process exit code');
  assert.equal(obj.ok, r.code === 0);
  return obj;
}

/** Keys the server holds in every db (INFO keyspace), leaving out shake's own __shake:* keys. */
async function keysHeld(client: Redis): Promise<number> {
  const info = await client.info('keyspace');
  let n = 0;
  for (const m of info.matchAll(/^db(\d+):keys=(\d+)/gm)) {
    n += Number(m[2]);
    await client.select(Number(m[1]));
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', '__shake:*', 'COUNT', 1000);
      n -= keys.length;
      cursor = next;
    } while (cursor !== '0');
  }
  await client.select(0);
  return n;
}

describe('--json: one summary object on stdout, counts as the servers hold them', () => {
  let source: RedisServer;
  let target: RedisServer;
  let src: Redis;
  let tgt: Redis;
  const work = mkdtempSync(join(tmpdir(), 'shake-json-'));
  before(async () => {
    [source, target] = await Promise.all([startRedis({ config: { 'repl-diskless-sync-delay': '0' } }), startRedis()]);
    src = source.client();
    tgt = target.client();
    await src.mset(...Array.from({ length: 400 }, (_, i) => [`s:${i}`, `v${i}`]).flat());
    for (let i = 0; i < 30; i++) await src.hset(`h:${i}`, 'a', '1', 'b', String(i));
    await src.rpush('list', 'x', 'y', 'z');
    await src.select(2);
    await src.sadd('set:in:2', 'm1', 'm2');
    await src.set('str:in:2', 'two', 'PX', 3_600_000);
    await src.select(0);
  });
  after(async () => {
    src?.disconnect();
    tgt?.disconnect();
    await Promise.all([source?.stop(), target?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  test('rump: keysWritten is what the target holds, and what the source holds', async () => {
    await emptyServer(target);
    const r = await runCli(['rump', '--source', source.url, '--target', target.url, '--rate', '0', '--json']);
    const s = summary(r);
    assert.equal(r.code, 0, r.stderr);
    const held = await keysHeld(tgt);
    assert.equal(held, await keysHeld(src));
    assert.equal(s.command, 'rump');
    assert.equal(s.counters.keysWritten, held);
    assert.equal(s.counters.failed, 0);
    assert.deepEqual(s.nodes, [`127.0.0.1:${source.port}`]);
    assert.match(r.stderr, /keys read/, 'the human summary still goes to stderr');
  });

  test('dump (scan): bytes are the file size, keys what the source holds; then restore of it', async () => {
    const out = join(work, 'scan.rdb');
    const d = await runCli(['dump', '--source', source.url, '-o', out, '--mode', 'scan', '--json']);
    const ds = summary(d);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(ds.nodes.length, 1);
    assert.equal(ds.nodes[0].bytes, statSync(out).size);
    assert.equal(ds.nodes[0].keys, await keysHeld(src));

    await emptyServer(target);
    const r = await runCli(['restore', out, '--target', target.url, '--json']);
    const rs = summary(r);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(rs.input, 'rdb');
    assert.equal(rs.counters.keysWritten, await keysHeld(tgt));
    assert.equal(rs.counters.keysWritten, await keysHeld(src));
  });

  test('restore of a fixture RDB: written plus skipped (expired) is every key in the file', async () => {
    await emptyServer(target);
    const fx = loadExpected('redis-7.0');
    const r = await runCli(['restore', fx.rdbFile!, '--target', target.url, '--json']);
    const s = summary(r);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.counters.keysWritten, await keysHeld(tgt));
    assert.equal(s.counters.keysRead, fx.total);
    assert.equal(s.counters.keysWritten + (s.counters.skipped.expired ?? 0), fx.total);
  });

  test('restore refused (keys exist, --on-conflict error): one object, ok false, exit 1, the failures', async () => {
    const fx = loadExpected('redis-7.0');
    const r = await runCli(['restore', fx.rdbFile!, '--target', target.url, '--json']);
    const s = summary(r);
    assert.equal(r.code, 1);
    assert.equal(s.ok, false);
    assert.equal(typeof s.error, 'string');
    assert.ok(s.counters.failed > 0);
  });

  test('sync --until-caught-up: the offset and keys written; the offset lines move into the object', async () => {
    await emptyServer(target);
    const r = await runCli(
      ['sync', '--source', source.url, '--target', target.url, '--until-caught-up', '--json', '--state-dir', work],
      { timeoutMs: 90_000 },
    );
    const s = summary(r);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.caughtUp, true);
    assert.equal(s.links.length, 1);
    const link = s.links[0];
    assert.equal(link.source, `127.0.0.1:${source.port}`);
    const repl = await src.info('replication');
    assert.equal(link.replid, /master_replid:(\w+)/.exec(repl)![1]);
    assert.ok(link.offset >= 0 && link.offset <= Number(/master_repl_offset:(\d+)/.exec(repl)![1]));
    assert.equal(await keysHeld(tgt), await keysHeld(src));
    assert.equal(link.snapshot.keys, await keysHeld(tgt));
  });

  test('check: equal, then one key missing (exit 1), then could not check (exit 2)', async () => {
    await emptyServer(target);
    const copy = await runCli(['rump', '--source', source.url, '--target', target.url, '--rate', '0', '-q']);
    assert.equal(copy.code, 0, copy.stderr);
    const eq = await runCli(['check', '--source', source.url, '--target', target.url, '--json']);
    const es = summary(eq);
    assert.equal(eq.code, 0, eq.stderr);
    assert.equal(es.equal, true);
    assert.equal(es.keysCompared, await keysHeld(src));

    assert.equal(await tgt.del('s:7'), 1);
    const diff = await runCli(['check', '--source', source.url, '--target', target.url, '--rounds', '0', '--json']);
    const ds = summary(diff);
    assert.equal(diff.code, 1);
    assert.equal(ds.equal, false);
    assert.deepEqual(ds.differences, { missing: 1 });

    const down = await runCli(['check', '--source', source.url, '--target', 'redis://127.0.0.1:1', '--json']);
    const ns = summary(down);
    assert.equal(down.code, 2);
    assert.match(ns.error, /127\.0\.0\.1:1/);
  });

  test('decode -o FILE: the keys the file holds; without -o it is refused (stdout is the summary)', async () => {
    const fx = loadExpected('redis-7.0');
    const out = join(work, 'keys.jsonl');
    const r = await runCli(['decode', fx.rdbFile!, '-o', out, '--json']);
    const s = summary(r);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.counters.keysRead, fx.total);
    assert.equal(s.counters.keysWritten, fx.total);

    const refused = await runCli(['decode', fx.rdbFile!, '--json']);
    const rs = summary(refused);
    assert.equal(refused.code, 1);
    assert.match(rs.error, /-o FILE/);
  });

  test('a bad flag is one object too', async () => {
    const r = await runCli(['rump', '--no-such-flag', '--json']);
    const s = summary(r);
    assert.equal(r.code, 1);
    assert.match(s.error, /no-such-flag/);
  });
});
