/**
 * --log-format json: every line on stderr is one JSON object (time, level, event, message), the final `result`
 * event carries the same counts as --json, and they agree with what the target holds; --log-level leaves out the
 * lines below it; an error met before the flags are parsed is a JSON line too; text stays as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { emptyServer, startRedis, type RedisServer } from '../harness/redis-server.js';
import { runCli } from './helpers/run-cli.js';

type Line = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every stderr line as JSON (fails on a line that is not an object with time, level, event, message). */
function jsonLines(stderr: string): Line[] {
  return stderr
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const o = JSON.parse(l) as Line;
      assert.ok(!Number.isNaN(Date.parse(o.time)), `time in ${l}`);
      assert.ok(['error', 'warn', 'info', 'debug'].includes(o.level), `level in ${l}`);
      assert.equal(typeof o.event, 'string');
      assert.equal(typeof o.message, 'string');
      return o;
    });
}

describe('--log-format json and --log-level', () => {
  let source: RedisServer;
  let target: RedisServer;
  let tgt: Redis;
  before(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    const s = source.client();
    await s.mset(...Array.from({ length: 250 }, (_, i) => [`k:${i}`, String(i)]).flat());
    s.disconnect();
    tgt = target.client();
  });
  after(async () => {
    tgt?.disconnect();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  test('rump: JSON lines, summary events, and a result whose counts the target holds', async () => {
    await emptyServer(target);
    const r = await runCli([
      'rump',
      '--source',
      source.url,
      '--target',
      target.url,
      '--rate',
      '0',
      '--log-format',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, 0, 'nothing on stdout');
    const lines = jsonLines(r.stderr);
    assert.ok(lines.some((l) => l.event === 'summary' && /keys read/.test(l.message)));
    const result = lines.at(-1)!;
    assert.equal(result.event, 'result');
    assert.equal(result.exitCode, 0);
    assert.equal(result.counters.keysWritten, await tgt.dbsize());
    assert.equal(await tgt.dbsize(), 250);
  });

  test('the environment chooses it too (SHAKE_LOG_FORMAT), and a refusal is an error line with its exit code', async () => {
    const r = await runCli(['rump', '--source', source.url, '--target', target.url, '--on-conflict', 'error'], {
      env: { SHAKE_LOG_FORMAT: 'json' },
    });
    assert.equal(r.code, 1);
    const lines = jsonLines(r.stderr);
    const err = lines.find((l) => l.event === 'error');
    assert.ok(err, r.stderr);
    assert.equal(err.level, 'error');
    assert.equal(err.exitCode, 1);
    assert.equal(lines.at(-1)!.event, 'result');
    assert.equal(lines.at(-1)!.ok, false);
  });

  test('--log-level warn: no info lines, the error stays; --log-level error with --quiet likewise', async () => {
    for (const level of ['warn', 'error']) {
      const r = await runCli([
        'rump',
        '--source',
        source.url,
        '--target',
        target.url,
        '--on-conflict',
        'error',
        '--log-format',
        'json',
        '--log-level',
        level,
        ...(level === 'error' ? ['-q'] : []),
      ]);
      assert.equal(r.code, 1);
      const lines = jsonLines(r.stderr);
      assert.ok(lines.length > 0);
      assert.deepEqual(
        lines.filter((l) => l.level === 'info' || l.level === 'debug'),
        [],
      );
      if (level === 'error')
        assert.deepEqual(
          lines.filter((l) => l.level !== 'error'),
          [],
        );
      assert.ok(lines.some((l) => l.event === 'error'));
    }
  });

  test('--log-level warn on a good run writes nothing; text (the default) is not JSON', async () => {
    await emptyServer(target);
    const quiet = await runCli(['rump', '--source', source.url, '--target', target.url, '--log-level', 'warn']);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
    const text = await runCli(['rump', '--source', source.url, '--target', target.url]);
    assert.equal(text.code, 0);
    assert.match(text.stderr, /^250 keys read, 250 written/m);
    assert.ok(!text.stderr.split('\n').some((l) => l.startsWith('{')));
  });

  test('an error before the flags are parsed (a bad flag) is a JSON line too', async () => {
    const r = await runCli(['restore', 'x.rdb', '--no-such-flag', '--log-format', 'json']);
    assert.equal(r.code, 1);
    const [line] = jsonLines(r.stderr);
    assert.equal(line!.event, 'error');
    assert.match(line!.message, /no-such-flag/);
  });
});
