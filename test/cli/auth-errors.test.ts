/**
 * A refused identity on any connection, source or target, in every subcommand that connects (issue 14, item 1):
 * NOAUTH (no password given), WRONGPASS and NOPERM (an ACL user without a command shake needs) are one `error:`
 * line naming the side and host:port and saying where the password goes, never a misreading of the server (a
 * NOAUTH target taken for a proxy) or a list of differences; and a refused target holds nothing afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { loadExpected } from '../helpers/load-records.js';
import { runCli } from './helpers/run-cli.js';

const PW = 'pw';
/** +@all but writes; +@all but DUMP; +@all but replication. */
const users = [
  { name: 'nowrite', password: PW, rules: '~* &* +@all -@write' },
  { name: 'nodump', password: PW, rules: '~* &* +@all -dump' },
  { name: 'norepl', password: PW, rules: '~* &* +@all -psync -sync -replconf' },
];

type Side = 'source' | 'target';
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function noauth(side: Side, s: RedisServer): RegExp {
  return new RegExp(
    `${side} ${esc(`127.0.0.1:${s.port}`)} needs a password \\(NOAUTH [^)]*\\): set SHAKE_${side.toUpperCase()}_PASSWORD ` +
      `or password in \\[${side}\\] of the config file \\(a password in the URL works too, but shows in the process list\\)$`,
  );
}

function noperm(side: Side, s: RedisServer, user: string, cmd: string): RegExp {
  return new RegExp(
    `${side} ${esc(`127.0.0.1:${s.port}`)}: user ${user} lacks a permission shake needs \\(NOPERM [^)]*'${cmd}'[^)]*\\): ` +
      `grant it \\(ACL SETUSER ${user} \\.\\.\\.\\) or connect as a user who has it \\(--${side}-user, with ` +
      `SHAKE_${side.toUpperCase()}_PASSWORD or \\[${side}\\] password\\)$`,
  );
}

function wrongpass(side: Side, s: RedisServer, user: string): RegExp {
  return new RegExp(
    `${side} ${esc(`127.0.0.1:${s.port}`)} refused the password of user ${user} \\((WRONGPASS|ERR)[^)]*\\): check ` +
      `SHAKE_${side.toUpperCase()}_PASSWORD or password in \\[${side}\\] of the config file, and the user \\(--${side}-user\\)$`,
  );
}

