/**
 * `shake rump` vs native replication vs `shake restore`, in one run, on the same >= 1M-key mixed dataset:
 *   - native replication (the floor): a fresh redis-server, REPLICAOF the source, time until
 *     master_link_status:up with loading done (diskless sync, repl-diskless-sync-delay 0);
 *   - rump (in-process `rump()` at --rate 0, and the CLI end to end), into a fresh server;
 *   - restore of the source's own RDB (SAVE) into a fresh server;
 *   - the source's latency seen by a PING loop (in a worker thread, one PING at a time) while idle, while
 *     rump runs at the default rate, and while it runs unlimited.
 * Usage: node dist/bench/rump.bench.js [--keys 1000000] [--runs 3] [--latency-secs 10]
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { connect } from '../src/redis/index.js';
import { DEFAULT_RUMP_RATE, rump } from '../src/pipelines/rump.js';
import { openTarget } from '../src/sinks/redis/open-target.js';
import { restore } from '../src/pipelines/restore.js';
import { startRedis, type RedisServer } from '../test/harness/redis-server.js';
import { cli, opt } from './lib/args.js';
import { fill, keyCount, replicate } from './lib/live-source.js';
import { reportRatio } from './lib/summary.js';
import { median, percentiles, secondsSince as secs, timed } from './lib/timing.js';

interface LatencyResult {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

/** Worker: PING the server one at a time until told to stop; report RTT percentiles in ms. */
function pingLoop(port: number): void {
  const rtts: number[] = [];
  let stop = false;
  parentPort?.on('message', () => (stop = true));
  const sock = netConnect(port, '127.0.0.1');
  sock.setNoDelay(true);
  let sent = 0n;
  const ping = (): void => {
    if (stop) {
      sock.destroy();
      const r: LatencyResult = { samples: rtts.length, ...percentiles(rtts) };
      parentPort?.postMessage(r);
      return;
    }
    sent = process.hrtime.bigint();
    sock.write('PING\r\n');
  };
  let buf = '';
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    while (buf.includes('\r\n')) {
      buf = buf.slice(buf.indexOf('\r\n') + 2);
      rtts.push(Number(process.hrtime.bigint() - sent) / 1e6);
      // A short pause between PINGs so the probe itself is not a load.
      setTimeout(ping, 1);
    }
  });
  sock.on('connect', ping);
}

if (!isMainThread) pingLoop((workerData as { port: number }).port);

async function measureLatency(port: number, during: () => Promise<void>): Promise<LatencyResult> {
  const w = new Worker(new URL(import.meta.url), { workerData: { port } });
  const result = new Promise<LatencyResult>((r) => w.once('message', r));
  await new Promise((r) => setTimeout(r, 200));
  await during();
  w.postMessage('stop');
  const r = await result;
  await w.terminate();
  return r;
}

async function info(port: number, section: string): Promise<string> {
  const c = await connect({ host: '127.0.0.1', port });
  try {
    return String(await c.callOrThrow(['INFO', section]));
  } finally {
    await c.close();
  }
}

async function rumpInto(
  source: RedisServer,
  rate: number,
  signal?: AbortSignal,
  scanCount?: number,
): Promise<{ secs: number; keys: number }> {
  const target = await startRedis();
  try {
    const t = await openTarget({ connection: { host: '127.0.0.1', port: target.port } });
    const t0 = process.hrtime.bigint();
    const r = await rump({ source: { host: '127.0.0.1', port: source.port }, target: t, rate, signal, scanCount });
    const s = secs(t0);
    await t.close();
    if (r.counters.failed > 0) throw new Error(`rump failed ${r.counters.failed} keys`);
    return { secs: s, keys: r.counters.keysWritten };
  } finally {
    await target.stop();
  }
}

function timedCli(argv: string[]): { secs: number; rssMb: number } {
  const { secs, rssMb } = timed(process.execPath, [cli, ...argv]);
  return { secs, rssMb };
}

