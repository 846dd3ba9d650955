/**
 * Shared by the rump tests: run the rump module against live servers, fill a source with a mixed
 * dataset, and read both sides back in the fixtures' record format for comparison.
 */
import type { Redis } from 'ioredis';
import type { ConnectionOptions } from '../../src/redis/index.js';
import { rump, type RumpOptions, type RumpResult } from '../../src/pipelines/rump.js';
import { openTarget, type OpenTargetOptions } from '../../src/sinks/redis/open-target.js';
import type { RedisServer } from '../harness/redis-server.js';

export type RumpArgs = Omit<RumpOptions, 'source' | 'target'> & {
  targetKind?: OpenTargetOptions['kind'];
  connections?: number;
};

/** host/port (+ TLS with the server's test CA) of a harness server, as shake's connection options. */
export function connectionOf(
  server: RedisServer,
  auth: { username?: string; password?: string } = {},
): ConnectionOptions {
  const opts: ConnectionOptions = { host: server.host, port: server.port, ...auth };
  if (server.tls) {
    opts.tls = { ca: server.tls.ca, servername: 'localhost', rejectUnauthorized: true };
  }
  return opts;
}

export async function runRump(
  source: ConnectionOptions,
  target: ConnectionOptions,
  args: RumpArgs = {},
): Promise<RumpResult> {
  const t = await openTarget({ connection: target, kind: args.targetKind, connections: args.connections });
  try {
    return await rump({ rate: 0, ...args, source, target: t });
  } finally {
    await t.close();
  }
}

/**
 * Writes `n` keys of every type (strings, hashes, lists, sets, zsets, streams; a third with TTLs) named
 * `<prefix><i>`, pipelined.
 */
export async function fillMixed(c: Redis, prefix: string, n: number, from = 0): Promise<void> {
  const expireAt = Date.now() + 3_600_000;
  for (let start = from; start < from + n; start += 1000) {
    const p = c.pipeline();
    for (let i = start; i < Math.min(from + n, start + 1000); i++) {
      const k = `${prefix}${i}`;
      switch (i % 6) {
        case 0:
          p.set(k, `v${i}`);
          break;
        case 1:
          p.hset(k, 'a', String(i), 'b', 'x'.repeat(i % 50));
          break;
        case 2:
          p.rpush(k, 'a', 'b', String(i));
          break;
        case 3:
          p.sadd(k, 'm1', 'm2', String(i));
          break;
        case 4:
          p.zadd(k, i, 'z1', i / 3, 'z2');
          break;
        default:
          p.xadd(k, '*', 'f', String(i));
      }
      if (i % 3 === 0) p.pexpireat(k, expireAt + i);
    }
    await p.exec();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
