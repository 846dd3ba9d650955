/**
 * `--db-map` on a standalone target during the stream: the dbs that MOVE, COPY ... DB and SWAPDB name are mapped
 * like SELECT's (real servers, expected values read back from the source):
 * - `0:3,1:4,2:5` under the random workload (MOVE/COPY DB/SWAPDB/RENAME across dbs, FLUSHDB): target db 3/4/5
 *   equal to source db 0/1/2;
 * - dbs merged into one target db: a MOVE or a SWAPDB between two merged dbs changes nothing there (skipped,
 *   counted), a COPY ... DB between them is a COPY in that db; a SWAPDB between a merged db and another one
 *   cannot be applied (it would carry the other merged dbs' keys along): the run stops with one clear line.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDbMap } from '../../src/sinks/redis/db-map.js';
import { serverPair } from '../harness/server-pair.js';
import { readKeyspace } from '../helpers/keyspace.js';
import {
  assertNoFailures,
  assertSynced,
  sleep,
  stateDir,
  syncPair,
  userKeys,
  waitApplied,
  waitStreaming,
} from './helpers.js';
import { runWorkload } from './workload.js';

describe('sync with --db-map into a standalone target: MOVE, COPY ... DB, SWAPDB', () => {
  const p = serverPair({ config: { 'repl-backlog-size': '16mb' } });

  test('0:3,1:4,2:5 under the random workload: each source db lands in its target db, equal', async () => {
    const { src, dst } = p;
    await runWorkload(src, { seed: 71, ops: 800 });
    const run = syncPair(p, { stateDir: stateDir(), dbMap: parseDbMap('0:3,1:4,2:5') });
    await waitStreaming(run.progress);
    await runWorkload(src, { seed: 72, ops: 3000 });
    await sleep(400);
    const pl = src.pipeline();
    for (const db of [0, 1, 2]) {
      pl.select(db);
      for (let i = 0; i < 40; i++) pl.exists(`t:${i}`);
    }
    await pl.exec();
    await waitApplied(src, run.checkpoint, 30_000, run);
    const result = await run.stop();
    const link = result.links[0]!;
    assertNoFailures(link);
    const held = userKeys(await readKeyspace(p.target));
    assert.deepEqual([...new Set(held.map((r) => r.db))].sort(), [3, 4, 5]);
    assertSynced(
      held.map((r) => ({ ...r, db: r.db - 3 })),
      await readKeyspace(p.source),
    );
    await src.flushall();
    await dst.flushall();
  });

  test('merged dbs (0:0,1:0,2:5): MOVE and SWAPDB inside the merged db skipped, COPY DB applied; a SWAPDB out of it stops the run', async () => {
    const { src, dst } = p;
    await src.select(0); // the workload above left this client in another db
    const run = syncPair(p, { stateDir: stateDir(), dbMap: parseDbMap('0:0,1:0,2:5') });
    await waitStreaming(run.progress);
    await src.set('a', '1');
    await src.call('MOVE', 'a', '1'); // a: db 0 -> db 1 on the source; both are target db 0
    await src.select(1);
    await src.rpush('l1', 'x', 'y');
    await src.call('COPY', 'l1', 'l0', 'DB', '0'); // db 1 -> db 0: one target db
    await src.call('COPY', 'l1', 'l2', 'DB', '2'); // db 1 -> db 2: target db 0 -> 5
    await src.call('SWAPDB', '0', '1'); // both target db 0: nothing changes there
    await src.select(0);
    await src.incr('n');
    await waitApplied(src, run.checkpoint, 30_000, run);
    const result = await run.stop();
    const link = result.links[0]!;
    assertNoFailures(link);
    assert.equal(link.apply.mergedDbNoops, 2);
    assert.equal(await dst.get('a'), '1');
    assert.deepEqual(await dst.lrange('l1', 0, -1), ['x', 'y']);
    assert.deepEqual(await dst.lrange('l0', 0, -1), ['x', 'y']);
    assert.equal(await dst.get('n'), '1');
    await dst.select(5);
    assert.deepEqual(await dst.lrange('l2', 0, -1), ['x', 'y']);
    await dst.select(0);

    // A SWAPDB between target db 0 (source dbs 0 and 1) and db 5 (source db 2): refused, checkpoint kept.
    const again = syncPair(p, { stateDir: stateDir(), dbMap: parseDbMap('0:0,1:0,2:5') });
    await waitStreaming(again.progress);
    const before = await again.checkpoint();
    await src.call('SWAPDB', '0', '2');
    const err = await again.done.then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(err, 'the run stopped');
    assert.match(err.message, /SWAPDB 0 2: --db-map merges source db 0 with other dbs into target db 0/);
    assert.equal(await again.checkpoint(), before);
  });
});
