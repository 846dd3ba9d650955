/**
 * Test harness: real redis-server processes on free loopback ports, started and stopped by the tests.
 * Extend with `extraArgs` (any redis.conf directive as `--name value`), renamed commands, TLS, clusters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface RedisServerOptions {
  /** Extra redis.conf directives, e.g. { 'repl-diskless-sync': 'yes' }. */
  config?: Record<string, string | string[]>;
  /** Commands to rename away (to mimic AWS ElastiCache): rename-command X "". */
  disableCommands?: string[];
  /** Start with this RDB file loaded (copied into the server's dir as dump.rdb). */
  rdbFile?: string;
  /** requirepass / default user password. */
  password?: string;
  /** Start in cluster mode (cluster-enabled yes with its own nodes.conf). */
  cluster?: boolean;
  /** Binary to run (default: redis-server on PATH). */
  binary?: string;
}

export interface RedisServer {
  host: '127.0.0.1';
  port: number;
  dir: string;
  url: string;
  process: ChildProcess;
  /** An ioredis client (returnBuffers via *Buffer commands) connected to this server. */
  client(): Redis;
  stop(): Promise<void>;
}

const running = new Set<RedisServer>();
process.once('exit', () => {
  for (const s of running) s.process.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'shake-redis-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--logfile',
      join(dir, 'redis.log'),
      '--protected-mode',
      'no',
    ];
    if (opts.rdbFile) {
      copyFileSync(opts.rdbFile, join(dir, 'dump.rdb'));
      args.push('--dbfilename', 'dump.rdb');
    }
    if (opts.password) args.push('--requirepass', opts.password);
    if (opts.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'));
    for (const [k, v] of Object.entries(opts.config ?? {})) {
      args.push(`--${k}`, ...(Array.isArray(v) ? v : [v]));
    }
    for (const cmd of opts.disableCommands ?? []) args.push('--rename-command', cmd, '');
    const child = spawn(opts.binary ?? 'redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const server: RedisServer = {
      host: '127.0.0.1',
      port,
      dir,
      url: `redis://127.0.0.1:${port}`,
      process: child,
      client: () =>
        new Redis({ host: '127.0.0.1', port, password: opts.password, lazyConnect: false, maxRetriesPerRequest: 1 }),
      stop: async () => {
        running.delete(server);
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(killer);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
    running.add(server);
    if (await waitReady(server, opts.password)) return server;
    running.delete(server);
    child.kill('SIGKILL');
    if (!/Address already in use/.test(stderr + readLog(dir))) {
      throw new Error(`redis-server did not start on port ${port}: ${stderr}${readLog(dir)}`);
    }
  }
  throw new Error('redis-server: no free port after 5 attempts');
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'redis.log'), 'utf8');
  } catch {
    return '';
  }
}

async function waitReady(server: RedisServer, password?: string): Promise<boolean> {
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (server.process.exitCode !== null) return false;
    const c = new Redis({
      host: '127.0.0.1',
      port: server.port,
      password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on('error', () => {});
    try {
      await c.connect();
      // LOADING replies are errors: keep polling until the dataset is loaded.
      await c.ping();
      c.disconnect();
      return true;
    } catch {
      c.disconnect();
      await sleep(50);
    }
  }
  return false;
}
