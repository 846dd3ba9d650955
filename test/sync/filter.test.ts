/**
 * shake sync with a key selection (restore's --db / --key / --exclude / --type): the snapshot goes through the
 * restore pipeline's key filter, the command stream through its command form. Expected values are the
 * source's own keys (read back from the source) that the selection names, chosen here by the test itself; the
 * target must hold exactly those, value by value. Multi-key commands with keys on both sides: DEL/MSET cut to
 * the selected keys, RENAME/MOVE out of the selection are a DEL, COPY out of it is nothing, the rest (here
 * SUNIONSTORE) applied as they are and counted.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../cli/helpers/run-cli.js';
import { serverPair } from '../harness/server-pair.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import type { KeyRecord } from '../helpers/records.js';
import {
  assertNoFailures,
  assertSynced,
  sleep,
  stateDir,
  syncPair,
  syncStats,
  userKeys,
  waitStreaming,
} from './helpers.js';
import { runWorkload } from './workload.js';

const keyOf = (r: KeyRecord): string => Buffer.from(r.key_b64, 'base64').toString('latin1');

describe('sync with a key selection', () => {
  const p = serverPair({ config: { 'repl-backlog-size': '16mb' } });
  test('--db 0 --key k:* --exclude k:skip*: snapshot and stream; mixed multi-key commands cut, or applied and counted', async () => {
    const { source, target, src, dst } = p;
    await src.flushall();
    await dst.flushall();
    const db1 = source.client();
    await db1.select(1);
    for (let i = 0; i < 50; i++) await src.set(`k:${i}`, `v${i}`);
    await src.mset('o:1', 'x', 'k:skip1', 'x', 'o:2', 'y');
    await src.sadd('k:s', 'a', 'b');
    await src.sadd('o:s', 'c', 'd');
    await db1.set('k:1', 'db1');
    const dir = stateDir();
    const run = syncPair(p, {
      stateDir: dir,
      filter: { dbs: [0], keyGlobs: ['k:*'], excludeGlobs: ['k:skip*'] },
    });
    await waitStreaming(run.progress);
    await src.mset('k:a', '1', 'o:a', '2', 'k:skip2', '3'); // cut to k:a
    await src.del('k:1', 'o:1', 'k:skip1'); // cut to k:1
    await src.rename('k:2', 'o:2'); // leaves the selection: DEL k:2
    await src.move('k:3', 1); // leaves the selection: DEL k:3
    await src.call('COPY', 'k:4', 'o:4'); // lands outside: nothing
    await src.sunionstore('k:u', 'k:s', 'o:s'); // mixed: applied as it is, counted
    await src.hset('k:h', 'f', 'v');
    await src.set('o:9', 'left out');
    await db1.set('k:z', 'db 1 is left out');
    await db1.flushdb(); // db 1 only: left out
    await src.incr('k:n');
    const link = (await run.finish()).links[0]!;
    db1.disconnect();
    assertNoFailures(link);
    assert.equal(link.apply.filterCut, 4, 'MSET, DEL, RENAME and MOVE cut');
    assert.equal(link.apply.filterMixed, 1, 'SUNIONSTORE applied as it is');
    assert.ok(link.apply.filtered >= 4, `${link.apply.filtered} commands left out`);
    assert.equal(
      link.restore?.counters.skipped.get('filtered'),
      5,
      'o:1, k:skip1, o:2, o:s and db 1 left out of the snapshot',
    );
    // The target computed the union from what it holds (k:s only): what the source has for SUNION k:s.
    assert.deepEqual((await dst.smembers('k:u')).sort(), (await src.sunion('k:s')).sort());
    const selected = (await readKeyspace(source)).filter((r) => {
      const k = keyOf(r);
      return r.db === 0 && k.startsWith('k:') && !k.startsWith('k:skip') && k !== 'k:u';
    });
    const held = userKeys(await readKeyspace(target)).filter((r) => keyOf(r) !== 'k:u');
    assertRecordsMatch(held, selected);
    assert.ok(selected.length > 40);
  });

  test('--type list/hash/zset under a random workload (RENAME/COPY of left-out types guarded): exact', async () => {
    const { source, target, src, dst } = p;
    await src.flushall();
    await dst.flushall();
    const types = new Set(['list', 'hash', 'zset']);
    await runWorkload(src, { seed: 81, ops: 1000 });
    const run = syncPair(p, { filter: { types: ['list', 'hash', 'zset'] } });
    await runWorkload(src, { seed: 82, ops: 1000 });
    await waitStreaming(run.progress);
    await runWorkload(src, { seed: 83, ops: 1500 });
    // A hash renamed (kept), a string renamed over a hash (the hash must go), a hash copied over a string.
    await src.hset('rh:1', 'f', 'v');
    await src.hset('rh:3', 'f', 'v');
    await src.set('rs:1', 'x');
    await src.set('rs:2', 'y');
    await src.rename('rh:1', 'rh:2');
    await src.rename('rs:1', 'rh:3');
    await src.call('COPY', 'rh:2', 'rs:2', 'REPLACE');
    await sleep(400); // short TTLs pass; the source sends their DELs
    const link = (await run.finish()).links[0]!;
    assertNoFailures(link);
    assert.ok(link.apply.filtered > 100, `${link.apply.filtered} commands left out`);
    const expected = (await readKeyspace(source)).filter((r) => types.has(r.type));
    assert.ok(expected.some((r) => keyOf(r) === 'rs:2' && r.type === 'hash'));
    assert.ok(!expected.some((r) => keyOf(r) === 'rh:3'));
    assertSynced(await readKeyspace(target), expected);
  });

  test('the CLI takes the same flags (--key, --exclude-regex): resumed with PSYNC, --until-caught-up', async () => {
    const { source, target, src, dst } = p;
    await src.flushall();
    await dst.flushall();
    const dir = stateDir();
    await src.mset('a:1', '1', 'a:2', '2', 'b:1', '3', 'a:x9', '4');
    const args = ['--source', source.url, '--target', target.url, '--key', 'a:*', '--exclude-regex', 'x\\d$'];
    const first = await runCli(['sync', ...args, '--until-caught-up', '-q'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    await src.mset('a:3', '5', 'b:2', '6');
    await src.del('a:1', 'b:1');
    const before = await syncStats(src);
    const second = await runCli(['sync', ...args, '--until-caught-up'], { cwd: dir });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /key selection: \d+ commands left out, 2 cut to their selected keys/);
    assert.equal((await syncStats(src)).partialOk, before.partialOk + 1);
    assert.deepEqual((await dst.keys('*')).filter((k) => !k.startsWith('__shake')).sort(), ['a:2', 'a:3']);
  });
});
