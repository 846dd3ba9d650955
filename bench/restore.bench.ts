/**
 * `shake restore` vs the reference loaders, on the same large mixed RDB, in one run:
 *   1. redis-server loading the RDB at start-up (time until PING answers, i.e. no longer LOADING);
 *   2. `shake restore FILE --target ...` into an empty server (wall time and max RSS via /usr/bin/time);
 *   3. `shake decode FILE --format resp | redis-cli --pipe` into an empty server;
 *   4. `shake restore FILE --target ... --load replication` into an empty server: the target loads the file itself
 *      as a replica of shake (its own CPU beside the loading server's).
 * Each target is checked afterwards (DBSIZE over every db equals the loaded server's). Prints a Markdown
 * table with the ratios (goals: restore within 2x of redis-server's own load, faster than --pipe, RSS < 200 MB),
 * and the CPU the target redis-server spent on shake's commands beside the CPU the loading server spent on its
 * own load: the part of the ratio no client can remove.
 * With --per-type: for each type, the target's CPU for `shake restore --type T` (RESTORE / MSETNX), for the
 * same keys as plain commands (`decode --format resp --type T | redis-cli --pipe`) and for loading an RDB of
 * just those keys (SAVEd by the first target).
 * The RDB (>= 1M keys: strings with TTLs, small hashes/lists/sets/zsets, streams with groups, big
 * collections) is built once with the local redis-server and cached in bench/out/ (the same recipe and file
 * name as bench/decode.bench.ts, so either bench reuses the other's file).
 * Usage: node dist/bench/restore.bench.js [--keys 1000000] [--runs 1] [--rebuild] [--connections 2] [--heap-mb 128]
 *   [--per-type]
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisServer } from '../test/harness/redis-server.js';
import { connect } from '../src/redis/index.js';
import { args, cli, opt } from './lib/args.js';
import { keyCount } from './lib/live-source.js';
import { ensureMixedRdb } from './lib/mixed-rdb.js';
import { serverCpu } from './lib/server-cpu.js';
import { reportRatio } from './lib/summary.js';
import { median, parseTimeLine } from './lib/timing.js';

const KEYS = opt('keys', 1_000_000);
const RUNS = opt('runs', 1);
const CONNECTIONS = opt('connections', 2);
const HEAP_MB = opt('heap-mb', 128);
interface Timed {
  secs: number;
  /** CPU seconds of the redis-server that loaded or received the data (INFO cpu), when measured. */
  serverCpu?: number;
  /** user + system CPU seconds of the measured process (shake), when known. */
  cpu: number | null;
  rssMb: number | null;
}

