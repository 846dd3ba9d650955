/**
 * `shake decode` vs `redis-check-rdb` on the same large mixed RDB, in one run.
 * Builds (once, cached in bench/out/) with the local redis-server an RDB of >= 1M keys of every type:
 * DEBUG POPULATE strings (some with TTLs), small hashes/lists/sets/zsets, streams with groups, and a
 * few big collections; then times `redis-check-rdb FILE`, `shake decode --format keys FILE > /dev/null`
 * and `shake decode --format jsonl FILE > /dev/null` (median of --runs, wall time and max RSS via
 * /usr/bin/time) and prints the ratios (goals: keys <= 1.5x, jsonl <= 3x of redis-check-rdb).
 * Usage: node dist/bench/decode.bench.js [--keys 1000000] [--runs 3] [--rebuild]
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '../src/redis/index.js';
import { startRedis } from '../test/harness/redis-server.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const KEYS = opt('keys', 1_000_000);
const RUNS = opt('runs', 3);
const repoRoot = join(import.meta.dirname, '..', '..');
const cli = join(repoRoot, 'bin', 'run.js');
const outDir = join(repoRoot, 'bench', 'out');
const rdbPath = join(outDir, `decode-mixed-${KEYS}.rdb`);

interface Timed {
  secs: number;
  /** user + system CPU seconds: less sensitive than wall time to other load on the machine */
  cpu: number;
  rssMb: number;
}

function timed(cmd: string, argv: string[]): Timed {
  const devnull = openSync('/dev/null', 'w');
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...argv], {
      stdio: ['ignore', devnull, 'pipe'],
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
    const last = r.stderr.trim().split('\n').at(-1) ?? '';
    const [secs, user, sys, kb] = last.split(' ').map(Number);
    return { secs: secs ?? NaN, cpu: (user ?? NaN) + (sys ?? NaN), rssMb: (kb ?? NaN) / 1024 };
  } finally {
    closeSync(devnull);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function build(): Promise<void> {
  const server = await startRedis({ config: { 'enable-debug-command': 'yes' } });
  const conn = await connect({ host: '127.0.0.1', port: server.port });
  try {
    const strings = Math.round(KEYS * 0.6);
    await conn.callOrThrow(['DEBUG', 'POPULATE', String(strings), 'str', '48']);
    let batch: string[][] = [];
    const flush = async (force = false) => {
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
    const per = Math.floor((KEYS - strings) / 4);
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
    mkdirSync(outDir, { recursive: true });
    copyFileSync(join(server.dir, 'dump.rdb'), rdbPath);
  } finally {
    await conn.close();
    await server.stop();
  }
}

async function main(): Promise<void> {
  if (!existsSync(rdbPath) || args.includes('--rebuild')) {
    const t = Date.now();
    await build();
    console.log(`built ${rdbPath} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const size = statSync(rdbPath).size;
  const rows: { name: string; cmd: string; t: Timed[] }[] = [
    { name: 'redis-check-rdb', cmd: `redis-check-rdb ${rdbPath}`, t: [] },
    {
      name: 'shake decode --format keys',
      cmd: `node bin/run.js decode ${rdbPath} --format keys -q > /dev/null`,
      t: [],
    },
    { name: 'shake decode --format jsonl', cmd: `node bin/run.js decode ${rdbPath} -q > /dev/null`, t: [] },
  ];
  for (let r = 0; r < RUNS; r++) {
    rows[0]?.t.push(timed('redis-check-rdb', [rdbPath]));
    rows[1]?.t.push(timed(process.execPath, [cli, 'decode', rdbPath, '--format', 'keys', '-q']));
    rows[2]?.t.push(timed(process.execPath, [cli, 'decode', rdbPath, '-q']));
  }
  const base = median(rows[0]?.t.map((x) => x.secs) ?? []);
  const baseCpu = median(rows[0]?.t.map((x) => x.cpu) ?? []);
  console.log(`file: ${rdbPath} (${(size / 2 ** 20).toFixed(1)} MiB, ~${KEYS} keys), median of ${RUNS} runs`);
  console.log(
    '| command | wall s | CPU s | MB/s (wall) | max RSS MB | wall vs redis-check-rdb | CPU vs redis-check-rdb |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const secs = median(row.t.map((x) => x.secs));
    const cpu = median(row.t.map((x) => x.cpu));
    const rss = median(row.t.map((x) => x.rssMb));
    console.log(
      `| \`${row.cmd}\` | ${secs.toFixed(2)} | ${cpu.toFixed(2)} | ${(size / 2 ** 20 / secs).toFixed(1)} | ${rss.toFixed(0)} | ` +
        `${(secs / base).toFixed(2)}x | ${(cpu / baseCpu).toFixed(2)}x |`,
    );
  }
}

await main();
