/**
 * The spool keeps the replica link drained: a target throttled by DEBUG SLEEP falls far behind a source whose
 * `client-output-buffer-limit replica` is 4 MB, yet the source never drops shake (no reconnect, one full sync)
 * and the target ends equal. Plus the spool's own unit behaviour (order, offsets, segments, the size bound) and
 * the master-only command rewrites.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { clientForm } from '../../src/sync/master-rewrite.js';
import { Spool, SpoolFullError } from '../../src/sync/spool.js';
import { parseCheckpoint, slotCheckpointKey } from '../../src/sync/checkpoint.js';
import { keySlot } from '../../src/cluster/index.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { nameOf, sleep, standaloneCheckpoint, startSync, stateDir, syncStats, waitApplied } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s);
const text = (argv: Buffer[]): string => argv.map((a) => a.toString()).join(' ');

describe('spool (unit)', () => {
  test('commands come back in order with their offsets, across segments; read segments are deleted', async () => {
    const dir = stateDir();
    const spool = new Spool(dir, { maxBytes: 1 << 30, segmentBytes: 4096 });
    for (let i = 0; i < 1000; i++) {
      spool.append([b('SET'), b(`k${i}`), Buffer.alloc(i % 50, 'x')], i * 10);
      if (i % 10 === 9) spool.flush(); // as the link does once per tick
    }
    assert.ok(readdirSync(dir).length > 3, 'several segments');
    const got: number[] = [];
    while (got.length < 1000) {
      const cmds = await spool.next(10_000, 100);
      for (const c of cmds) {
        assert.equal(c.argv[1]!.toString(), `k${got.length}`);
        assert.equal(c.argv[2]!.length, got.length % 50);
        got.push(c.offset);
      }
    }
    assert.deepEqual(
      got,
      Array.from({ length: 1000 }, (_, i) => i * 10),
    );
    assert.ok(spool.drained);
    assert.ok(readdirSync(dir).length <= 2, 'read segments deleted');
    assert.deepEqual(await spool.next(1000, 50), []);
    spool.close();
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a command bigger than the read chunk; the size bound is a clear error', async () => {
    const spool = new Spool(stateDir(), { maxBytes: 3 << 20 });
    spool.append([b('SET'), b('big'), Buffer.alloc(2 << 20, 'y')], 5);
    const [big] = await spool.next(1, 10);
    assert.equal(big!.argv[2]!.length, 2 << 20);
    spool.append([b('SET'), b('big'), Buffer.alloc(2 << 20, 'y')], 6);
    assert.throws(
      () => spool.append([b('SET'), b('big2'), Buffer.alloc(2 << 20, 'y')], 7),
      (e: Error) => e instanceof SpoolFullError && /spool_max_bytes/.test(e.message),
    );
    spool.close();
  });
});

describe('master-only commands rewritten for a client connection', () => {
  test('XADD/XTRIM exact trim with LIMIT (6.2+ masters) lose the LIMIT; approximate ones keep it', () => {
    assert.equal(
      text(
        clientForm(
          [b('XADD'), b('s'), b('MAXLEN'), b('='), b('20'), b('LIMIT'), b('5'), b('1-1'), b('f'), b('v')],
          'xadd',
        ),
      ),
      'XADD s MAXLEN = 20 1-1 f v',
    );
    assert.equal(
      text(clientForm([b('XTRIM'), b('s'), b('MINID'), b('='), b('5-0'), b('LIMIT'), b('100')], 'xtrim')),
      'XTRIM s MINID = 5-0',
    );
    const approx = [
      b('XADD'),
      b('s'),
      b('NOMKSTREAM'),
      b('MAXLEN'),
      b('~'),
      b('20'),
      b('LIMIT'),
      b('5'),
      b('*'),
      b('f'),
      b('v'),
    ];
    assert.equal(clientForm(approx, 'xadd'), approx);
    const plain = [b('XADD'), b('s'), b('1-1'), b('LIMIT'), b('v')];
    assert.equal(clientForm(plain, 'xadd'), plain, 'a field named LIMIT after the id is left alone');
  });

  test('checkpoint values and slot keys', () => {
    assert.deepEqual(parseCheckpoint('k', 'abc 12 3'), { kind: 'at', replid: 'abc', offset: 12, db: 3 });
    assert.deepEqual(parseCheckpoint('k', 'loading abc'), { kind: 'loading' });
    assert.deepEqual(parseCheckpoint('k', null), { kind: 'none' });
    assert.throws(() => parseCheckpoint('k', 'hello'), /not a shake sync checkpoint/);
    for (const slot of [0, 1, 5000, 16383]) assert.equal(keySlot(b(slotCheckpointKey('n', slot))), slot);
  });
});

describe('sync into a throttled target: the spool keeps the source from dropping shake', () => {
  let source: RedisServer;
  let target: RedisServer;
  let src: Redis;
  let dst: Redis;
  before(async () => {
    [source, target] = await Promise.all([
      startRedis({
        config: {
          'client-output-buffer-limit': 'replica 4mb 4mb 1',
          'repl-backlog-size': '1mb',
          'enable-debug-command': 'yes',
        },
      }),
      startRedis({ config: { 'enable-debug-command': 'yes' } }),
    ]);
    src = source.client();
    dst = target.client();
  });
  after(async () => {
    src?.disconnect();
    dst?.disconnect();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  test('writes far above the target rate: no disconnect, no loss, spool peak above the buffer limit', async () => {
    const before = await syncStats(src);
    const run = startSync(source, target);
    const checkpoint = standaloneCheckpoint(dst, nameOf(source));
    while ((await checkpoint()) < 0) await sleep(20);
    // The target is blocked (DEBUG SLEEP) while the source takes ~12 MB of writes: shake falls far behind.
    const sleeper = target.client();
    const asleep = sleeper.call('DEBUG', 'SLEEP', '3');
    await sleep(100);
    const value = 'v'.repeat(1000);
    for (let round = 0; round < 40; round++) {
      const p = src.pipeline();
      for (let i = 0; i < 300; i++) p.set(`k:${round}:${i}`, value).incr('counter');
      await p.exec();
      await sleep(25); // paced: a reader that is not starved of CPU keeps the source's buffer under its limit
    }
    await asleep;
    sleeper.disconnect();
    await waitApplied(src, checkpoint, 60_000, run);
    const result = await run.stop();
    const link = result.links[0]!;
    assert.equal(link.reconnects, 0);
    assert.ok(link.peakSpoolBytes > 4 << 20, `spool peak ${link.peakSpoolBytes} (the source allows shake 4 MB)`);
    const after = await syncStats(src);
    assert.equal(after.full, before.full + 1, 'the source never dropped shake (one full sync)');
    assert.equal(await dst.dbsize(), (await src.dbsize()) + 1);
    assert.equal(await dst.get('counter'), '12000');
    await dst.del(`__shake:sync:${nameOf(source)}`);
    assert.equal(await dst.call('DEBUG', 'DIGEST'), await src.call('DEBUG', 'DIGEST'));
  });

  test('a gap the backlog no longer covers: +FULLRESYNC rebuilds the target exactly, nothing left over', async () => {
    const dir = stateDir();
    await dst.flushall();
    let run = startSync(source, target, { stateDir: dir });
    await src.set('first', '1');
    await waitApplied(src, standaloneCheckpoint(dst, nameOf(source)), 30_000, run);
    await run.stop();
    // More than the 1 MB backlog while shake is away, a key deleted on the source, a stray key on the target.
    const p = src.pipeline();
    for (let i = 0; i < 3000; i++) p.set(`gap:${i}`, 'g'.repeat(1000));
    p.del('first');
    await p.exec();
    await dst.set('stray', 'only on the target');
    const before = await syncStats(src);
    run = startSync(source, target, { stateDir: dir });
    await waitApplied(src, standaloneCheckpoint(dst, nameOf(source)), 30_000, run);
    const link = (await run.stop()).links[0]!;
    assert.equal(link.fullSyncs, 1);
    const after = await syncStats(src);
    assert.equal(after.partialErr, before.partialErr + 1, 'the source refused the partial resync');
    assert.equal(await dst.exists('stray', 'first'), 0);
    await dst.del(`__shake:sync:${nameOf(source)}`);
    assert.equal(await dst.call('DEBUG', 'DIGEST'), await src.call('DEBUG', 'DIGEST'));
  });
});
