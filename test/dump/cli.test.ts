import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
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
      assert.match(r.stderr, /^error: .*does not allow replication.*ElastiCache.*: use --mode scan \(SCAN \+ DUMP\)/m);
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

describe('shake dump: Ctrl-C and SIGTERM alike, and what the progress line says while the master prepares', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-dumpsig-'));
  const fx = loadExpected('redis-7.0');
  let source: RedisServer;
  before(async () => {
    // A slow snapshot (rdb-key-save-delay: microseconds per key, 172 keys) sent diskless after a 2 s delay.
    source = await startRedis({
      rdbFile: fx.rdbFile,
      config: { 'repl-diskless-sync': 'yes', 'repl-diskless-sync-delay': '2', 'rdb-key-save-delay': '50000' },
    });
  });
  after(async () => {
    await source?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} during a replication dump: exit 1, "dump interrupted", no file and no .tmp left`, async () => {
      const out = join(dir, `${signal}.rdb`);
      const child = spawn(
        process.execPath,
        [join(repoRoot, 'bin', 'run.js'), 'dump', '--source', source.url, '-o', out],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      // Signalled once the temporary file is there (the snapshot is arriving).
      const deadline = Date.now() + 30_000;
      while (!readdirSync(dir).some((f) => f.endsWith('.tmp')) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(
        readdirSync(dir).some((f) => f.endsWith('.tmp')),
        'the dump had started writing',
      );
      child.kill(signal);
      const code = await closed;
      assert.equal(code, 1, stderr);
      assert.match(stderr, /^error: dump interrupted$/m);
      assert.equal(existsSync(out), false);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.endsWith('.tmp')),
        [],
      );
    });
  }

  test('on a terminal, before the snapshot comes: "waiting for the master\'s snapshot", never a key count', () => {
    const out = join(dir, 'tty.rdb');
    const bin = join(repoRoot, 'bin', 'run.js');
    // `script` gives the command a terminal, so the progress line is drawn; its output is what a user sees.
    const r = spawnSync(
      'script',
      ['-qec', `${process.execPath} ${bin} dump --source ${source.url} -o ${out} --mode replication`, '/dev/null'],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
    );
    assert.equal(r.status, 0, r.stdout);
    const frames = r.stdout.split(/\r|\n/).map((l) => l.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim());
    assert.ok(
      frames.some((l) =>
        /^waiting for the master's snapshot \(it starts after the master's repl-diskless-sync-delay/.test(l),
      ),
      r.stdout,
    );
    assert.ok(!frames.some((l) => /\d keys$/.test(l)), 'no key count in replication mode');
    assert.equal(checkRdb(out).status, 0);
  });
});
