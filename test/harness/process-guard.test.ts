import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { probe } from './ready.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a redis-server dies with the test process, even on SIGKILL', async () => {
  const harness = fileURLToPath(new URL('./redis-server.js', import.meta.url));
  const script = `
    const { startRedis } = await import(${JSON.stringify(harness)});
    const s = await startRedis();
    process.stdout.write(String(s.port) + '\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', () => reject(new Error('child exited before starting a server')));
  });
  assert.equal(await probe('127.0.0.1', port, false), 'ready');
  child.kill('SIGKILL');
  let state = 'ready';
  for (let i = 0; i < 100 && state !== 'down'; i++) {
    await sleep(50);
    state = await probe('127.0.0.1', port, false);
  }
  assert.equal(state, 'down', `redis-server on ${port} survived its test process`);
});

test('the watchdog goes away with its server (a reused pid is never killed)', async () => {
  const { startRedis } = await import('./redis-server.js');
  const server = await startRedis();
  const pid = server.process.pid!;
  const watchdogs = (): boolean => {
    const out = spawnSync('pgrep', ['-f', `shake-test-watchdog ${pid}$`])
      .stdout.toString()
      .trim();
    return out.length > 0;
  };
  assert.equal(watchdogs(), true);
  server.process.kill('SIGKILL');
  await new Promise((r) => server.process.once('exit', r));
  await sleep(100);
  assert.equal(watchdogs(), false);
  await server.stop();
});
