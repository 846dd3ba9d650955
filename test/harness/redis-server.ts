/**
 * Test harness: real redis-server processes on free loopback ports, started and stopped by the tests.
 * Extend with `config` (any redis.conf directive as `--name value`), renamed commands, TLS, ACL users,
 * the ElastiCache mimic and cluster mode; `startCluster()` (cluster.ts) builds whole clusters on top.
 * Readiness is a raw PING (ready.ts), so the harness works whatever the server renamed away.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { writeAclFile, type AclUser } from './acl.js';
import { ELASTICACHE_DISABLED_COMMANDS } from './elasticache.js';
import { guardProcess } from './process-guard.js';
import { waitReady } from './ready.js';
import { sharedTestCA, type TestCA } from './tls.js';

export type { AclUser } from './acl.js';
export type { TestCA } from './tls.js';

export interface RedisServerOptions {
  /** Extra redis.conf directives, e.g. { 'repl-diskless-sync': 'yes' }. */
  config?: Record<string, string | string[]>;
  /** Commands to rename away (to mimic AWS ElastiCache): rename-command X "". */
  disableCommands?: string[];
  /** Start with this RDB file loaded (copied into the server's dir as dump.rdb). */
  rdbFile?: string;
  /** requirepass / default user password. */
  password?: string;
  /** Start in cluster mode (cluster-enabled yes with its own nodes.conf and a free cluster-port). */
  cluster?: boolean;
  /** Binary to run (default: redis-server on PATH). */
  binary?: string;
  /** A server before 3.2 (no protected-mode directive: it would refuse to start). */
  before32?: boolean;
  /**
   * Serve TLS only (`--port 0 --tls-port P`, `--tls-auth-clients optional`). `true` uses one CA per test
   * process (sharedTestCA); pass a TestCA from makeTestCA() to choose. Check tlsSupport() first.
   */
  tls?: boolean | TestCA;
  /** Rename away what AWS ElastiCache refuses (ELASTICACHE_DISABLED_COMMANDS), plus `disableCommands`. */
  elasticache?: boolean;
  /** ACL users, written to an aclfile. With `password` and no `default` entry, default needs that password. */
  users?: AclUser[];
}

export interface ClientAuth {
  username?: string;
  password?: string;
  /** Present the test CA's client certificate (TLS servers only; default true). */
  clientCert?: boolean;
}

export interface RedisServer {
  host: '127.0.0.1';
  /** The port clients use (the TLS port when `tls`). */
  port: number;
  dir: string;
  /** redis://127.0.0.1:port, or rediss:// for TLS servers. */
  url: string;
  process: ChildProcess;
  /** The CA whose certificates the server uses (TLS servers only). */
  tls?: TestCA;
  /** Cluster bus port (cluster servers only). */
  clusterPort?: number;
  /** ioredis options for this server (host, port, TLS, credentials). */
  connectOptions(auth?: ClientAuth): RedisOptions;
  /** An ioredis client (returnBuffers via *Buffer commands) connected to this server. */
  client(auth?: ClientAuth): Redis;
  /**
   * Stops the process (SIGTERM: it saves what its config says, RDB and/or AOF) and starts it again on the same
   * port and directory, so it loads its own files; resolves once it answers again.
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

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

/** Empties a server between tests: every db (FLUSHALL) and, where the server has them, its function libraries. */
export async function emptyServer(server: Pick<RedisServer, 'client'>): Promise<void> {
  const c = server.client();
  try {
    await c.flushall();
    await c.function('FLUSH').catch(() => {});
  } finally {
    c.disconnect();
  }
}

export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const ca = opts.tls === true ? await sharedTestCA() : opts.tls || undefined;
  const dir = mkdtempSync(join(tmpdir(), 'shake-redis-'));
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const server = await tryStart(opts, dir, ca);
      if (server) return server;
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('redis-server: no free port after 5 attempts');
}

function serverArgs(opts: RedisServerOptions, dir: string, port: number, ca: TestCA | undefined): string[] {
  const args = ['--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  args.push('--logfile', join(dir, 'redis.log'));
  if (!opts.before32) args.push('--protected-mode', 'no');
  if (ca) {
    args.push('--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'optional');
    args.push('--tls-cert-file', ca.serverCertFile, '--tls-key-file', ca.serverKeyFile);
    args.push('--tls-ca-cert-file', ca.caCertFile);
  } else {
    args.push('--port', String(port));
  }
  if (opts.rdbFile) {
    copyFileSync(opts.rdbFile, join(dir, 'dump.rdb'));
    args.push('--dbfilename', 'dump.rdb');
  }
  if (opts.users) args.push('--aclfile', writeAclFile(dir, opts.users, opts.password));
  else if (opts.password) args.push('--requirepass', opts.password);
  for (const [k, v] of Object.entries(opts.config ?? {})) {
    args.push(`--${k}`, ...(Array.isArray(v) ? v : [v]));
  }
  const disabled = new Set((opts.disableCommands ?? []).map((c) => c.toUpperCase()));
  if (opts.elasticache) for (const c of ELASTICACHE_DISABLED_COMMANDS) disabled.add(c);
  for (const cmd of disabled) args.push('--rename-command', cmd, '');
  return args;
}

async function tryStart(
  opts: RedisServerOptions,
  dir: string,
  ca: TestCA | undefined,
): Promise<RedisServer | undefined> {
  const port = await freePort();
  const args = serverArgs(opts, dir, port, ca);
  let clusterPort: number | undefined;
  if (opts.cluster) {
    do clusterPort = await freePort();
    while (clusterPort === port);
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'));
    args.push('--cluster-port', String(clusterPort));
  }
  let child = spawn(opts.binary ?? 'redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let spawnError: Error | undefined;
  child.on('error', (e) => (spawnError = e));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let unguard = guardProcess(child);
  const connectOptions = (auth: ClientAuth = {}): RedisOptions => ({
    host: '127.0.0.1',
    port,
    username: auth.username,
    password: auth.password ?? opts.password,
    maxRetriesPerRequest: 1,
    ...(ca
      ? {
          tls: {
            ca: ca.ca,
            servername: 'localhost',
            ...(auth.clientCert === false ? {} : { cert: ca.clientCert, key: ca.clientKey }),
          },
        }
      : {}),
  });
  const server: RedisServer = {
    host: '127.0.0.1',
    port,
    dir,
    url: `${ca ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    process: child,
    tls: ca,
    clusterPort,
    connectOptions,
    client: (auth) => new Redis(connectOptions(auth)),
    restart: async () => {
      unguard();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      child = spawn(opts.binary ?? 'redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      server.process = child;
      unguard = guardProcess(child);
      const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
      if (!(await waitReady('127.0.0.1', port, ca !== undefined, gone))) {
        throw new Error(`redis-server did not restart on port ${port}: ${readLog(dir).slice(-2000)}`);
      }
    },
    stop: async () => {
      unguard();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const dead = (): boolean => spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;
  if (await waitReady('127.0.0.1', port, ca !== undefined, dead)) return server;
  unguard();
  child.kill('SIGKILL');
  const why = stderr + readLog(dir);
  if (spawnError) throw spawnError;
  if (!/Address already in use/.test(why)) {
    throw new Error(`redis-server did not start on port ${port}: ${why.slice(-2000)}`);
  }
  return undefined;
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'redis.log'), 'utf8');
  } catch {
    return '';
  }
}
