/**
 * The batch applier against a real target: batches overlap (the next one is queued while the previous EXEC
 * runs), yet a batch the target refuses whole at queue time (EXECABORT) is sent again without the refused
 * command before anything queued after it runs, so the order and the count of non-idempotent commands are the
 * stream's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { Counters } from '../../src/core/counters.js';
import { DEFAULT_CONN_LIMITS } from '../../src/sinks/redis/conn-writer.js';
import { SinkCore } from '../../src/sinks/redis/core.js';
import { DbMapper } from '../../src/sinks/redis/db-map.js';
import { openTarget } from '../../src/sinks/redis/open-target.js';
import { emptyStats } from '../../src/sinks/redis/stats.js';
import type { RedisTarget } from '../../src/sinks/redis/target.js';
import { BatchApplier } from '../../src/sync/apply.js';
import type { SpooledCommand } from '../../src/sync/spool.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';

describe('sync batch applier (real target)', () => {
  let server: RedisServer;
  let dst: Redis;
  let target: RedisTarget;
  before(async () => {
    server = await startRedis();
    dst = server.client();
    target = await openTarget({ connection: { host: '127.0.0.1', port: server.port } });
  });
  after(async () => {
    await target.close();
    dst.disconnect();
    await server.stop();
  });

  /**
   * A BatchApplier on the real target from offset 100, with no client-side command check (the target itself
   * refuses an unknown command when it is queued); `onError` as [sync] on_error (default: stop).
   */
  function applierFor(name: string, onError?: 'skip'): { counters: Counters; applier: BatchApplier } {
    const counters = new Counters();
    const core = new SinkCore(target, counters, emptyStats(), DEFAULT_CONN_LIMITS, 'replace', 'skip');
    const applier = new BatchApplier({
      target,
      core,
      counters,
      dbs: new DbMapper({ map: new Map(), rest: null }, false),
      name,
      start: { replid: 'r1', offset: 100, db: 0 },
      forwardPublish: false,
      knownCommands: null,
      ...(onError ? { onError } : {}),
    });
    return { counters, applier };
  }

  test('a batch refused at queue time while the next is queued: sent again first; order and counts kept', async () => {
    const { counters, applier } = applierFor('unit', 'skip');
    let offset = 100;
    const batch = (...cmds: string[][]): SpooledCommand[] =>
      cmds.map((argv) => ({ argv: argv.map((a) => Buffer.from(a)), offset: (offset += 10) }));
    await applier.apply(batch(['INCR', 'c'], ['RPUSH', 'l', 'a']));
    await applier.apply(batch(['INCR', 'c'], ['NOSUCHCOMMAND', 'bad'], ['RPUSH', 'l', 'b']));
    // Queued while the refused batch's EXEC is in flight: must run after it.
    await applier.apply(batch(['INCR', 'c'], ['RPUSH', 'l', 'c']));
    await applier.apply(batch(['INCR', 'c'], ['RPUSH', 'l', 'd'], ['SELECT', '2'], ['SET', 'in2', 'x']));
    await applier.idle();
    assert.equal(await dst.get('c'), '4');
    assert.deepEqual(await dst.lrange('l', 0, -1), ['a', 'b', 'c', 'd']);
    assert.equal(await dst.get('__shake:sync:unit'), `r1 ${offset} 2`);
    assert.equal(applier.appliedOffset, offset);
    await dst.select(2);
    assert.equal(await dst.get('in2'), 'x');
    await dst.select(0);
    assert.equal(counters.failed, 1);
    assert.equal(counters.failures[0]?.key?.toString(), 'bad');
    assert.equal(applier.stats.batches, 4);
  });

  test('on_error stop: a batch refused when queued stops the run before it; the batch before it is applied', async () => {
    await dst.flushall();
    const { applier } = applierFor('unit2');
    const b = (offset: number, ...argv: string[]): SpooledCommand => ({
      argv: argv.map((a) => Buffer.from(a)),
      offset,
    });
    await applier.apply([b(110, 'INCR', 'c')]);
    await applier.apply([b(120, 'INCR', 'c'), b(130, 'NOSUCHCOMMAND', 'bad')]);
    await assert.rejects(
      applier.apply([b(140, 'INCR', 'c')]),
      /^CommandRejectedError: NOSUCHCOMMAND "bad" \(db 0\) at offset 130 was refused by .*stopped before it .*checkpoint stays at offset 110/,
    );
    assert.equal(await dst.get('c'), '1');
    assert.equal(await dst.get('__shake:sync:unit2'), 'r1 110 0');
  });
});
