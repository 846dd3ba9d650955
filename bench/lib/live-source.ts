/**
 * The live source the benches share (dump, rump, sync): the one mixed >= 1M-key dataset recipe written into a
 * running server, the one key count (every db), and a native replica (REPLICAOF) timed until its link is up and
 * the snapshot loaded.
 */
import { connect, type RedisConnection } from '../../src/redis/index.js';
import { startRedis, type RedisServer } from '../../test/harness/redis-server.js';
import { secondsSince as secs } from './timing.js';

/** 55% strings of 64 B, 9% each hash/list/set/zset of 10 elements, streams of 5 entries; every 10th with a TTL. */
export async function fill(conn: RedisConnection, keys: number): Promise<void> {
  const strings = Math.round(keys * 0.55);
  await conn.callOrThrow(['DEBUG', 'POPULATE', String(strings), 'str', '64']);
  const per = Math.floor((keys - strings) / 5);
  let batch: string[][] = [];
  const kinds = ['hash', 'list', 'set', 'zset', 'stream'] as const;
  for (const kind of kinds) {
    for (let i = 0; i < per; i++) {
      const key = `${kind}:${i}`;
      if (kind === 'stream') {
        for (let j = 0; j < 5; j++) batch.push(['XADD', key, '*', 'f', `v:${i}:${j}`]);
      } else {
        const argv =
          kind === 'hash'
            ? ['HSET', key]
            : kind === 'list'
              ? ['RPUSH', key]
              : kind === 'set'
                ? ['SADD', key]
                : ['ZADD', key];
        for (let j = 0; j < 10; j++) {
          if (kind === 'hash') argv.push(`field:${j}`, `value:${i}:${j}`);
          else if (kind === 'zset') argv.push(String(i + j / 10), `member:${i}:${j}`);
          else argv.push(`element:${i}:${j}`);
        }
        batch.push(argv);
      }
      if (i % 10 === 0) batch.push(['PEXPIREAT', key, String(4102444800000 + i)]);
      if (batch.length >= 5000) {
        await conn.sendBatch(batch);
        batch = [];
      }
    }
  }
  if (batch.length > 0) await conn.sendBatch(batch);
}

/** Keys in every db of the server at `port` (INFO keyspace): the one key count of the benches. */
export async function keyCount(port: number): Promise<number> {
  const c = await connect({ host: '127.0.0.1', port });
  try {
    const info = String(await c.callOrThrow(['INFO', 'keyspace']));
    return [...info.matchAll(/keys=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  } finally {
    await c.close();
  }
}

/** Seconds from REPLICAOF until the replica's link is up and the snapshot is loaded (a fresh replica). */
export async function replicate(source: RedisServer): Promise<number> {
  const replica = await startRedis();
  try {
    const c = await connect({ host: '127.0.0.1', port: replica.port });
    const t0 = process.hrtime.bigint();
    await c.callOrThrow(['REPLICAOF', '127.0.0.1', String(source.port)]);
    for (;;) {
      const text =
        String(await c.callOrThrow(['INFO', 'replication'])) + String(await c.callOrThrow(['INFO', 'persistence']));
      if (/master_link_status:up/.test(text) && /loading:0/.test(text) && /master_sync_in_progress:0/.test(text)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const t = secs(t0);
    await c.close();
    return t;
  } finally {
    await replica.stop();
  }
}
