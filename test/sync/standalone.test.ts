/**
 * shake sync, standalone 7.0 source -> standalone 7.0 target, disk ($<len>) and diskless ($EOF:) snapshots,
 * a seeded random workload before, during and after the snapshot: the target ends equal to the source value
 * by value (expected values read from the source itself). A second run in the same state directory resumes
 * with PSYNC (+CONTINUE, the source's sync_partial_ok counts it) and takes no second snapshot.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { serverPair } from '../harness/server-pair.js';
import { readKeyspace } from '../helpers/keyspace.js';
import {
  assertNoFailures,
  assertSynced,
  sleep,
  stateDir,
  syncPair,
  syncStats,
  waitApplied,
  waitStreaming,
} from './helpers.js';
import { runWorkload } from './workload.js';

const SOURCE_CONFIG = { 'repl-backlog-size': '16mb', 'enable-debug-command': 'yes' };

for (const diskless of [false, true]) {
  describe(`sync 7.0 -> 7.0 standalone, ${diskless ? 'diskless' : 'disk'} snapshot`, () => {
    const dir = stateDir();
    const p = serverPair(
      { config: { ...SOURCE_CONFIG, 'repl-diskless-sync': diskless ? 'yes' : 'no', 'repl-diskless-sync-delay': '0' } },
      { config: { 'enable-debug-command': 'yes' } },
    );
    before(async () => {
      await p.src.call('DEBUG', 'POPULATE', '3000', 'pop', '64');
      await runWorkload(p.src, { seed: diskless ? 11 : 12, ops: 1500 });
    });

    test('snapshot + stream under a random workload: the target equals the source', async () => {
      const { src } = p;
      const before = await syncStats(src);
      const run = syncPair(p, { stateDir: dir });
      // Writes while the snapshot is made, sent and loaded, then while the stream is applied.
      await runWorkload(src, { seed: diskless ? 21 : 22, ops: 1500 });
      await waitStreaming(run.progress);
      await runWorkload(src, { seed: diskless ? 23 : 24, ops: 2500 });
      await sleep(400); // the short TTLs pass; the source sends their DELs
      await waitApplied(src, run.checkpoint, 30_000, run);
      // REPLCONF ACK (once a second) reports what the target applied: the source sees shake at its offset.
      // (Read both each time: the master's PING, every 10 s, moves both on.)
      const deadline = Date.now() + 10_000;
      for (;;) {
        const applied = await run.checkpoint();
        const info = await src.info('replication');
        if (new RegExp(`^slave\\d+:.*offset=${applied},`, 'm').test(info)) break;
        assert.ok(Date.now() < deadline, `no ACK of offset ${applied}: ${info}`);
        await sleep(100);
      }
      const result = await run.stop();
      const link = result.links[0]!;
      assert.equal(result.interrupted, true);
      assert.equal(link.fullSyncs, 1);
      assert.equal(link.snapshot?.form, diskless ? 'diskless' : 'disk');
      assertNoFailures(link);
      assert.ok(link.counters.commandsWritten > 1000, `${link.counters.commandsWritten} commands applied`);
      assert.ok(link.apply.transactions > 0);
      assert.ok(link.apply.publishSkipped > 0, 'PUBLISH is not re-published by default');
      assertSynced(await readKeyspace(p.target), await readKeyspace(p.source));
      const after = await syncStats(src);
      assert.equal(after.full, before.full + 1);
    });

    test('the source drops the link twice (CLIENT KILL TYPE replica): resumed with PSYNC, nothing lost', async () => {
      const { src } = p;
      const before = await syncStats(src);
      const run = syncPair(p, { stateDir: dir });
      await waitStreaming(run.progress);
      for (let i = 0; i < 2; i++) {
        await runWorkload(src, { seed: 60 + i, ops: 500 });
        const resumed = (await syncStats(src)).partialOk;
        const killed = Number(await src.call('CLIENT', 'KILL', 'TYPE', 'replica'));
        assert.equal(killed, 1, 'the link was up when it was dropped');
        await runWorkload(src, { seed: 70 + i, ops: 500 });
        // The next drop only once this one was resumed (a loaded machine may take more than a moment to reconnect).
        const deadline = Date.now() + 30_000;
        while ((await syncStats(src)).partialOk === resumed && Date.now() < deadline) await sleep(50);
        await sleep(300);
      }
      await sleep(400);
      const link = (await run.finish()).links[0]!;
      assert.equal(link.reconnects, 2);
      assertNoFailures(link);
      const after = await syncStats(src);
      assert.equal(after.full, before.full);
      assert.equal(after.partialOk, before.partialOk + 3);
      assertSynced(await readKeyspace(p.target), await readKeyspace(p.source));
    });

    test('a second run in the same directory resumes with PSYNC (+CONTINUE), no new snapshot', async () => {
      const { src } = p;
      const before = await syncStats(src);
      await runWorkload(src, { seed: 31, ops: 1000 });
      const run = syncPair(p, { stateDir: dir });
      await runWorkload(src, { seed: 32, ops: 1000 });
      await sleep(400);
      const link = (await run.finish()).links[0]!;
      assert.equal(link.fullSyncs, 0);
      assert.equal(link.partialSyncs, 1);
      assertNoFailures(link);
      const after = await syncStats(src);
      assert.equal(after.full, before.full);
      assert.equal(after.partialOk, before.partialOk + 1);
      assertSynced(await readKeyspace(p.target), await readKeyspace(p.source));
    });
  });
}
