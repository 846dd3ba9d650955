/**
 * `--verify` on restore, rump and sync (--until-caught-up): after the copy the same check runs, its summary is
 * printed and it sets the exit code (0 equal; 1 when the target holds something else, here a key that was
 * there before).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { runCli } from '../cli/helpers/run-cli.js';
import { loadExpected } from '../helpers/load-records.js';
import { NO_SYNC_DELAY } from './helpers.js';

describe('--verify on restore and rump', () => {
  const fx = loadExpected('redis-7.0');
  let loaded: RedisServer;
  let target: RedisServer;
  before(async () => {
    [loaded, target] = await Promise.all([startRedis({ rdbFile: fx.rdbFile, config: NO_SYNC_DELAY }), startRedis()]);
  });
  after(async () => {
    await Promise.all([loaded?.stop(), target?.stop()]);
  });

  test('restore --verify: equal after the load (exit 0); a key already on the target is extra (exit 1)', async () => {
    const c = target.client();
    try {
      await c.flushall();
      const ok = await runCli(['restore', fx.rdbFile!, '--target', target.url, '--verify']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stderr, /verify: source and target are equal/);
      await c.flushall();
      await c.function('FLUSH');
      await c.set('was-here-before', '1');
      const bad = await runCli(['restore', fx.rdbFile!, '--target', target.url, '--verify', '--verify-report', '-']);
      assert.equal(bad.code, 1, bad.stderr);
      assert.deepEqual(JSON.parse(bad.stdout.toString()), { db: 0, key: 'was-here-before', problem: 'extra' });
    } finally {
      c.disconnect();
    }
  });

  test('sync --until-caught-up --verify: equal once caught up, the checkpoint key left out (exit 0)', async () => {
    const c = target.client();
    const cwd = mkdtempSync(join(tmpdir(), 'shake-check-sync-'));
    try {
      await c.flushall();
      await c.function('FLUSH');
      const r = await runCli(
        [
          'sync',
          '--source',
          loaded.url,
          '--target',
          target.url,
          '--until-caught-up',
          '--functions',
          'replace',
          '--verify',
        ],
        { cwd, timeoutMs: 60_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await c.keys('__shake:*')).length > 0, 'sync keeps its checkpoint in the target');
      assert.match(r.stderr, /verify: source and target are equal/);
    } finally {
      c.disconnect();
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  test('rump --verify: equal after the copy (exit 0)', async () => {
    const c = target.client();
    try {
      await c.flushall();
      await c.function('FLUSH');
      const r = await runCli(['rump', '--source', loaded.url, '--target', target.url, '--verify', '--rate', '0']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /verify: \d+ keys compared, \d+ equal, 0 differing/);
      assert.match(r.stderr, /verify: source and target are equal/);
    } finally {
      c.disconnect();
    }
  });
});
