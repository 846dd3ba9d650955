import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { loadExpected } from '../helpers/load-records.js';
import { assertLoadsAs, checkRdb, repoRoot } from './helpers.js';

function shake(args: string[], env: Record<string, string> = {}): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'run.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr };
}

describe('shake dump (CLI) against real servers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-dumpcli-'));
  const fx = loadExpected('redis-7.0');
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('an ElastiCache-like source (SYNC, PSYNC, CONFIG, BGSAVE, SAVE, KEYS, DEBUG... renamed away)', () => {
    let source: RedisServer;
    before(async () => {
      source = await startRedis({ rdbFile: fx.rdbFile, elasticache: true });
    });
    after(() => source.stop());

    test('--mode auto falls back to SCAN + DUMP with a notice; the file loads and equals expected.jsonl', async () => {
      const out = join(dir, 'ec.rdb');
      const r = shake(['dump', '--source', source.url, '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /notice: 127\.0\.0\.1:\d+: replication refused .*falling back to SCAN \+ DUMP/);
      assert.match(r.stderr, /via SCAN \+ DUMP \(172 keys\)/);
      await assertLoadsAs(out, fx.records);
    });

    test('--mode replication says replication is refused, exits 1, leaves no file', () => {
      const out = join(dir, 'ec-repl.rdb');
      const r = shake(['dump', '--source', source.url, '-o', out, '--mode', 'replication']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^error: .*does not allow replication.*ElastiCache/m);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(existsSync(out), false);
    });
  });

  describe('authentication and ACL', () => {
    let source: RedisServer;
    before(async () => {
      source = await startRedis({
        rdbFile: fx.rdbFile,
        password: 'sekret',
        config: { 'repl-diskless-sync-delay': '0' },
        users: [
          { name: 'reader', password: 'rpass', rules: '~* +@read +info +select +function|list' },
          { name: 'nodump', password: 'npass', rules: '~* +scan +info +select +pexpiretime +function|list' },
        ],
      });
    });
    after(() => source.stop());

    test('a wrong password: one line naming user and server, exit 1', () => {
      const r = shake(['dump', '--source', source.url, '-o', join(dir, 'x.rdb')], { SHAKE_SOURCE_PASSWORD: 'nope' });
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /^error: source 127\.0\.0\.1:\d+ refused the password of user default \(WRONGPASS.*SHAKE_SOURCE_PASSWORD/m,
      );
    });

    test('no password: NOAUTH, with where to put it', () => {
      const r = shake(['dump', '--source', source.url, '-o', join(dir, 'x.rdb')]);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /^error: source 127\.0\.0\.1:\d+ needs a password \(NOAUTH .*\): set SHAKE_SOURCE_PASSWORD or password in \[source\]/m,
      );
    });

    test('an output directory that does not exist is reported before connecting', () => {
      const r = shake(['dump', '--source', 'redis://127.0.0.1:1', '-o', join(dir, 'nope', 'x.rdb')]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^error: cannot write .*nope\/x\.rdb: directory .*nope does not exist/m);
    });

    test('the right password from the environment: replication dump', () => {
      const out = join(dir, 'auth.rdb');
      const r = shake(['dump', '--source', source.url, '-o', out], { SHAKE_SOURCE_PASSWORD: 'sekret' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /via replication/);
      assert.equal(checkRdb(out).status, 0);
    });

    test('a user without +psync: --mode replication reports NOPERM; auto falls back to scan', () => {
      const env = { SHAKE_SOURCE_PASSWORD: 'rpass' };
      const base = ['dump', '--source', source.url, '--source-user', 'reader'];
      const r1 = shake([...base, '-o', join(dir, 'np.rdb'), '--mode', 'replication'], env);
      assert.equal(r1.status, 1);
      assert.match(r1.stderr, /^error: source 127\.0\.0\.1:\d+ refused REPLCONF: NOPERM .*\+psync.*--source-user/m);
      const out = join(dir, 'reader.rdb');
      const r2 = shake([...base, '-o', out], env);
      assert.equal(r2.status, 0, r2.stderr);
      assert.match(r2.stderr, /replication refused .*NOPERM.*falling back/);
      assert.equal(checkRdb(out).status, 0);
    });

    test('a user without DUMP: scan mode names the command and NOPERM', () => {
      const out = join(dir, 'nodump.rdb');
      const r = shake(['dump', '--source', source.url, '--source-user', 'nodump', '-o', out, '--mode', 'scan'], {
        SHAKE_SOURCE_PASSWORD: 'npass',
      });
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /^error: DUMP .* failed: source 127\.0\.0\.1:\d+: user nodump lacks a permission shake needs \(NOPERM .*'dump'.*--source-user/m,
      );
      assert.equal(existsSync(out), false);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.endsWith('.tmp')),
        [],
      );
    });
  });
});

describe('shake dump -o - (standard output)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-dumpstdout-'));
  const fx = loadExpected('redis-7.0');
  let source: RedisServer;
  before(async () => {
    source = await startRedis({ rdbFile: fx.rdbFile });
  });
  after(async () => {
    await source?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ['replication', 'scan']) {
    test(`--mode ${mode}: the RDB goes to stdout, loads, equals the source; decode - reads it from a pipe`, async () => {
      const out = join(dir, `${mode}.rdb`);
      const bin = join(repoRoot, 'bin', 'run.js');
      const r = spawnSync(
        'bash',
        [
          '-c',
          `set -o pipefail; node ${bin} dump --source ${source.url} --mode ${mode} -o - | tee ${out} | node ${bin} decode - | grep -c '"key"'`,
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(Number(r.stdout.trim()), fx.records.length);
      assert.equal(readdirSync(process.cwd()).includes('-'), false, 'no file named "-"');
      await assertLoadsAs(out, fx.records);
    });
  }
});
