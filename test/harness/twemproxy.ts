/**
 * A twemproxy (nutcracker) in front of real redis-servers: the proxy target of the tests (it refuses INFO,
 * SELECT, MULTI, RESTORE...). scripts/setup.sh installs it (Debian: `apt-get install -y nutcracker`); a machine
 * without it fails the tests that need it, with that hint, instead of skipping them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '../../src/redis/index.js';
import { freePort, type RedisServer } from './redis-server.js';

export interface Twemproxy {
  host: string;
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startTwemproxy(servers: RedisServer[]): Promise<Twemproxy> {
  if (spawnSync('nutcracker', ['--version']).status !== 0) {
    throw new Error('nutcracker (twemproxy) is not installed: apt-get install -y nutcracker (scripts/setup.sh does)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'shake-nc-'));
  const port = await freePort();
  // Its own stats port, on loopback (the default 22222 on 0.0.0.0 would keep a second proxy from starting).
  const statsPort = await freePort();
  const conf = join(dir, 'nc.yml');
  writeFileSync(
    conf,
    `alpha:\n  listen: 127.0.0.1:${port}\n  hash: fnv1a_64\n  distribution: ketama\n  redis: true\n` +
      `  auto_eject_hosts: false\n  servers:\n` +
      servers.map((s) => `   - 127.0.0.1:${s.port}:1\n`).join(''),
  );
  const log = join(dir, 'nc.log');
  const proxy: ChildProcess = spawn('nutcracker', ['-c', conf, '-o', log, '-s', String(statsPort), '-a', '127.0.0.1'], {
    stdio: 'ignore',
  });
  const stop = async (): Promise<void> => {
    if (proxy.exitCode === null) {
      const gone = new Promise((r) => proxy.once('exit', r));
      proxy.kill();
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && proxy.exitCode === null) {
    const up = await connect({ host: '127.0.0.1', port, connectTimeoutMs: 200 })
      .then(async (c) => {
        await c.close();
        return true;
      })
      .catch(() => false);
    if (up) return { host: '127.0.0.1', port, url: `redis://127.0.0.1:${port}`, stop };
    await sleep(50);
  }
  const why = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
  await stop();
  throw new Error(`nutcracker did not listen on 127.0.0.1:${port}${why ? `: ${why}` : ''}`);
}
