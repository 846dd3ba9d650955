/**
 * `shake sync` vs a native replica of the same source, in one run:
 *   1. full sync of the mixed >= 1M-key dataset: a fresh redis-server with REPLICAOF (until link up + loaded)
 *      vs `shake sync --until-caught-up` into a fresh server (in-process, and the CLI end to end with its RSS);
 *   2. incremental: a native replica and shake both attached and caught up, then redis-benchmark load on the
 *      source (pipelined SET/INCR/LPUSH/HSET/SADD/ZADD/MSET); time from the start of the load until each has
 *      acknowledged the whole stream (the source's INFO replication offset of each replica; shake ACKs what the
 *      target has applied), and shake's spool peak.
 *   3. lag at a steady write rate (default 20000 SETs/s for 10 s), sampled every 10 ms from the target's checkpoint.
 * Usage: node dist/bench/sync.bench.js [--keys 1000000] [--runs 3] [--requests 200000] [--lag-rate 20000] [--lag-secs 10]
 *        [--incremental-only] (part 2 alone: no full sync, no lag measure)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../src/redis/index.js';
import { sync } from '../src/pipelines/sync.js';
import { openTarget } from '../src/sinks/redis/open-target.js';
import { startRedis, type RedisServer } from '../test/harness/redis-server.js';
import { startSync } from '../test/sync/helpers.js';
import { args, cli, opt } from './lib/args.js';
import { fill, replicate } from './lib/live-source.js';
import { reportRatio } from './lib/summary.js';
import { median, percentiles, secondsSince as secs, timed } from './lib/timing.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function call(port: number, argv: string[]): Promise<string> {
  const c = await connect({ host: '127.0.0.1', port });
  try {
    return String(await c.callOrThrow(argv));
  } finally {
    await c.close();
  }
}

/** redis-benchmark with these arguments, without blocking the event loop; throws on a non-zero exit. */
function runBenchmark(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-benchmark', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-benchmark failed: ${stderr}`))));
  });
}

async function syncInto(source: RedisServer): Promise<{ secs: number; keys: number }> {
  const target = await startRedis();
  try {
    const t0 = process.hrtime.bigint();
    const r = await sync({
      source: { host: '127.0.0.1', port: source.port },
      openTarget: () => openTarget({ connection: { host: '127.0.0.1', port: target.port } }),
      stateDir: mkdtempSync(join(tmpdir(), 'shake-sync-bench-')),
      untilCaughtUp: true,
    });
    const s = secs(t0);
    const failed = r.links.reduce((n, l) => n + l.counters.failed, 0);
    if (failed > 0) throw new Error(`sync failed ${failed} keys`);
    return { secs: s, keys: Number(await call(target.port, ['DBSIZE'])) - 1 };
  } finally {
    await target.stop();
  }
}