/** Runs `bash -c script`, timing it; with /usr/bin/time when `measured` names the process to measure. */
function timedShell(script: string): Timed {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `/usr/bin/time -f '%e %U %S %M' ${script}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return parseTimeLine(r.stderr);
}

function timedPipe(script: string): Timed {
  const t = process.hrtime.bigint();
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return { secs: Number(process.hrtime.bigint() - t) / 1e9, cpu: null, rssMb: null };
}

const dbsize = (server: RedisServer): Promise<number> => keyCount(server.port);

async function main(): Promise<void> {
  const rdbPath = await ensureMixedRdb(KEYS, args.includes('--rebuild'));
  const size = statSync(rdbPath).size;
  const load: Timed[] = [];
  const shake: Timed[] = [];
  const capped: Timed[] = [];
  const pipe: Timed[] = [];
  const byReplication: Timed[] = [];
  let expectedKeys = 0;
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    const loaded = await startRedis({ rdbFile: rdbPath });
    const loadSecs = Number(process.hrtime.bigint() - t0) / 1e9;
    load.push({ secs: loadSecs, cpu: null, rssMb: null, serverCpu: await serverCpu(loaded) });
    expectedKeys = await dbsize(loaded);
    await loaded.stop();

    const a = await startRedis();
    const before = await serverCpu(a);
    const timedA = timedShell(`node ${cli} restore ${rdbPath} --target ${a.url} --connections ${CONNECTIONS} -q`);
    const targetCpu = (await serverCpu(a)) - before;
    shake.push({ ...timedA, serverCpu: targetCpu });
    console.log(
      `run ${r + 1}: load ${loadSecs.toFixed(2)} s, restore ${timedA.secs.toFixed(2)} s (shake CPU ` +
        `${(timedA.cpu ?? 0).toFixed(2)} s, target CPU ${targetCpu.toFixed(2)} s), load average ${(loadavg()[0] ?? 0).toFixed(1)}`,
    );
    const gotA = await dbsize(a);
    await a.stop();
    if (gotA !== expectedKeys) throw new Error(`shake restore: ${gotA} keys, expected ${expectedKeys}`);

    // The same with V8's old space capped: the heap then stays near what is live (RSS), at some GC cost.
    const a2 = await startRedis();
    capped.push(
      timedShell(
        `env NODE_OPTIONS=--max-old-space-size=${HEAP_MB} node ${cli} restore ${rdbPath} --target ${a2.url} --connections ${CONNECTIONS} -q`,
      ),
    );
    const gotA2 = await dbsize(a2);
    await a2.stop();
    if (gotA2 !== expectedKeys) throw new Error(`shake restore (capped heap): ${gotA2} keys, expected ${expectedKeys}`);

    const c = await startRedis();
    const beforeC = await serverCpu(c);
    const timedC = timedShell(`node ${cli} restore ${rdbPath} --target ${c.url} --load replication -q`);
    byReplication.push({ ...timedC, serverCpu: (await serverCpu(c)) - beforeC });
    const gotC = await dbsize(c);
    await c.stop();
    if (gotC !== expectedKeys)
      throw new Error(`shake restore --load replication: ${gotC} keys, expected ${expectedKeys}`);

    const b = await startRedis();
    pipe.push(timedPipe(`node ${cli} decode ${rdbPath} --format resp -q | redis-cli -p ${b.port} --pipe > /dev/null`));
    const gotB = await dbsize(b);
    await b.stop();
    if (gotB !== expectedKeys) throw new Error(`redis-cli --pipe: ${gotB} keys, expected ${expectedKeys}`);
  }
  const base = median(load.map((x) => x.secs));
  const rows: [string, Timed[]][] = [
    ['redis-server start-up load (until PING answers)', load],
    [`\`shake restore FILE --target URL --connections ${CONNECTIONS}\``, shake],
    [`the same with \`NODE_OPTIONS=--max-old-space-size=${HEAP_MB}\``, capped],
    ['`shake decode FILE --format resp | redis-cli --pipe`', pipe],
    ['`shake restore FILE --target URL --load replication`', byReplication],
  ];
  console.log(`file: ${rdbPath} (${(size / 2 ** 20).toFixed(1)} MiB, ${expectedKeys} keys), median of ${RUNS} run(s)`);
  console.log(
    '| loader | wall s | keys/s | shake CPU s | max RSS MB (shake) | redis-server CPU s | vs redis-server load |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, t] of rows) {
    const secs = median(t.map((x) => x.secs));
    const rss = t[0]?.rssMb === null ? '' : median(t.map((x) => x.rssMb ?? NaN)).toFixed(0);
    const cpu = t[0]?.cpu === null ? '' : median(t.map((x) => x.cpu ?? NaN)).toFixed(2);
    const srv = t[0]?.serverCpu === undefined ? '' : median(t.map((x) => x.serverCpu ?? NaN)).toFixed(2);
    console.log(
      `| ${name} | ${secs.toFixed(2)} | ${Math.round(expectedKeys / secs).toLocaleString('en-US')} | ${cpu} | ${rss} | ${srv} | ${(secs / base).toFixed(2)}x |`,
    );
  }
  const loadCpu = median(load.map((x) => x.serverCpu ?? NaN));
  const targetCpu = median(shake.map((x) => x.serverCpu ?? NaN));
  console.log(
    `redis-server CPU: ${targetCpu.toFixed(2)} s executing shake's commands vs ${loadCpu.toFixed(2)} s loading the file ` +
      `itself (${(targetCpu / loadCpu).toFixed(2)}x): on an idle machine, where the load's wall time is its CPU, no ` +
      'client can bring restore below that ratio',
  );
  if (args.includes('--per-type')) await perType(rdbPath);
  const s = median(shake.map((x) => x.secs));
  const p = median(pipe.map((x) => x.secs));
  const what = `restore of ${expectedKeys} keys (${(size / 2 ** 20).toFixed(1)} MiB RDB)`;
  reportRatio({ work: what, reference: 'redis-server loading the RDB', shake: s, ref: base, goal: 2 });
  reportRatio({ work: what, reference: 'decode --format resp | redis-cli --pipe', shake: s, ref: p, goal: 1 });
  reportRatio({
    work: `${what}, --load replication`,
    reference: 'redis-server loading the RDB',
    shake: median(byReplication.map((x) => x.secs)),
    ref: base,
    goal: 2,
  });
  console.log(`shake restore vs redis-cli --pipe: ${(s / p).toFixed(2)}x the time (${s < p ? 'faster' : 'slower'})`);
}

await main();

/**
 * For each key type: the target's CPU for shake's RESTOREs (strings: MSETNX), for the same keys as plain commands
 * (decode --format resp | redis-cli --pipe), and for loading an RDB of just those keys (SAVEd by the first target).
 */
async function perType(rdbPath: string): Promise<void> {
  console.log('| type | keys | load CPU s | shake restore: target CPU s | plain commands: target CPU s |');
  console.log('|---|---|---|---|---|');
  for (const type of ['string', 'hash', 'list', 'set', 'zset']) {
    const a = await startRedis();
    const dir = mkdtempSync(join(tmpdir(), 'shake-restore-bench-'));
    try {
      const c0 = await serverCpu(a);
      timedShell(`node ${cli} restore ${rdbPath} --target ${a.url} --type ${type} -q`);
      const viaRestore = (await serverCpu(a)) - c0;
      const keys = await dbsize(a);
      const c = await connect({ host: '127.0.0.1', port: a.port });
      await c.callOrThrow(['SAVE']);
      await c.close();
      const file = join(dir, `${type}.rdb`);
      copyFileSync(join(a.dir, 'dump.rdb'), file);
      const loaded = await startRedis({ rdbFile: file });
      const viaLoad = await serverCpu(loaded);
      await loaded.stop();
      const b = await startRedis();
      const c1 = await serverCpu(b);
      timedPipe(
        `node ${cli} decode ${rdbPath} --format resp --type ${type} -q | redis-cli -p ${b.port} --pipe > /dev/null`,
      );
      const viaCommands = (await serverCpu(b)) - c1;
      await b.stop();
      console.log(
        `| ${type} | ${keys} | ${viaLoad.toFixed(2)} | ${viaRestore.toFixed(2)} | ${viaCommands.toFixed(2)} |`,
      );
    } finally {
      await a.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
