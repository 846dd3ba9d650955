/**
 * The spool keeps the replica link drained: a target throttled by DEBUG SLEEP falls far behind a source whose
 * `client-output-buffer-limit replica` is 4 MB, yet the source never drops shake (no reconnect, one full sync)
 * and the target ends equal. Plus the spool's own unit behaviour (order, offsets, segments, the size bound) and
 * the master-only command rewrites.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { clientForm } from '../../src/sync/master-rewrite.js';
import { Spool, SpoolFullError } from '../../src/sync/spool.js';
import { parseCheckpoint, slotCheckpointKey } from '../../src/sync/checkpoint.js';
import { keySlot } from '../../src/cluster/index.js';
import { serverPair } from '../harness/server-pair.js';
import { assertSameDigest, blockTarget, sleep, stateDir, syncPair, syncStats, waitCheckpoint } from './helpers.js';

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
  const p = serverPair(
    {
      config: {
        'client-output-buffer-limit': 'replica 4mb 4mb 1',
        'repl-backlog-size': '1mb',
        'enable-debug-command': 'yes',
      },
    },
    { config: { 'enable-debug-command': 'yes' } },
  );

  test('writes far above the target rate: no disconnect, no loss, spool peak above the buffer limit', async () => {
    const { src, dst } = p;
    const before = await syncStats(src);
    const notices: string[] = [];
    const run = syncPair(p, { onNotice: (m) => notices.push(m) });
    await waitCheckpoint(run.checkpoint);
    // The target is blocked (DEBUG SLEEP) while the source takes ~12 MB of writes: shake falls far behind.
    const blocked = await blockTarget(p.target, 3);
    const value = 'v'.repeat(1000);
    for (let round = 0; round < 40; round++) {
      const batch = src.pipeline();
      for (let i = 0; i < 300; i++) batch.set(`k:${round}:${i}`, value).incr('counter');
      await batch.exec();
      // Paced (~7.5 MB/s, all within the target's 3 s sleep): a reader stalled by a loaded machine for up to ~0.5 s
      // still keeps the source's 4 MB buffer under its limit (at 25 ms, 12 MB/s, it once did not under heavy load).
      await sleep(40);
    }
    await blocked.awake;
    const result = await run.finish(60_000);
    const link = result.links[0]!;
    assert.equal(link.reconnects, 0, notices.join('\n'));
    assert.ok(link.peakSpoolBytes > 4 << 20, `spool peak ${link.peakSpoolBytes} (the source allows shake 4 MB)`);
    const after = await syncStats(src);
    assert.equal(after.full, before.full + 1, 'the source never dropped shake (one full sync)');
    assert.equal(await dst.dbsize(), (await src.dbsize()) + 1);
    assert.equal(await dst.get('counter'), '12000');
    await assertSameDigest(p);
  });

  test('a gap the backlog no longer covers: +FULLRESYNC rebuilds the target exactly, nothing left over', async () => {
    const { src, dst } = p;
    const dir = stateDir();
    await dst.flushall();
    let run = syncPair(p, { stateDir: dir });
    await src.set('first', '1');
    await run.finish();
    // More than the 1 MB backlog while shake is away, a key deleted on the source, a stray key on the target.
    const gap = src.pipeline();
    for (let i = 0; i < 3000; i++) gap.set(`gap:${i}`, 'g'.repeat(1000));
    gap.del('first');
    await gap.exec();
    await dst.set('stray', 'only on the target');
    const before = await syncStats(src);
    run = syncPair(p, { stateDir: dir });
    const link = (await run.finish()).links[0]!;
    assert.equal(link.fullSyncs, 1);
    const after = await syncStats(src);
    assert.equal(after.partialErr, before.partialErr + 1, 'the source refused the partial resync');
    assert.equal(await dst.exists('stray', 'first'), 0);
    await assertSameDigest(p);
  });
});
