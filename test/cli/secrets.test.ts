/**
 * Passwords never show: every subcommand, given passwords through the environment (SHAKE_SOURCE_PASSWORD,
 * SHAKE_TARGET_PASSWORD), run with --debug (stacks included) on success and on each kind of refusal (a wrong
 * password, a server that needs one and got none, a server that closes the connection), writes neither password
 * anywhere it writes: stdout, stderr, the report file, sync's state directory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { loadExpected } from '../helpers/load-records.js';
import { runCli, type CliResult } from './helpers/run-cli.js';

const SRC = 'S0urce-Pa55-7f3a';
const DST = 'T4rget-Pa55-91bc';

/** Every file below `dir`, as text. */
function filesUnder(dir: string): string {
  let text = '';
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    text += statSync(p).isDirectory() ? filesUnder(p) : readFileSync(p).toString('latin1');
  }
  return text;
}

describe('passwords never appear in what shake writes', () => {
  let source: RedisServer;
  let target: RedisServer;
  const work = mkdtempSync(join(tmpdir(), 'shake-secrets-'));
  before(async () => {
    [source, target] = await Promise.all([
      startRedis({ password: SRC, rdbFile: loadExpected('redis-7.0').rdbFile }),
      startRedis({ password: DST }),
    ]);
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  const both = { SHAKE_SOURCE_PASSWORD: SRC, SHAKE_TARGET_PASSWORD: DST };
  const runs: [string, string[], Record<string, string>][] = [];
  before(() => {
    const s = source.url;
    const t = target.url;
    const rdb = loadExpected('redis-7.0').rdbFile!;
    const sync = ['sync', '--source', s, '--target', t, '--until-caught-up', '--on-conflict', 'replace'];
    runs.push(
      ['restore', ['restore', rdb, '--target', t, '--on-conflict', 'replace', '--debug'], both],
      ['restore, wrong password', ['restore', rdb, '--target', t, '--debug'], { SHAKE_TARGET_PASSWORD: SRC + DST }],
      ['rump', ['rump', '--source', s, '--target', t, '--on-conflict', 'replace', '--debug'], both],
      ['rump, no target password', ['rump', '--source', s, '--target', t, '--debug'], { SHAKE_SOURCE_PASSWORD: SRC }],
      ['dump', ['dump', '--source', s, '-o', join(work, 'd.rdb'), '--debug'], both],
      [
        'dump, wrong password',
        ['dump', '--source', s, '-o', join(work, 'e.rdb'), '--debug'],
        { SHAKE_SOURCE_PASSWORD: DST },
      ],
      ['sync', [...sync, '--debug'], both],
      ['sync, wrong target password', [...sync, '--debug'], { ...both, SHAKE_TARGET_PASSWORD: SRC }],
      ['check', ['check', '--source', s, '--target', t, '--report', join(work, 'r.jsonl'), '--debug'], both],
      ['check, unreachable target', ['check', '--source', s, '--target', 'redis://127.0.0.1:1', '--debug'], both],
    );
  });

  test('success and refusals, every subcommand, with --debug', async () => {
    const results: [string, CliResult][] = [];
    for (const [name, args, env] of runs) results.push([name, await runCli(args, { env, cwd: work })]);
    const codes = Object.fromEntries(results.map(([n, r]) => [n, r.code]));
    // The runs did what they say (the successful ones succeeded, the refusals were refused).
    for (const [n, code] of Object.entries(codes)) {
      if (/wrong|no target|unreachable/.test(n)) assert.notEqual(code, 0, `${n} should fail`);
      else assert.equal(code, 0, `${n}: ${results.find(([m]) => m === n)![1].stderr}`);
    }
    for (const [name, r] of results) {
      const out = r.stdout.toString('latin1') + r.stderr;
      for (const secret of [SRC, DST, SRC + DST]) assert.ok(!out.includes(secret), `${name} wrote a password`);
    }
    const files = filesUnder(work);
    assert.ok(files.length > 0);
    for (const secret of [SRC, DST]) assert.ok(!files.includes(secret), 'a password in a file shake wrote');
  });
});