async function main(): Promise<void> {
  const KEYS = opt('keys', 1_000_000);
  const LATENCY_SECS = opt('latency-secs', 10);
  const RUNS = opt('runs', 3);
  const dir = mkdtempSync(join(tmpdir(), 'shake-rump-bench-'));
  const source = await startRedis({
    config: { 'repl-diskless-sync-delay': '0', 'enable-debug-command': 'yes', save: '' },
  });
  try {
    const admin = await connect({ host: '127.0.0.1', port: source.port });
    let t0 = process.hrtime.bigint();
    await fill(admin, KEYS);
    const n = await keyCount(source.port);
    const mem = /used_memory_human:(\S+)/.exec(await info(source.port, 'memory'))?.[1];
    console.log(
      `dataset: ${n} keys (55% strings of 64 B, 9% each hash/list/set/zset of 10, stream of 5; TTLs) ${mem} in ${secs(t0).toFixed(1)} s`,
    );
    await admin.callOrThrow(['SAVE']);
    const rdb = join(dir, 'source.rdb');
    copyFileSync(join(source.dir, 'dump.rdb'), rdb);
    await admin.close();

    // Interleaved runs (replication, rump, CLI), medians: the machine is shared, so each method sees the same noise.
    const repls: number[] = [];
    const rumps: number[] = [];
    const clis: { secs: number; rssMb: number }[] = [];
    for (let r = 0; r < RUNS; r++) {
      repls.push(await replicate(source));
      const run = await rumpInto(source, 0);
      if (run.keys !== n) throw new Error(`rump copied ${run.keys} of ${n}`);
      rumps.push(run.secs);
      const cliTarget = await startRedis();
      clis.push(timedCli(['rump', '-q', '--source', source.url, '--target', cliTarget.url, '--rate', '0']));
      const cliKeys = await keyCount(cliTarget.port);
      await cliTarget.stop();
      if (cliKeys !== n) throw new Error(`rump CLI copied ${cliKeys} of ${n}`);
      console.log(
        `run ${r + 1}: replication ${repls[r]!.toFixed(2)} s, rump ${rumps[r]!.toFixed(2)} s, CLI ${clis[r]!.secs.toFixed(2)} s`,
      );
    }
    const repl = median(repls);
    const rumpRun = { secs: median(rumps) };
    const cliRun = { secs: median(clis.map((c) => c.secs)), rssMb: Math.max(...clis.map((c) => c.rssMb)) };

    const restoreTarget = await startRedis();
    const t = await openTarget({ connection: { host: '127.0.0.1', port: restoreTarget.port } });
    t0 = process.hrtime.bigint();
    const rr = await restore({ input: { path: rdb }, target: t });
    const restoreSecs = secs(t0);
    await t.close();
    await restoreTarget.stop();
    if (rr.counters.keysWritten !== n) throw new Error(`restore wrote ${rr.counters.keysWritten} of ${n}`);
    console.log(`restore of the RDB in-process: ${restoreSecs.toFixed(2)} s`);

    const idle = await measureLatency(source.port, () => new Promise((r) => setTimeout(r, LATENCY_SECS * 1000)));
    const atDefault = await measureLatency(source.port, async () => {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), LATENCY_SECS * 1000);
      await rumpInto(source, DEFAULT_RUMP_RATE, ac.signal);
      clearTimeout(timer);
    });
    const unlimited = await measureLatency(source.port, async () => {
      await rumpInto(source, 0);
    });
    const fmt = (l: LatencyResult): string =>
      `${l.p50.toFixed(3)} / ${l.p99.toFixed(3)} / ${l.max.toFixed(2)} ms (${l.samples} PINGs)`;
    console.log('');
    console.log(`| measure (median of ${RUNS}) | time | vs replication |`);
    console.log('|---|---|---|');
    console.log(`| native replication (REPLICAOF, until link up + loaded) | ${repl.toFixed(2)} s | 1.00x |`);
    const work = `rump --rate 0 of ${n} keys, CLI`;
    reportRatio({ work, reference: 'native replication (REPLICAOF)', shake: cliRun.secs, ref: repl, goal: 2 });
    console.log(
      `| rump in-process, --rate 0 | ${rumpRun.secs.toFixed(2)} s (${(n / rumpRun.secs / 1000).toFixed(0)}k keys/s) | ${(rumpRun.secs / repl).toFixed(2)}x |`,
    );
    console.log(
      `| rump CLI, --rate 0 (max RSS ${cliRun.rssMb.toFixed(0)} MB) | ${cliRun.secs.toFixed(2)} s | ${(cliRun.secs / repl).toFixed(2)}x |`,
    );
    console.log(
      `| restore of the source's RDB, in-process | ${restoreSecs.toFixed(2)} s | ${(restoreSecs / repl).toFixed(2)}x |`,
    );
    console.log('');
    console.log('| source PING latency (p50 / p99 / max) | |');
    console.log('|---|---|');
    console.log(`| idle | ${fmt(idle)} |`);
    console.log(`| rump at the default rate (${DEFAULT_RUMP_RATE} keys/s), ${LATENCY_SECS} s | ${fmt(atDefault)} |`);
    console.log(`| rump unlimited (--rate 0), whole copy | ${fmt(unlimited)} |`);
  } finally {
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
