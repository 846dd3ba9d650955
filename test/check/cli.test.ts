/**
 * The built `shake check` command: exit 0 when equal, 1 with differences (the report as JSON lines, binary
 * keys as {"base64":...}), 2 when it cannot check: a wrong password, a bad source, a target that goes away
 * in the middle of the check. Each with a one-line message on stderr.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { runCli, spawnCli } from '../cli/helpers/run-cli.js';
import { NO_SYNC_DELAY } from './helpers.js';

describe('shake check (CLI)', () => {
  let source: RedisServer;
  let target: RedisServer;
  const dir = mkdtempSync(join(tmpdir(), 'shake-check-'));
  before(async () => {
    [source, target] = await Promise.all([startRedis({ password: 's3cret', config: NO_SYNC_DELAY }), startRedis()]);
    const s = source.client({ password: 's3cret' });
    const t = target.client();
    for (const c of [s, t]) {
      await c.set('same', 'v');
      await c.set(Buffer.from([0xff, 0x00, 0x41]), 'bin');
      await c.rpush('list', 'a', 'b');
    }
    await t.set(Buffer.from([0xff, 0x00, 0x41]), 'bIn');
    s.disconnect();
    t.disconnect();
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { SHAKE_SOURCE_PASSWORD: 's3cret' };

  test('differences: exit 1, the report names the binary key as base64, summary on stderr', async () => {
    const report = join(dir, 'diff.jsonl');
    const r = await runCli(
      ['check', '--source', source.url, '--target', target.url, '--report', report, '--rounds', '0'],
      { env },
    );
    assert.equal(r.code, 1, r.stderr);
    const lines = readFileSync(report, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines, [
      {
        db: 0,
        key: { base64: Buffer.from([0xff, 0x00, 0x41]).toString('base64') },
        problem: 'value',
        what: 'bytes',
        firstDifferenceAt: 1,
      },
    ]);
    assert.match(r.stderr, /check: 3 keys compared, 2 equal, 1 differing \(value 1\)/);
    assert.match(r.stderr, /source read through replication \(1 snapshot\(s\)/);
    assert.match(r.stderr, /DIFFERENCES FOUND/);
  });

  test('--source-read scan: the same difference, read by SCAN (no snapshot); --json says which', async () => {
    const r = await runCli(
      ['check', '--source', source.url, '--target', target.url, '--rounds', '0', '--source-read', 'scan', '--json'],
      { env },
    );
    assert.equal(r.code, 1, r.stderr);
    const summary = JSON.parse(r.stdout.toString()) as Record<string, unknown>;
    assert.equal(summary.sourceRead, 'scan');
    assert.equal(summary.keysCompared, 3);
    assert.deepEqual(summary.differences, { value: 1 });
    assert.doesNotMatch(r.stderr, /source read through replication/);
  });

  test('--report - writes to stdout; equal with --key filters: exit 0', async () => {
    const r = await runCli(
      ['check', '--source', source.url, '--target', target.url, '--report', '-', '--key', 'l*', '--key', 'same'],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr, /2 keys compared, 2 equal, 0 differing/);
  });

  test('a wrong password: exit 2 and one line naming the source', async () => {
    const r = await runCli(['check', '--source', source.url, '--target', target.url], {
      env: { SHAKE_SOURCE_PASSWORD: 'wrong' },
    });
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^error: .*(WRONGPASS|invalid|authentication)/i);
  });

  test('a source file that does not exist: exit 2', async () => {
    const r = await runCli(['check', '--source', join(dir, 'nope.rdb'), '--target', target.url]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope\.rdb: no such file/);
  });

  test('Ctrl-C during the check: exit 2, the summary says it was interrupted (never "equal")', async () => {
    const s = source.client({ password: 's3cret' });
    const t = target.client();
    const keys = Array.from({ length: 400 }, (_, i) => `slow:${i}`);
    for (const c of [s, t]) await c.mset(...keys.flatMap((k) => [k, 'v']));
    // 50 keys/s: the check is still reading when SIGINT comes.
    const run = spawnCli(['check', '--source', source.url, '--target', target.url, '--key', 'slow:*', '--rate', '50'], {
      env,
    });
    // Once the check holds its connection to the target (named shake-check), it is reading at 50 keys/s.
    for (let i = 0; i < 200 && !String(await t.client('LIST')).includes('name=shake-check'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill('SIGINT');
    const code = await run.exit;
    const stderr = run.stderr();
    for (const c of [s, t]) {
      await c.del(...keys);
      c.disconnect();
    }
    assert.equal(code, 2, stderr);
    assert.match(stderr, /check: INTERRUPTED/);
    assert.doesNotMatch(stderr, /source and target are equal/);
  });

  test('the target goes away during the check: exit 2 and a message naming it', async () => {
    const doomed = await startRedis();
    const s = source.client({ password: 's3cret' });
    const d = doomed.client();
    // Enough big keys (compared in chunks, one round trip each) that the check is still running when the target stops.
    for (let i = 0; i < 300; i++) {
      const members = Array.from({ length: 200 }, (_, j) => `m${j}`);
      await s.sadd(`big:${i}`, ...members);
      await d.sadd(`big:${i}`, ...members);
    }
    d.disconnect();
    const run = spawnCli(
      ['check', '--source', source.url, '--target', doomed.url, '--big-key-threshold', '1', '--rounds', '0'],
      { env },
    );
    // Once the check is comparing (the target has answered its first commands), the target stops answering
    // (CLIENT PAUSE) and is killed: not a timer, which a fast check outran in CI.
    const watch = doomed.client();
    for (;;) {
      const stats = await watch.info('commandstats');
      if (/cmdstat_(dump|scard|sscan|pexpiretime|memory)/.test(stats)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await watch.call('CLIENT', 'PAUSE', '10000', 'ALL');
    watch.disconnect();
    doomed.process.kill('SIGKILL');
    const code = await run.exit;
    await doomed.stop();
    const stderr = run.stderr();
    for (let i = 0; i < 300; i += 100) {
      await s.del(...Array.from({ length: 100 }, (_, j) => `big:${i + j}`));
    }
    s.disconnect();
    assert.equal(code, 2, stderr);
    assert.match(stderr, new RegExp(`error: .*127\\.0\\.0\\.1:${doomed.port}`));
  });
});