/** With -q: stderr is exactly the one error line. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, /^error: /);
  return lines[0]!;
}

describe('refused identities, source and target, in every subcommand (CLI)', () => {
  /** A source that needs a password (keys a, b). */
  let locked: RedisServer;
  /** An empty target that needs a password. */
  let lockedTarget: RedisServer;
  /** No password (keys a, b, as on `locked`, so check reaches DUMP). */
  let plain: RedisServer;
  let dir: string;
  const rdb = (): string => loadExpected('redis-7.0').rdbFile as string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shake-auth-'));
    const opts = {
      password: PW,
      users,
      config: { 'notify-keyspace-events': 'KEA', 'repl-diskless-sync-delay': '0' },
    };
    [locked, lockedTarget, plain] = await Promise.all([startRedis(opts), startRedis(opts), startRedis()]);
    for (const s of [locked, plain]) {
      const c = s.client(s === locked ? { password: PW } : undefined);
      await c.mset('a', '1', 'b', '2');
      c.disconnect();
    }
  });
  after(async () => {
    await Promise.all([locked?.stop(), lockedTarget?.stop(), plain?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The locked target holds no key and no function library. */
  async function targetUntouched(): Promise<void> {
    const c = lockedTarget.client({ password: PW });
    try {
      assert.equal(await c.dbsize(), 0);
      assert.deepEqual(await c.call('FUNCTION', 'LIST'), []);
    } finally {
      c.disconnect();
    }
  }

  const user = (side: Side, name: string): string[] => [`--${side}-user`, name];
  const pw = (side: Side): Record<string, string> => ({ [`SHAKE_${side.toUpperCase()}_PASSWORD`]: PW });

  describe('restore', () => {
    test('target without a password: NOAUTH, not "the target cannot hold functions"', async () => {
      const r = await runCli(['restore', rdb(), '--target', lockedTarget.url, '-q']);
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), noauth('target', lockedTarget));
      await targetUntouched();
    });
    test('target with a wrong password: WRONGPASS', async () => {
      const r = await runCli(['restore', rdb(), '--target', lockedTarget.url, '-q'], {
        env: { SHAKE_TARGET_PASSWORD: 'nope' },
      });
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), wrongpass('target', lockedTarget, 'default'));
    });
    test('a password given to a server that has none: refused, with where it came from', async () => {
      const r = await runCli(['restore', rdb(), '--target', plain.url, '-q'], { env: pw('target') });
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), wrongpass('target', plain, 'default'));
    });
    test('target user without write permissions: NOPERM, stopped at the first refusal', async () => {
      const r = await runCli(['restore', rdb(), '--target', lockedTarget.url, ...user('target', 'nowrite'), '-q'], {
        env: pw('target'),
      });
      assert.equal(r.code, 1);
      const line = oneLine(r.stderr);
      assert.match(line, /^error: (FUNCTION LOAD \S+ on \S+|RESTORE): /);
      assert.match(line, noperm('target', lockedTarget, 'nowrite', '(function\\|load|restore)'));
      await targetUntouched();
    });
  });

  describe('rump', () => {
    test('source without a password: NOAUTH (not "INFO failed")', async () => {
      const r = await runCli(['rump', '--source', locked.url, '--target', lockedTarget.url, '-q'], {
        env: pw('target'),
      });
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), noauth('source', locked));
    });
    test('target without a password: NOAUTH (not "a proxy target has only db 0")', async () => {
      const r = await runCli(['rump', '--source', plain.url, '--target', lockedTarget.url, '-q']);
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), noauth('target', lockedTarget));
      await targetUntouched();
    });
    test('source user without DUMP: NOPERM', async () => {
      const r = await runCli(
        ['rump', '--source', locked.url, ...user('source', 'nodump'), '--target', lockedTarget.url, '-q'],
        { env: { ...pw('source'), ...pw('target') } },
      );
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), noperm('source', locked, 'nodump', 'dump'));
      await targetUntouched();
    });
    test('target user without RESTORE: NOPERM', async () => {
      const r = await runCli(
        ['rump', '--source', plain.url, '--target', lockedTarget.url, ...user('target', 'nowrite'), '-q'],
        { env: pw('target') },
      );
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), noperm('target', lockedTarget, 'nowrite', 'restore'));
      await targetUntouched();
    });
    test('--live, source without a password: NOAUTH', async () => {
      const r = await runCli(['rump', '--live', '--source', locked.url, '--target', plain.url, '-q']);
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), noauth('source', locked));
    });
    test('--live, source user without DUMP: NOPERM', async () => {
      const r = await runCli(
        ['rump', '--live', '--source', locked.url, ...user('source', 'nodump'), '--target', lockedTarget.url, '-q'],
        { env: { ...pw('source'), ...pw('target') } },
      );
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), noperm('source', locked, 'nodump', 'dump'));
      await targetUntouched();
    });
  });

  describe('dump', () => {
    test('source without a password: NOAUTH', async () => {
      const r = await runCli(['dump', '--source', locked.url, '-o', join(dir, 'x.rdb'), '-q']);
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), noauth('source', locked));
    });
    test('--mode scan, source user without DUMP: NOPERM', async () => {
      const r = await runCli(
        ['dump', '--source', locked.url, ...user('source', 'nodump'), '-o', join(dir, 'y.rdb'), '--mode', 'scan', '-q'],
        { env: pw('source') },
      );
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), noperm('source', locked, 'nodump', 'dump'));
    });
  });

  describe('sync', () => {
    /** shake sync with its state in the test's directory (a refused run must not leave .shake-sync behind). */
    const sync = (args: string[], env: Record<string, string> = {}) =>
      runCli(['sync', '--state-dir', join(dir, 'sync-state'), ...args, '-q'], { env });
    test('source without a password: NOAUTH', async () => {
      const r = await sync(['--source', locked.url, '--target', lockedTarget.url], pw('target'));
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), noauth('source', locked));
    });
    test('target without a password: NOAUTH (not "a proxy has no MULTI")', async () => {
      const r = await sync(['--source', plain.url, '--target', lockedTarget.url]);
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), noauth('target', lockedTarget));
      await targetUntouched();
    });
    test('source user without PSYNC/SYNC: refused, with the permissions replication needs', async () => {
      const r = await sync(['--source', locked.url, ...user('source', 'norepl'), '--target', lockedTarget.url], {
        ...pw('source'),
        ...pw('target'),
      });
      assert.equal(r.code, 1);
      assert.match(
        oneLine(r.stderr),
        new RegExp(`source ${esc(`127.0.0.1:${locked.port}`)} refused \\w+: NOPERM .*\\+psync.*--source-user`),
      );
      await targetUntouched();
    });
    test('target user without writes: NOPERM', async () => {
      const r = await sync(
        ['--source', plain.url, '--target', lockedTarget.url, ...user('target', 'nowrite')],
        pw('target'),
      );
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), noperm('target', lockedTarget, 'nowrite', '[a-z|]+'));
      await targetUntouched();
    });
  });

  describe('check (exit 2: the check could not run)', () => {
    test('source without a password: NOAUTH', async () => {
      const r = await runCli(['check', '--source', locked.url, '--target', plain.url, '-q']);
      assert.equal(r.code, 2);
      assert.match(oneLine(r.stderr), noauth('source', locked));
    });
    test('target without a password: NOAUTH', async () => {
      const r = await runCli(['check', '--source', plain.url, '--target', locked.url, '-q']);
      assert.equal(r.code, 2);
      assert.match(oneLine(r.stderr), noauth('target', locked));
    });
    test('--source-read scan, source user without DUMP: NOPERM, not a list of differences', async () => {
      const r = await runCli(
        [
          'check',
          '--source',
          locked.url,
          ...user('source', 'nodump'),
          '--target',
          plain.url,
          '--source-read',
          'scan',
          '-q',
        ],
        { env: pw('source') },
      );
      assert.equal(r.code, 2);
      assert.match(oneLine(r.stderr), noperm('source', locked, 'nodump', 'dump'));
    });
    test('--target-read commands, target user without DUMP: NOPERM', async () => {
      const r = await runCli(
        [
          'check',
          '--source',
          plain.url,
          '--target',
          locked.url,
          ...user('target', 'nodump'),
          '--target-read',
          'commands',
          '-q',
        ],
        { env: pw('target') },
      );
      assert.equal(r.code, 2);
      assert.match(oneLine(r.stderr), noperm('target', locked, 'nodump', 'dump'));
    });
  });
});
