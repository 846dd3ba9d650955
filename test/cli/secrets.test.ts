/**
 * Passwords never show: every subcommand, given passwords through the environment (SHAKE_SOURCE_PASSWORD,
 * SHAKE_TARGET_PASSWORD), run with --debug (stacks included) on success and on each kind of refusal (a wrong
 * password, a server that needs one and got none, a server that closes the connection), writes neither password
 * anywhere it writes: stdout, stderr, the report file, sync's state directory. The same with JSON logs
 * (--log-format json), --json summaries, protocol traces (--trace, which did record the AUTH commands), and what
 * /metrics and /status serve during a run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { loadExpected } from '../helpers/load-records.js';
import { freePort } from '../harness/redis-server.js';
import { runCli, spawnCli, type CliResult } from './helpers/run-cli.js';

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
      startRedis({
        password: SRC,
        rdbFile: loadExpected('redis-7.0').rdbFile,
        config: { 'notify-keyspace-events': 'KEA' }, // rump --live
      }),
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

  test('JSON logs, --json, traces, /metrics and /status', async () => {
    const s = source.url;
    const t = target.url;
    const rdb = loadExpected('redis-7.0').rdbFile!;
    const dir = mkdtempSync(join(work, 'ops-'));
    const ops = (name: string): string[] => ['--log-format', 'json', '--trace', join(dir, `${name}.trace`), '--debug'];
    const outputs: string[] = [];
    const cases: [string, string[], Record<string, string>][] = [
      [
        'restore',
        [
          'restore',
          rdb,
          '--target',
          t,
          '--on-conflict',
          'replace',
          '--functions',
          'replace',
          '--json',
          ...ops('restore'),
        ],
        both,
      ],
      ['restore-wrong', ['restore', rdb, '--target', t, ...ops('restore-wrong')], { SHAKE_TARGET_PASSWORD: SRC + DST }],
      [
        'sync',
        [
          'sync',
          '--source',
          s,
          '--target',
          t,
          '--until-caught-up',
          '--on-conflict',
          'replace',
          '--json',
          ...ops('sync'),
        ],
        both,
      ],
      [
        'dump-wrong',
        ['dump', '--source', s, '-o', join(dir, 'x.rdb'), ...ops('dump-wrong')],
        { SHAKE_SOURCE_PASSWORD: DST },
      ],
    ];
    for (const [name, args, env] of cases) {
      const r = await runCli(args, { env, cwd: dir });
      assert.equal(r.code === 0, !name.endsWith('wrong'), `${name}: ${r.stderr}`);
      outputs.push(r.stdout.toString('latin1'), r.stderr);
    }
    // A run that lasts: rump --live with the metrics server, scraped while it follows the source.
    const port = await freePort();
    const live = spawnCli(
      ['rump', '--source', s, '--target', t, '--live', '--metrics-port', String(port), ...ops('rump')],
      { env: both, cwd: dir },
    );
    try {
      for (let i = 0; i < 300 && !/following the source/.test(live.stderr()); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(live.stderr(), /following the source/, live.stderr());
      for (const path of ['/metrics', '/status']) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        assert.equal(res.status, 200);
        outputs.push(await res.text());
      }
    } finally {
      live.child.kill('SIGTERM');
      assert.equal(await live.exit, 0, live.stderr());
    }
    outputs.push(live.stdout().toString('latin1'), live.stderr());
    const traces = readdirSync(dir).filter((f) => f.endsWith('.trace'));
    assert.deepEqual(traces.sort(), [
      'dump-wrong.trace',
      'restore-wrong.trace',
      'restore.trace',
      'rump.trace',
      'sync.trace',
    ]);
    const traced = traces.map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
    // The dumped bytes themselves (a password split across two rows of the printable column would escape a grep).
    const dumped = Buffer.concat(
      [...traced.matchAll(/^ {2}[0-9a-f]{8} {2}((?:[0-9a-f]{2} | {3}| )+)\|/gm)].map((m) =>
        Buffer.from(m[1]!.replace(/\s+/g, ''), 'hex'),
      ),
    );
    assert.ok(dumped.includes(Buffer.from('$4\r\nAUTH\r\n')), 'the traces recorded the AUTH commands');
    for (const secret of [SRC, DST]) assert.ok(!dumped.includes(Buffer.from(secret)), 'a password in a trace');
    for (const text of [...outputs, traced]) {
      for (const secret of [SRC, DST, SRC + DST])
        assert.ok(!text.includes(secret), `a password in ${text.slice(0, 200)}`);
    }
    assert.ok(
      outputs.some((o) => o.includes('"event":"result"')),
      'JSON logs were written',
    );
  });
});
