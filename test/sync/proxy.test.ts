/**
 * shake sync into a twemproxy (nutcracker) in front of two real redis-servers: the snapshot through the restore
 * pipeline's command form, then the stream command by command (no MULTI/EXEC through a proxy), the checkpoint
 * written after each batch's replies (at least once: docs/sync.md). The union of the servers behind the proxy
 * ends equal to the source, value by value; a second run resumes with PSYNC. A first start without
 * --on-conflict replace is refused (a proxy cannot tell whether it is empty), as is a command the proxy does not
 * forward (FLUSHALL), before it is sent (twemproxy would close the connection).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { startTwemproxy, type Twemproxy } from '../harness/twemproxy.js';
import { readKeyspace } from '../helpers/keyspace.js';
import {
  assertNoFailures,
  assertSynced,
  nameOf,
  sleep,
  startSync,
  stateDir,
  syncStats,
  waitStreaming,
} from './helpers.js';
import { rng } from './workload.js';

/** Writes twemproxy forwards: every type, TTLs, transactions of INCR/LPUSH, multi-key DEL/MSET. */
async function proxyWorkload(c: Redis, seed: number, ops: number): Promise<void> {
  const r = rng(seed);
  const key = (kind: string): string => `${kind}:${Math.floor(r() * 60)}`;
  for (let done = 0; done < ops; done += 20) {
    const pl = c.pipeline();
    for (let i = 0; i < 20; i++) {
      const x = r();
      if (x < 0.15) pl.set(key('s'), `v${Math.floor(r() * 1e6)}`);
      else if (x < 0.25) pl.incr(key('n'));
      else if (x < 0.3) pl.incrbyfloat(key('f'), '1.25');
      else if (x < 0.4) pl.lpush(key('l'), `e${Math.floor(r() * 100)}`);
      else if (x < 0.45) pl.rpop(key('l'));
      else if (x < 0.55) pl.hset(key('h'), `f${Math.floor(r() * 10)}`, `${r()}`);
      else if (x < 0.65) pl.sadd(key('S'), `m${Math.floor(r() * 30)}`);
      else if (x < 0.75) pl.zadd(key('z'), Math.floor(r() * 100), `m${Math.floor(r() * 30)}`);
      else if (x < 0.8) pl.set(key('T'), 'ttl', 'EX', 3600);
      else if (x < 0.85) pl.mset(key('s'), 'm1', key('s'), 'm2');
      else if (x < 0.9) pl.del(key('s'), key('n'));
      else {
        pl.call('MULTI');
        pl.incr('tx:n');
        pl.lpush('tx:l', `${Math.floor(r() * 100)}`);
        pl.call('EXEC');
      }
    }
    const res = await pl.exec();
    for (const [err] of res ?? []) if (err && !/WRONGTYPE/.test(err.message)) throw err;
  }
}

describe('sync 7.0 -> twemproxy (two servers behind it)', () => {
  let source: RedisServer;
  let servers: RedisServer[];
  let proxy: Twemproxy;
  let src: Redis;
  before(async () => {
    [source, ...servers] = await Promise.all([
      startRedis({ config: { 'repl-backlog-size': '16mb' } }),
      startRedis(),
      startRedis(),
    ]);
    proxy = await startTwemproxy(servers);
    src = source.client();
  });
  after(async () => {
    src?.disconnect();
    await proxy?.stop();
    await Promise.all([source, ...servers].map((s) => s?.stop()));
  });

  async function union(): Promise<Awaited<ReturnType<typeof readKeyspace>>> {
    return (await Promise.all(servers.map((s) => readKeyspace(s)))).flat();
  }

  async function checkpoint(): Promise<number> {
    const c = servers.map((s) => s.client());
    try {
      for (const x of c) {
        const v = await x.get(`__shake:sync:${nameOf(source)}`);
        if (v) return Number(v.split(' ')[1]);
      }
      return -1;
    } finally {
      for (const x of c) x.disconnect();
    }
  }

  async function waitApplied(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const want = Number(/master_repl_offset:(\d+)/.exec(await src.info('replication'))?.[1]);
      if ((await checkpoint()) >= want) return;
      assert.ok(Date.now() < deadline, 'the target never caught up');
      await sleep(50);
    }
  }

  test('a first start is refused without --on-conflict replace (a proxy cannot tell it is empty)', async () => {
    const run = startSync(source, proxy, { stateDir: stateDir() });
    await assert.rejects(run.done, /a proxy target cannot tell whether it is empty.*--on-conflict replace/);
  });

  test('snapshot + stream command by command, checkpoint after each batch: equal; resumed with PSYNC', async () => {
    await proxyWorkload(src, 81, 1000);
    const warnings: string[] = [];
    const before = await syncStats(src);
    const dir = stateDir();
    const run = startSync(source, proxy, { stateDir: dir, onConflict: 'replace', onWarning: (m) => warnings.push(m) });
    await waitStreaming(run.progress);
    await proxyWorkload(src, 82, 3000);
    await waitApplied();
    const result = await run.stop();
    const link = result.links[0]!;
    assertNoFailures(link);
    assert.ok(link.counters.commandsWritten > 2000);
    assert.ok(
      warnings.some((w) => /a proxy \(no MULTI\/EXEC\).*at least once/.test(w)),
      warnings.join('\n'),
    );
    assertSynced(await union(), await readKeyspace(source));

    // Restart: PSYNC from the checkpoint in the servers behind the proxy.
    await proxyWorkload(src, 83, 500);
    const again = startSync(source, proxy, { stateDir: dir });
    await waitApplied();
    const r2 = await again.stop();
    assert.equal(r2.links[0]!.partialSyncs, 1);
    assertSynced(await union(), await readKeyspace(source));
    const after = await syncStats(src);
    assert.equal(after.full, before.full + 1);
    assert.equal(after.partialOk, before.partialOk + 1);
  });

  test('a command the proxy does not forward (FLUSHDB): stopped before it, nothing sent', async () => {
    const run = startSync(source, proxy, { stateDir: stateDir() });
    await waitStreaming(run.progress);
    await src.flushdb();
    await assert.rejects(
      run.done,
      /^CommandRejectedError: FLUSHDB \(db 0\) at offset \d+: the proxy does not forward FLUSHDB/,
    );
    assert.ok((await union()).length > 10, 'the keys are still there');
  });
});
