/**
 * --metrics-port: while a run goes on, GET /metrics (Prometheus text) and GET /status (JSON) on 127.0.0.1 show its
 * progress, and the counters grow between two scrapes: a rate-limited rump (keys and bytes read), and a sync
 * (offsets, keys written, commands applied, phase streaming). The target's password (from the environment) is
 * in neither; the server stops with the run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, startRedis, type RedisServer } from '../harness/redis-server.js';
import { spawnCli } from './helpers/run-cli.js';

async function get(port: number, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  assert.equal(res.status, 200);
  return res.text();
}

/** The value of one sample line `name{labels} value` (or `name value`). */
function sample(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `${name} in\n${text}`);
  return Number(m[1]);
}

async function until(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await ok().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('--metrics-port: /metrics and /status during a run', () => {
  let source: RedisServer;
  let target: RedisServer;
  const cwd = mkdtempSync(join(tmpdir(), 'shake-metrics-'));
  const secret = 'Metr1cs-Target-Pw';
  before(async () => {
    [source, target] = await Promise.all([
      startRedis({ config: { 'repl-diskless-sync-delay': '0' } }),
      startRedis({ password: secret }),
    ]);
    const s = source.client();
    await s.mset(...Array.from({ length: 600 }, (_, i) => [`k:${i}`, String(i)]).flat());
    s.disconnect();
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    rmSync(cwd, { recursive: true, force: true });
  });
  const env = { SHAKE_TARGET_PASSWORD: secret };

  test('rump --rate 50: counters grow between two scrapes; status names phase and endpoints', async () => {
    const port = await freePort();
    const run = spawnCli(
      ['rump', '--source', source.url, '--target', target.url, '--rate', '50', '--metrics-port', String(port)],
      { env, cwd },
    );
    try {
      await until('the metrics server', async () => sample(await get(port, '/metrics'), 'shake_keys_read_total') > 0);
      const first = await get(port, '/metrics');
      await new Promise((r) => setTimeout(r, 1200));
      const second = await get(port, '/metrics');
      assert.ok(sample(second, 'shake_keys_read_total') > sample(first, 'shake_keys_read_total'));
      assert.ok(sample(second, 'shake_bytes_read_total') > sample(first, 'shake_bytes_read_total'));
      assert.equal(sample(second, 'shake_phase{phase="scan"}'), 1);
      assert.match(second, /^# TYPE shake_keys_written_total counter$/m);
      const status = JSON.parse(await get(port, '/status')) as Record<string, unknown>;
      assert.equal(status.command, 'rump');
      assert.equal(status.phase, 'scan');
      assert.equal(status.target, `127.0.0.1:${target.port}`);
      assert.ok(((status.progress as Record<string, number>).keysRead ?? 0) > 0);
      for (const text of [first, second, JSON.stringify(status)]) assert.ok(!text.includes(secret));
    } finally {
      run.child.kill('SIGINT');
      await run.exit;
    }
    await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`), 'the server stops with the run');
  });

  test('sync: offsets, applied commands and phase streaming', async () => {
    const port = await freePort();
    const run = spawnCli(
      [
        'sync',
        '--source',
        source.url,
        '--target',
        target.url,
        '--on-conflict',
        'replace',
        '--metrics-port',
        String(port),
      ],
      { env, cwd },
    );
    try {
      await until('streaming', async () => JSON.parse(await get(port, '/status')).phase === 'streaming');
      const before = await get(port, '/metrics');
      const s = source.client();
      for (let i = 0; i < 50; i++) await s.incr('counter');
      s.disconnect();
      await until('the writes applied', async () => {
        const now = await get(port, '/metrics');
        return sample(now, 'shake_sync_commands_applied') >= sample(before, 'shake_sync_commands_applied') + 50;
      });
      const after = await get(port, '/metrics');
      assert.ok(sample(after, 'shake_sync_applied_offset_bytes') > sample(before, 'shake_sync_applied_offset_bytes'));
      assert.equal(sample(after, 'shake_phase{phase="streaming"}'), 1);
      assert.ok(sample(after, 'shake_sync_keys_written') >= 600);
    } finally {
      run.child.kill('SIGTERM');
      assert.equal(await run.exit, 0, run.stderr());
    }
  });
});
