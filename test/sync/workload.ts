/**
 * A seeded random write workload for the sync tests: every type, short TTLs the source expires itself,
 * MULTI/EXEC of INCR/LPUSH/INCRBYFLOAT, Lua, streams with approximate trims (6.2+ masters propagate them as
 * `MAXLEN = N LIMIT M`) and consumer groups, and, on a standalone target, SELECT/MOVE/COPY/SWAPDB/RENAME
 * across dbs and a FLUSHDB. The same seed gives the same commands.
 */
import type { Redis } from 'ioredis';
import { prng as rng } from '../helpers/prng.js';

export { rng };

export interface WorkloadOptions {
  seed: number;
  ops: number;
  /** Cluster target: db 0 only, no cross-db commands, multi-key commands on one hash tag. */
  singleDb?: boolean;
  /** Source version major (streams need 5, LIMIT needs 6.2, COPY 6.2, FUNCTION 7). */
  major?: number;
  /** XADD ... MAXLEN ~ N LIMIT M (6.2+; default from major 7). */
  limit?: boolean;
  /** Commands per pipeline round trip. */
  pipeline?: number;
}

export async function runWorkload(c: Redis, o: WorkloadOptions): Promise<void> {
  const r = rng(o.seed);
  const major = o.major ?? 7;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const key = (kind: string): string => `${kind}:${Math.floor(r() * 40)}`;
  const dbs = o.singleDb ? [0] : [0, 1, 2];
  const step = o.pipeline ?? 25;
  let flushed = false;
  for (let done = 0; done < o.ops; done += step) {
    const pl = c.pipeline();
    pl.select(pick(dbs));
    for (let i = 0; i < step; i++) {
      const x = r();
      if (x < 0.1) pl.set(key('s'), `v${Math.floor(r() * 1e6)}`);
      else if (x < 0.18) pl.incr(key('n'));
      else if (x < 0.23) pl.incrbyfloat(key('f'), (r() * 10 - 5).toFixed(3));
      else if (x < 0.3) pl.lpush(key('l'), `e${Math.floor(r() * 1000)}`);
      else if (x < 0.33) pl.rpop(key('l'));
      else if (x < 0.4) pl.hset(key('h'), `f${Math.floor(r() * 20)}`, `${r()}`);
      else if (x < 0.43) pl.hdel(key('h'), `f${Math.floor(r() * 20)}`);
      else if (x < 0.5) pl.sadd(key('S'), `m${Math.floor(r() * 50)}`);
      else if (x < 0.52) pl.spop(key('S'));
      else if (x < 0.58) pl.zadd(key('z'), (r() * 100).toFixed(4), `m${Math.floor(r() * 50)}`);
      else if (x < 0.6) pl.zincrby(key('z'), 1.5, `m${Math.floor(r() * 50)}`);
      else if (x < 0.65 && major >= 5) {
        const args: (string | number)[] = [key('x'), 'MAXLEN', '~', 20];
        if (o.limit ?? major >= 7) args.push('LIMIT', 5);
        pl.call('XADD', ...args, '*', 'f', `${Math.floor(r() * 1000)}`);
      } else if (x < 0.67 && major >= 5) {
        const k = key('x');
        pl.call('XGROUP', 'CREATE', k, 'g', '0', 'MKSTREAM');
        pl.call('XREADGROUP', 'GROUP', 'g', `c${Math.floor(r() * 3)}`, 'COUNT', 2, 'STREAMS', k, '>');
      } else if (x < 0.7) {
        // Short TTL: the source expires the key itself and sends DEL.
        pl.set(key('t'), 'short', 'PX', 50 + Math.floor(r() * 250));
      } else if (x < 0.72) pl.set(key('T'), 'long', 'EX', 3600);
      else if (x < 0.76) {
        const tag = o.singleDb ? `{m${Math.floor(r() * 5)}}` : '';
        pl.call('MULTI');
        pl.incr(`${tag}tx:n`);
        pl.lpush(`${tag}tx:l`, `${Math.floor(r() * 100)}`);
        pl.incrbyfloat(`${tag}tx:f`, '0.1');
        pl.call('EXEC');
      } else if (x < 0.79) {
        pl.eval(
          "redis.call('INCR', KEYS[1]); return redis.call('LPUSH', KEYS[2], ARGV[1])",
          2,
          '{lua}a',
          '{lua}b',
          `${r()}`,
        );
      } else if (x < 0.82) pl.del(key(pick(['s', 'n', 'l', 'h'])));
      else if (x < 0.84 && !o.singleDb) pl.rename(key('s'), key('s'));
      else if (x < 0.86 && !o.singleDb) pl.move(key('n'), pick([1, 2]));
      else if (x < 0.88 && !o.singleDb && major >= 6)
        pl.call('COPY', key('h'), key('h'), 'DB', pick([1, 2]), 'REPLACE');
      else if (x < 0.885 && !o.singleDb && major >= 4) pl.swapdb(1, 2);
      else if (x < 0.886 && !flushed && done > o.ops / 2) {
        pl.select(o.singleDb ? 0 : 2);
        pl.flushdb();
        flushed = true;
      } else if (x < 0.89) pl.publish('chan', `m${Math.floor(r() * 1000)}`);
      else pl.set(key('s'), `w${Math.floor(r() * 1e6)}`);
    }
    const res = await pl.exec();
    for (const [err] of res ?? []) {
      // Wrong types from random picks and a rename of a missing key are expected; anything else is not.
      if (err && !/WRONGTYPE|no such key|BUSYGROUP|ERR value is not|NOGROUP|EXECABORT|are the same/.test(err.message))
        throw err;
    }
  }
}

/**
 * Makes the source expire the workload's short-TTL keys (`t:*`) whose time has passed, by reading them: it
 * deletes each and propagates the DEL now, instead of whenever its active expiry cycle finds it (slow on a
 * loaded machine). Call after the TTLs have passed and before waiting for the target to hold the source's
 * offset, so the comparison that follows does not itself expire keys the target still holds.
 */
export async function expireDue(c: Redis, dbs: readonly number[] = [0, 1, 2]): Promise<void> {
  const pl = c.pipeline();
  for (const db of dbs) {
    pl.select(db);
    for (let i = 0; i < 40; i++) pl.exists(`t:${i}`);
  }
  pl.select(0);
  await pl.exec();
}
