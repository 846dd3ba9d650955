/**
 * The built `shake sync` command: kill -9 while the stream is applied under INCR/LPUSH/INCRBYFLOAT traffic,
 * then the same command line again with --until-caught-up resumes with PSYNC (the source's sync_partial_ok
 * counts it) and the target ends equal to the source (DEBUG DIGEST once shake's checkpoint key is removed);
 * SIGTERM stops cleanly with exit 0; a non-empty target and a source that refuses replication are one-line
 * errors.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli, spawnCli } from '../cli/helpers/run-cli.js';
import { startRedis } from '../harness/redis-server.js';
import { serverPair } from '../harness/server-pair.js';
import {
  assertSameDigest,
  incrTraffic,
  masterOffset,
  nameOf,
  pairCheckpoint,
  sleep,
  stateDir,
  syncStats,
  waitApplied,
  waitCheckpoint,
} from './helpers.js';

describe('shake sync (CLI)', () => {
  const p = serverPair(
    { config: { 'repl-backlog-size': '32mb', 'enable-debug-command': 'yes' } },
    { config: { 'enable-debug-command': 'yes' } },
  );

  test('kill -9 during the stream, then the same command line resumes exactly once (--until-caught-up)', async () => {
    const { source, src } = p;
    const cwd = stateDir();
    const args = ['sync', '--source', source.url, '--target', p.target.url];
    await src.call('DEBUG', 'POPULATE', '2000', 'k', '32');
    const before = await syncStats(src);
    const first = spawnCli(args, { cwd });
    const load = incrTraffic(src);
    // Let it load the snapshot and apply part of the stream.
    await waitCheckpoint(pairCheckpoint(p), 1, first.stderr);
    await sleep(500);
    first.child.kill('SIGKILL');
    await first.exit;
    await sleep(300);
    await load.stop();
    await src.set('after-kill', 'yes');
    const second = await runCli([...args, '--until-caught-up'], { cwd, timeoutMs: 60_000 });
    assert.equal(second.code, 0, second.stderr);
    const [name, replid, offset] = second.stdout.toString().trim().split(' ');
    assert.equal(name, nameOf(source));
    assert.match(replid ?? '', /^[0-9a-f]{40}$/);
    assert.equal(Number(offset), await masterOffset(src));
    const after = await syncStats(src);
    assert.equal(after.full, before.full + 1, 'one snapshot only (the first run)');
    assert.equal(after.partialOk, before.partialOk + 1, 'the second run resumed with PSYNC');
    assert.match(second.stderr, /full syncs 0, partial 1/);
    await assertSameDigest(p);
  });

  test('SIGTERM stops cleanly: exit 0, checkpoint at what the target holds, summary', async () => {
    const { src, dst } = p;
    await dst.flushall();
    const run = spawnCli(['sync', '--source', p.source.url, '--target', p.target.url, '--flush-target'], {
      cwd: stateDir(),
    });
    await src.incr('n:sigterm');
    await waitApplied(src, pairCheckpoint(p));
    run.child.kill('SIGTERM');
    assert.equal(await run.exit, 0, run.stderr());
    assert.match(run.stderr(), /sync stopped after/);
    assert.equal(await dst.get('n:sigterm'), await src.get('n:sigterm'));
  });

  test('a non-empty target without a checkpoint is refused (one line, exit 1)', async () => {
    const other = await startRedis();
    try {
      const c = other.client();
      await c.set('someone-else', 'x');
      c.disconnect();
      const r = await runCli(['sync', '--source', p.source.url, '--target', other.url], { cwd: stateDir() });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: the target is not empty \(1 keys\): give --flush-target/m);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    } finally {
      await other.stop();
    }
  });

  test('a source that refuses SYNC/PSYNC (ElastiCache-like): the error names shake rump --live', async () => {
    const ec = await startRedis({ elasticache: true });
    try {
      const r = await runCli(['sync', '--source', ec.url, '--target', p.target.url, '--flush-target'], {
        cwd: stateDir(),
      });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /shake rump --live/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    } finally {
      await ec.stop();
    }
  });
});
