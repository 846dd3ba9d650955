/**
 * Bounded memory: a live server builds an RDB with N string keys (DEBUG POPULATE) and one hash of N
 * fields; a child process streams it through the parser and its peak RSS must stay under 150 MB.
 * N = 200,000 always; N = 2,000,000 unless SHAKE_QUICK_TESTS=1. Prints the parse throughput.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startRedis } from '../../harness/redis-server.js';
import { repoRoot } from './util.js';

const MAX_RSS_MB = 150;

async function run(n: number): Promise<void> {
  const server = await startRedis({ config: { 'enable-debug-command': 'yes' } });
  const c = server.client();
  try {
    await c.call('DEBUG', 'POPULATE', String(n), 'key', '16');
    const perCommand = 1000;
    for (let base = 0; base < n; base += perCommand * 50) {
      const p = c.pipeline();
      for (let start = base; start < Math.min(n, base + perCommand * 50); start += perCommand) {
        const args: string[] = [];
        for (let i = start; i < Math.min(n, start + perCommand); i++) args.push(`f${i}`, `v${i % 9973}`);
        p.call('HSET', 'big:hash', ...args);
      }
      const res = await p.exec();
      for (const [err] of res ?? []) if (err) throw err;
    }
    assert.equal(await c.call('SAVE'), 'OK');
  } finally {
    c.disconnect();
  }
  try {
    const child = join(repoRoot, 'dist', 'test', 'rdb', 'parser', 'memory-child.js');
    const out = execFileSync(process.execPath, [child, join(server.dir, 'dump.rdb')], { encoding: 'utf8' });
    const r = JSON.parse(out) as {
      keys: number;
      elements: number;
      bigHashFields: number;
      ms: number;
      bytes: number;
      maxRssKb: number;
    };
    const mb = r.bytes / 1e6;
    console.log(
      `parsed ${mb.toFixed(1)} MB, ${r.keys} keys, ${r.elements} elements in ${r.ms.toFixed(0)} ms: ` +
        `${(mb / (r.ms / 1000)).toFixed(1)} MB/s, ${Math.round(r.keys / (r.ms / 1000))} keys/s, ` +
        `${Math.round(r.elements / (r.ms / 1000))} elements/s; peak RSS ${(r.maxRssKb / 1024).toFixed(1)} MB`,
    );
    assert.equal(r.keys, n + 1);
    assert.equal(r.bigHashFields, n);
    assert.equal(r.elements, 2 * n);
    assert.ok(r.maxRssKb / 1024 < MAX_RSS_MB, `peak RSS ${(r.maxRssKb / 1024).toFixed(1)} MB`);
  } finally {
    await server.stop();
  }
}

test('200k keys + a 200k-field hash parse within 150 MB RSS', { timeout: 120_000 }, () => run(200_000));

test(
  '2M keys + a 2M-field hash parse within 150 MB RSS',
  { timeout: 300_000, skip: process.env.SHAKE_QUICK_TESTS === '1' },
  () => run(2_000_000),
);
