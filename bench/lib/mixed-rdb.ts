/**
 * The mixed RDB the decode and restore benches share (cached in bench/out/): built with the local
 * redis-server from >= `keys` keys of every type: DEBUG POPULATE strings (a tenth with TTLs), small
 * hashes/lists/sets/zsets, streams with groups, and a few big collections.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connect } from '../../src/redis/index.js';
import { startRedis } from '../../test/harness/redis-server.js';
import { outDir } from './args.js';

/** The cached file for `keys` keys. */
export function mixedRdbPath(keys: number): string {
  return join(outDir, `decode-mixed-${keys}.rdb`);
}

/** Builds the file unless cached (or when `rebuild`); logs the build time. Returns its path. */
export async function ensureMixedRdb(keys: number, rebuild: boolean): Promise<string> {
  const rdbPath = mixedRdbPath(keys);
  if (!existsSync(rdbPath) || rebuild) {
    const t = Date.now();
    await buildMixedRdb(keys, rdbPath);
    console.log(`built ${rdbPath} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  return rdbPath;
}

export async function buildMixedRdb(keys: number, rdbPath: string): Promise<void> {
  const server = await startRedis({ config: { 'enable-debug-command': 'yes' } });
  const conn = await connect({ host: '127.0.0.1', port: server.port });
  try {
    const strings = Math.round(keys * 0.6);
    await conn.callOrThrow(['DEBUG', 'POPULATE', String(strings), 'str', '48']);
    let batch: string[][] = [];
    const flush = async (force = false): Promise<void> => {
      if (batch.length >= 2000 || (force && batch.length > 0)) {
        await conn.sendBatch(batch);
        batch = [];
      }
    };
    // TTLs on a tenth of the strings
    for (let i = 0; i < strings; i += 10) {
      batch.push(['PEXPIREAT', `str:${i}`, String(4_102_444_800_000 + i)]);
      await flush();
    }
    const per = Math.floor((keys - strings) / 4);
    for (let i = 0; i < per; i++) {
      const h = ['HSET', `hash:${i}`];
      const l = ['RPUSH', `list:${i}`];
      const s = ['SADD', `set:${i}`];
      const z = ['ZADD', `zset:${i}`];
      for (let j = 0; j < 10; j++) {
        h.push(`field:${j}`, `value:${i}:${j}`);
        l.push(`item:${i}:${j}`);
        s.push(String(i * 10 + j));
        z.push(String(j * 1.5), `member:${j}`);
      }
      batch.push(h, l, s, z);
      await flush();
    }
    for (let i = 0; i < 1000; i++) {
      for (let j = 1; j <= 20; j++) batch.push(['XADD', `stream:${i}`, `${j}-1`, 'f', `v${j}`, 'n', String(j)]);
      batch.push(['XGROUP', 'CREATE', `stream:${i}`, 'g', '0']);
      batch.push(['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '5', 'STREAMS', `stream:${i}`, '>']);
      await flush();
    }
    // a few big keys: written batch by batch by decode, never held whole
    for (let j = 0; j < 200_000; j += 1000) {
      const h = ['HSET', 'big:hash'];
      const l = ['RPUSH', 'big:list'];
      const z = ['ZADD', 'big:zset'];
      for (let k = j; k < j + 1000; k++) {
        h.push(`f${k}`, `v${k}`);
        l.push(`e${k}`);
        z.push(String(k / 3), `m${k}`);
      }
      batch.push(h, l, z);
      await flush();
    }
    await flush(true);
    await conn.callOrThrow(['SAVE']);
    mkdirSync(dirname(rdbPath), { recursive: true });
    copyFileSync(join(server.dir, 'dump.rdb'), rdbPath);
  } finally {
    await conn.close();
    await server.stop();
  }
}