/** The acknowledged offset of each replica, by listening port, from the source's INFO replication. */
async function replicaOffsets(port: number): Promise<Map<number, number>> {
  const text = await call(port, ['INFO', 'replication']);
  const out = new Map<number, number>();
  for (const m of text.matchAll(/^slave\d+:ip=[^,]+,port=(\d+),state=\w+,offset=(\d+)/gm)) {
    out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

async function masterOffset(port: number): Promise<number> {
  return Number(/master_repl_offset:(\d+)/.exec(await call(port, ['INFO', 'replication']))?.[1]);
}

async function incremental(
  source: RedisServer,
  requests: number,
): Promise<{ native: number; shake: number; spool: number }> {
  const replica = await startRedis();
  const target = await startRedis();
  await call(replica.port, ['REPLICAOF', '127.0.0.1', String(source.port)]);
  const run = startSync(source, target);
  const progress = run.progress;
  try {
    // Both attached and caught up before the load.
    for (;;) {
      const want = await masterOffset(source.port);
      const offs = [...(await replicaOffsets(source.port)).values()];
      if (offs.length === 2 && offs.every((o) => o >= want) && [...progress.links.values()][0]?.phase === 'streaming')
        break;
      await sleep(50);
    }
    const ports = [...(await replicaOffsets(source.port)).keys()];
    const nativePort = replica.port;
    const t0 = process.hrtime.bigint();
    // Asynchronously: shake runs in this process, and a spawnSync would freeze its event loop (no byte read from
    // the master, nothing applied) for the whole load.
    await runBenchmark([
      '-p',
      String(source.port),
      '-n',
      String(requests),
      '-P',
      '16',
      '-r',
      '100000',
      '-q',
      '-t',
      'set,incr,lpush,hset,sadd,zadd,mset',
    ]);
    const end = await masterOffset(source.port);
    let nativeAt: number | null = null;
    let shakeAt: number | null = null;
    while (nativeAt === null || shakeAt === null) {
      const offs = await replicaOffsets(source.port);
      for (const p of ports) {
        if ((offs.get(p) ?? 0) < end) continue;
        if (p === nativePort) nativeAt ??= secs(t0);
        else shakeAt ??= secs(t0);
      }
      await sleep(5);
    }
    const spool = Math.max(...[...progress.links.values()].map((l) => l.spoolBytes));
    const res = await run.stop();
    return { native: nativeAt, shake: shakeAt, spool: Math.max(spool, res.links[0]?.peakSpoolBytes ?? 0) };
  } finally {
    await run.stop().catch(() => {});
    await Promise.all([replica.stop(), target.stop()]);
  }
}

/**
 * shake attached and caught up, then a paced writer (`rate` SETs/s, a pipelined burst every 10 ms) for
 * `seconds`; every 10 ms the source's master_repl_offset and the offset in the target's checkpoint key are read:
 * the lag at that moment is how long ago the source's offset first passed what the target has applied.
 */
async function steadyLag(
  source: RedisServer,
  rate: number,
  seconds: number,
): Promise<{ p50: number; p99: number; max: number; rssMb: number }> {
  const target = await startRedis();
  const name = `127.0.0.1:${source.port}`;
  const run = startSync(source, target);
  const progress = run.progress;
  try {
    while ([...progress.links.values()][0]?.phase !== 'streaming') await sleep(50);
    const src = await connect({ host: '127.0.0.1', port: source.port });
    const dst = await connect({ host: '127.0.0.1', port: target.port });
    const writer = await connect({ host: '127.0.0.1', port: source.port });
    const history: [number, number][] = [];
    const lags: number[] = [];
    let rss = 0;
    const perTick = Math.round(rate / 100);
    let n = 0;
    const tick = setInterval(() => {
      const batch: string[][] = [];
      for (let i = 0; i < perTick; i++) batch.push(['SET', `lag:${n++ % 100000}`, 'x'.repeat(32)]);
      void writer.sendBatch(batch);
    }, 10);
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      const now = Date.now();
      const mo = Number(/master_repl_offset:(\d+)/.exec(String(await src.callOrThrow(['INFO', 'replication'])))?.[1]);
      history.push([now, mo]);
      const cp = await dst.call(['GET', `__shake:sync:${name}`]);
      const applied = Number(/^\S+ (\d+) /.exec(String(cp))?.[1] ?? 0);
      const first = history.find(([, o]) => o > applied);
      lags.push(first ? Date.now() - first[0] : 0);
      rss = Math.max(rss, process.memoryUsage().rss);
      await sleep(10);
    }
    clearInterval(tick);
    await Promise.all([src.close(), dst.close(), writer.close()]);
    await run.stop();
    return { ...percentiles(lags), rssMb: rss / 1e6 };
  } finally {
    await run.stop().catch(() => {});
    await target.stop();
  }
}

async function main(): Promise<void> {
  const KEYS = opt('keys', 1_000_000);
  const RUNS = opt('runs', 3);
  const REQUESTS = opt('requests', 200_000);
  const source = await startRedis({
    config: { 'repl-diskless-sync-delay': '0', 'enable-debug-command': 'yes', save: '', 'repl-backlog-size': '256mb' },
  });
  try {
    const admin = await connect({ host: '127.0.0.1', port: source.port });
    const t0 = process.hrtime.bigint();
    await fill(admin, KEYS);
    await admin.close();
    const n = Number(await call(source.port, ['DBSIZE']));
    const mem = /used_memory_human:(\S+)/.exec(await call(source.port, ['INFO', 'memory']))?.[1];
    console.log(`dataset: ${n} keys ${mem} in ${secs(t0).toFixed(1)} s`);

    const repls: number[] = [];
    const syncs: number[] = [];
    const clis: { secs: number; rssMb: number }[] = [];
    const incrementalOnly = args.includes('--incremental-only');
    for (let r = 0; r < (incrementalOnly ? 0 : RUNS); r++) {
      repls.push(await replicate(source));
      const run = await syncInto(source);
      if (run.keys !== n) throw new Error(`sync copied ${run.keys} of ${n}`);
      syncs.push(run.secs);
      const cliTarget = await startRedis();
      const dir = mkdtempSync(join(tmpdir(), 'shake-sync-bench-'));
      clis.push(
        timed(
          process.execPath,
          [
            cli,
            'sync',
            '-q',
            '--until-caught-up',
            '--state-dir',
            dir,
            '--source',
            source.url,
            '--target',
            cliTarget.url,
          ],
          true,
        ),
      );
      await cliTarget.stop();
      console.log(
        `run ${r + 1}: replication ${repls[r]!.toFixed(2)} s, sync ${syncs[r]!.toFixed(2)} s, CLI ${clis[r]!.secs.toFixed(2)} s`,
      );
    }
    const incs: { native: number; shake: number; spool: number }[] = [];
    for (let r = 0; r < RUNS; r++) {
      const i = await incremental(source, REQUESTS);
      incs.push(i);
      console.log(
        `incremental ${r + 1}: native ${i.native.toFixed(2)} s, shake ${i.shake.toFixed(2)} s, spool ${(i.spool / 1e6).toFixed(1)} MB`,
      );
    }
    if (incrementalOnly) {
      const nat = median(incs.map((x) => x.native));
      const sh = median(incs.map((x) => x.shake));
      console.log(
        `incremental (median of ${RUNS}): native ${nat.toFixed(2)} s, shake ${sh.toFixed(2)} s, ${(sh / nat).toFixed(2)}x`,
      );
      return;
    }
    const LAG_RATE = opt('lag-rate', 20_000);
    const lag = await steadyLag(source, LAG_RATE, opt('lag-secs', 10));
    const repl = median(repls);
    const s = median(syncs);
    const c = median(clis.map((x) => x.secs));
    const rss = Math.max(...clis.map((x) => x.rssMb));
    const nat = median(incs.map((x) => x.native));
    const sh = median(incs.map((x) => x.shake));
    reportRatio({
      work: `sync, full (${n} keys), CLI`,
      reference: 'native replica (REPLICAOF)',
      shake: c,
      ref: repl,
      goal: 1.5,
    });
    reportRatio({
      work: `sync, incremental (${REQUESTS} requests x 7)`,
      reference: 'native replica',
      shake: sh,
      ref: nat,
      goal: 1.3,
    });
    console.log('');
    console.log(`| measure (median of ${RUNS}) | native replica | shake sync | ratio |`);
    console.log('|---|---|---|---|');
    console.log(
      `| full sync of ${n} keys, in-process | ${repl.toFixed(2)} s | ${s.toFixed(2)} s | ${(s / repl).toFixed(2)}x |`,
    );
    console.log(
      `| full sync, CLI end to end (max RSS ${rss.toFixed(0)} MB) | ${repl.toFixed(2)} s | ${c.toFixed(2)} s | ${(c / repl).toFixed(2)}x |`,
    );
    console.log(
      `| incremental: ${REQUESTS} requests x 7 tests of redis-benchmark -P 16, until acknowledged | ${nat.toFixed(2)} s | ${sh.toFixed(2)} s | ${(sh / nat).toFixed(2)}x |`,
    );
    console.log(
      `steady ${LAG_RATE} SETs/s: lag p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms (checkpoint read every 10 ms); in-process RSS ${lag.rssMb.toFixed(0)} MB`,
    );
    console.log(`shake's spool peak during the load: ${(Math.max(...incs.map((x) => x.spool)) / 1e6).toFixed(1)} MB`);
  } finally {
    await source.stop();
  }
}

await main();
