/**
 * A stream command the target does not have or refuses never leaves a silent difference ([sync] on_error):
 * - a real 6.2 target receiving FUNCTION LOAD from a 7.0 source (6.2 has no FUNCTION): with `stop` (the
 *   default) the run ends before it, naming the command and its offset, nothing after it applied, the checkpoint
 *   just before its batch; the same run again stops at the same place; with `skip` it is counted and the rest
 *   applied;
 * - a WRONGTYPE divergence (the target's key changed behind shake's back): the run stops right after the
 *   transaction that held it, naming the key; with `skip` the failure is counted with its key; the same through
 *   the CLI (`--on-error skip`: exit 1 with the key; default: one error line, exit 1).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../cli/helpers/run-cli.js';
import { serverPair } from '../harness/server-pair.js';
import { serverBinary } from '../harness/servers.js';
import { sleep, stateDir, syncPair, waitApplied, waitStreaming } from './helpers.js';

const LIB = "#!lua name=rejlib\nredis.register_function('rejf', function() return 1 end)";

describe('sync 7.0 -> 6.2: a command the target does not have', () => {
  const p = serverPair({ config: { 'repl-backlog-size': '16mb' } }, () => ({ binary: serverBinary('redis-6.2') }));

  test('stop (default): ends before FUNCTION LOAD, the key and offset named, nothing after it applied', async () => {
    const { src, dst } = p;
    await src.set('before', '1');
    const run = syncPair(p, { stateDir: stateDir() });
    await waitStreaming(run.progress);
    await src.incr('n');
    await waitApplied(src, run.checkpoint, 20_000, run);
    const at = await run.checkpoint();
    await src.call('FUNCTION', 'LOAD', LIB);
    await src.incr('n');
    const err = await run.done.then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(err, 'the run stopped');
    assert.match(err.message, /^FUNCTION "LOAD" \(db 0\) at offset \d+: the target does not have FUNCTION/);
    assert.match(err.message, /--on-error skip/);
    assert.equal(await dst.get('n'), '1', 'nothing after it applied');
    assert.equal(await run.checkpoint(), at);

    // The same run again stops at the same place (exactly where the checkpoint is).
    const again = syncPair(p, { stateDir: stateDir() });
    const err2 = await again.done.then(
      () => null,
      (e: Error) => e,
    );
    assert.match(String(err2?.message), /the target does not have FUNCTION/);
    assert.equal(await dst.get('n'), '1');

    // skip: counted with its command, the rest applied.
    const skip = syncPair(p, { stateDir: stateDir(), onError: 'skip' });
    await skip.finish();
    const r = await skip.done;
    const link = r.links[0]!;
    assert.equal(link.apply.unknown.get('function'), 1);
    assert.equal(link.counters.failed, 1);
    assert.match(link.counters.failures[0]!.message, /FUNCTION: the target does not have this command/);
    assert.equal(await dst.get('n'), '2');
  });
});

describe('sync 7.0 -> 7.0: a command the target refuses (WRONGTYPE divergence)', () => {
  const p = serverPair({ config: { 'repl-backlog-size': '16mb' } });

  test('stop: ends after the transaction that held it, the key named; skip: counted with its key', async () => {
    const { src, dst } = p;
    await src.set('x', '1');
    const run = syncPair(p, { stateDir: stateDir() });
    await waitStreaming(run.progress);
    await waitApplied(src, run.checkpoint, 20_000, run);
    // Behind shake's back: the target's x becomes a list.
    await dst.del('x');
    await dst.rpush('x', 'a');
    await src.incr('x');
    await src.set('after', '1');
    const err = await run.done.then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(err, 'the run stopped');
    assert.match(err.message, /^INCR "x" \(db 0\) at offset \d+ failed on the target: WRONGTYPE/);
    assert.match(err.message, /may now differ from the source: stopped/);
    const link = run.progress.get(`127.0.0.1:${p.source.port}`);
    assert.equal(link.counters.failures[0]?.key?.toString(), 'x');

    // skip: the same divergence is counted with its key and the run goes on.
    await src.incr('x');
    const skip = syncPair(p, { stateDir: stateDir(), onError: 'skip' });
    await skip.finish();
    const r = await skip.done;
    assert.ok(r.links[0]!.counters.failed >= 1);
    assert.equal(r.links[0]!.counters.failures[0]?.key?.toString(), 'x');
    assert.equal(await dst.get('after'), '1');
    await sleep(0);
  });

  test('the CLI: --on-error skip counts it (exit 1, the key named); the default stops with one line', async () => {
    const { src, dst } = p;
    const args = ['sync', '--source', p.source.url, '--target', p.target.url, '--until-caught-up', '-q'];
    await dst.del('y');
    await dst.rpush('y', 'a'); // y only on the target, as a list
    await src.incr('y');
    const skip = await runCli([...args, '--on-error', 'skip'], { cwd: stateDir() });
    assert.equal(skip.code, 1, skip.stderr);
    assert.match(skip.stderr.trim(), /^error: .*1 key\(s\) or command\(s\) failed .*"y": incr: WRONGTYPE/i);
    await src.incr('y');
    const stop = await runCli(args, { cwd: stateDir() });
    assert.equal(stop.code, 1, stop.stderr);
    const lines = stop.stderr.trim().split('\n');
    assert.equal(lines.length, 1, stop.stderr);
    assert.match(lines[0]!, /^error: INCR "y" \(db 0\) at offset \d+ failed on the target: WRONGTYPE .*stopped/);
  });
});
