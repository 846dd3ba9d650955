/**
 * The `shake restore` command end to end (built CLI, child processes): an ACL user whose password comes from
 * SHAKE_TARGET_PASSWORD over rediss:// with the test CA; a refused password is one line and exit 1; a failed key
 * makes the exit code 1 and is listed; a bad flag value names the key.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tlsSupport } from '../harness/tls-support.js';
import { sharedTestCA, type TestCA } from '../harness/tls.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected, repoRoot } from '../helpers/load-records.js';
import { alignFor70, withoutSeenTimes } from './helpers.js';

const bin = join(repoRoot, 'bin', 'run.js');

function shake(args: string[], env: Record<string, string> = {}): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SHAKE_LOG_PROGRESS: 'never', ...env },
  });
  return { status: r.status, stderr: r.stderr };
}

describe('shake restore (CLI)', () => {
  let plain: RedisServer;
  before(async () => {
    plain = await startRedis({
      users: [{ name: 'loader', password: 's3cret', rules: '~* &* +@all' }],
      password: 'adminpw',
    });
  });
  after(async () => {
    await plain?.stop();
  });

  it('ACL user with the password from SHAKE_TARGET_PASSWORD', async () => {
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    const r = shake(['restore', fx.rdbFile as string, '--target', plain.url, '--target-user', 'loader'], {
      SHAKE_TARGET_PASSWORD: 's3cret',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`${fx.total} keys read, ${fx.records.length} written`));
    const back = await readKeyspace({ host: plain.host, port: plain.port, password: 'adminpw' });
    assert.equal(back.length, fx.records.length);
  });

  it('a wrong password: one line naming the user and the server, exit 1', () => {
    const r = shake(
      ['restore', loadExpected('redis-7.0').rdbFile as string, '--target', plain.url, '--target-user', 'loader'],
      {
        SHAKE_TARGET_PASSWORD: 'nope',
      },
    );
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^error: target 127\.0\.0\.1:\d+ refused the password of user loader \(WRONGPASS .*SHAKE_TARGET_PASSWORD.*--target-user/,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('existing keys under --on-conflict error: listed, exit 1; --on-conflict skip: exit 0', () => {
    const file = loadExpected('redis-7.0').rdbFile as string;
    const env = { SHAKE_TARGET_PASSWORD: 's3cret' };
    const err = shake(['restore', file, '--target', plain.url, '--target-user', 'loader', '--on-error', 'skip'], env);
    assert.equal(err.status, 1);
    assert.match(err.stderr, /first failures/);
    assert.match(err.stderr, /the key exists in the target/);
    const skip = shake(
      [
        'restore',
        file,
        '--target',
        plain.url,
        '--target-user',
        'loader',
        '--on-conflict',
        'skip',
        '--functions',
        'skip',
      ],
      env,
    );
    assert.equal(skip.status, 0, skip.stderr);
    // -q silences progress and summaries, never the line that says why the exit code is 1.
    const quiet = shake(
      ['restore', file, '--target', plain.url, '--target-user', 'loader', '--on-error', 'skip', '-q'],
      env,
    );
    assert.equal(quiet.status, 1);
    const lines = quiet.stderr.trim().split('\n');
    assert.equal(lines.length, 1, quiet.stderr);
    assert.match(lines[0] as string, /^error: \d+ key\(s\) or command\(s\) failed \(0 keys written\); first: .*exists/);
    assert.match(skip.stderr, /skipped: (\d+ expired, )?\d+ conflict/);
  });

  it('an RDB on stdin (values decoded as it streams), big keys as commands', async () => {
    const fx = loadExpected('redis-7.4', { aliveAt: Date.now() });
    const c = plain.client();
    await c.auth('adminpw');
    await c.flushall();
    await c.function('FLUSH');
    c.disconnect();
    const r = spawnSync(
      'bash',
      [
        '-c',
        `cat "${fx.rdbFile}" | node "${bin}" restore - --target "${plain.url}" --target-user loader --big-key-threshold 200`,
      ],
      { encoding: 'utf8', env: { ...process.env, SHAKE_LOG_PROGRESS: 'never', SHAKE_TARGET_PASSWORD: 's3cret' } },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`${fx.total} keys read, ${fx.records.length} written`));
    assert.match(r.stderr, /as commands [1-9]\d*/);
    const aligned = alignFor70(
      fx.records,
      await readKeyspace({ host: plain.host, port: plain.port, password: 'adminpw' }),
    );
    // big streams went as commands: consumer seen times are the restore's
    assertRecordsMatch(withoutSeenTimes(aligned.actual), withoutSeenTimes(aligned.expected));
  });

  it('a bad value names the setting', () => {
    const r = shake(['restore', 'x.rdb', '--target', plain.url, '--big-key-threshold', 'huge']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /restore\.big_key_threshold: "huge" is not a size/);
  });

  it('rediss:// with the test CA', async (t) => {
    const support = await tlsSupport();
    if (!support.supported) {
      t.skip(support.reason);
      return;
    }
    const ca: TestCA = await sharedTestCA();
    const tls = await startRedis({ tls: ca });
    try {
      const fx = loadExpected('redis-6.2', { aliveAt: Date.now() });
      const r = shake(['restore', fx.rdbFile as string, '--target', tls.url], { SHAKE_TARGET_TLS_CA: ca.caCertFile });
      assert.equal(r.status, 0, r.stderr);
      const refused = shake(['restore', fx.rdbFile as string, '--target', tls.url, '--on-conflict', 'replace']);
      assert.equal(refused.status, 1, 'no CA: the certificate is not trusted');
    } finally {
      await tls.stop();
    }
  });
});
