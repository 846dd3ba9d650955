/**
 * shake's connection (src/redis/connection.ts) vs redis-benchmark on the same server: pipelined SET and
 * RESTORE commands per second from one connection, in batches, beside `redis-benchmark -P 100 -t set` with 1
 * and with 50 clients; rounds alternate so both see the same machine load (best of two). Prints the ratio.
 * Usage: node dist/bench/connection.bench.js [--keys 500000]
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect, type Argv, type RedisConnection } from '../src/redis/index.js';
import { startRedis } from '../test/harness/redis-server.js';
import { opt } from './lib/args.js';
import { keyCount } from './lib/live-source.js';

const N = opt('keys', 500_000);
const BATCH = 1000;

/** Sends N commands in batches of BATCH, as many batches in flight as the connection's limits allow. */
async function pump(conn: RedisConnection, make: (i: number) => Argv, n = N): Promise<number> {
  const t0 = process.hrtime.bigint();
  let failures = 0;
  const check = (replies: unknown[]): void => {
    for (const r of replies) if (r instanceof Error) failures++;
  };
  const batches: Array<Promise<void>> = [];
  for (let i = 0; i < n; i += BATCH) {
    await conn.ready();
    const argvs: Argv[] = [];
    for (let j = i; j < i + BATCH && j < n; j++) argvs.push(make(j));
    batches.push(conn.sendBatch(argvs).then(check));
  }
  await Promise.all(batches);
  assert.equal(failures, 0);
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

function benchmark(port: number, clients: number): number {
  const out = execFileSync(
    'redis-benchmark',
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-c',
      String(clients),
      '-P',
      '100',
      '-n',
      String(N),
      '-t',
      'set',
      '-q',
      '--csv',
    ],
    { encoding: 'utf8' },
  );
  const m = /"SET","([\d.]+)"/.exec(out);
  assert.ok(m, out);
  return Number(m[1]);
}

async function main(): Promise<void> {
  const server = await startRedis();
  const client = server.client();
  const conn = await connect({ host: server.host, port: server.port, maxInflightCommands: 20_000 });
  try {
    const value = Buffer.from('xxx'); // redis-benchmark's default 3-byte payload
    await client.hset('h', 'field1', 'value1', 'field2', 'value2');
    const payload = await client.dumpBuffer('h');
    assert.ok(payload);
    await pump(conn, (i) => ['SET', `warm:${i}`, value], 200_000); // JIT warm-up
    // Alternate ours and redis-benchmark so both see the same machine load; keep the best of two rounds.
    let set = 0;
    let restore = 0;
    let bench1 = 0;
    for (let round = 0; round < 2; round++) {
      await client.flushall();
      set = Math.max(set, await pump(conn, (i) => ['SET', `key:${i}`, value]));
      await client.flushall();
      bench1 = Math.max(bench1, benchmark(server.port, 1));
      await client.flushall();
      restore = Math.max(restore, await pump(conn, (i) => ['RESTORE', `r:${i}`, '0', payload, 'REPLACE']));
      assert.equal(await keyCount(server.port), N);
      assert.deepEqual(await client.hgetall('r:12345'), { field1: 'value1', field2: 'value2' });
    }
    await client.flushall();
    const bench50 = benchmark(server.port, 50);
    await client.flushall();
    const k = (n: number): string => `${(n / 1000).toFixed(0)}k/s`;
    console.log(
      `connection throughput (1 connection, batches of ${BATCH}): SET ${k(set)}, RESTORE (small hash) ${k(restore)}; ` +
        `redis-benchmark -P 100 -t set: ${k(bench50)} with 50 clients, ${k(bench1)} with 1 client`,
    );
    console.log(`ratio SET: shake ${(set / bench1).toFixed(2)}x of redis-benchmark -c 1 -P 100`);
  } finally {
    await conn.close();
    client.disconnect();
    await server.stop();
  }
}

await main();
