/**
 * `shake dump` vs `redis-cli --rdb` on the same >= 1M-key mixed dataset, in one run:
 * replication mode (diskless and disk forms) end to end as CLI processes (wall time and max RSS via
 * /usr/bin/time), the dump proper measured in-process (no CLI start-up), and scan mode.
 * Usage: node dist/bench/dump.bench.js [--keys 1000000] [--runs 3]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import { connect } from '../src/redis/index.js';
import { dumpSnapshot } from '../src/replica/snapshot-dump.js';
import { startRedis } from '../test/harness/redis-server.js';
import { cli, opt } from './lib/args.js';
import { fill, keyCount } from './lib/live-source.js';
import { reportRatio } from './lib/summary.js';
import { median, timed, type Timed } from './lib/timing.js';

const KEYS = opt('keys', 1_000_000);
const RUNS = opt('runs', 3);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shake-dump-bench-'));
  const server = await startRedis({
    config: { 'repl-diskless-sync-delay': '0', 'enable-debug-command': 'yes', rdbcompression: 'yes' },
  });
  try {
    const t0 = Date.now();
    const admin = await connect({ host: '127.0.0.1', port: server.port });
    await fill(admin, KEYS);
    const dbsize = await keyCount(server.port);
    console.log(
      `dataset: ${dbsize} keys (bench/lib/live-source.ts: 55% strings, 9% each hash/list/set/zset of 10 elements, streams, TTLs) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    const rows: string[] = [];
    for (const diskless of [true, false]) {
      await admin.callOrThrow(['CONFIG', 'SET', 'repl-diskless-sync', diskless ? 'yes' : 'no']);
      const form = diskless ? 'diskless' : 'disk';
      const cliRuns: Timed[] = [];
      const shakeRuns: Timed[] = [];
      const inproc: number[] = [];
      let size = 0;
      for (let r = 0; r < RUNS; r++) {
        const a = join(dir, `cli-${form}.rdb`);
        const b = join(dir, `shake-${form}.rdb`);
        const c = join(dir, `inproc-${form}.rdb`);
        cliRuns.push(timed('redis-cli', ['-p', String(server.port), '--rdb', a]));
        shakeRuns.push(
          timed(process.execPath, [cli, 'dump', '-q', '--source', server.url, '-o', b, '--mode', 'replication']),
        );
        const started = process.hrtime.bigint();
        await dumpSnapshot({
          path: c,
          timeoutMs: 60_000,
          open: () =>
            new Promise((resolve, reject) => {
              const s = netConnect(server.port, '127.0.0.1');
              s.once('error', reject);
              s.once('connect', () => resolve({ socket: s, peer: server.url, localPort: s.localPort ?? 0 }));
            }),
        });
        inproc.push(Number(process.hrtime.bigint() - started) / 1e9);
        size = statSync(b).size;
        if (r === 0) {
          const check = spawnSync('redis-check-rdb', [b], { encoding: 'utf8' });
          if (check.status !== 0) throw new Error(`redis-check-rdb failed on ${b}: ${check.stdout}`);
        }
      }
      const cliS = median(cliRuns.map((x) => x.secs));
      const shakeS = median(shakeRuns.map((x) => x.secs));
      const inS = median(inproc);
      const cpu = (xs: Timed[]): string => `${median(xs.map((x) => x.cpu)).toFixed(2)} s`;
      reportRatio({
        work: `dump, replication ${form} (${dbsize} keys)`,
        reference: 'redis-cli --rdb',
        shake: shakeS,
        ref: cliS,
        goal: diskless ? 1.1 : null,
      });
      rows.push(
        `| replication, ${form} | ${(size / 2 ** 20).toFixed(0)} MiB | ${cliS.toFixed(2)} s | ${shakeS.toFixed(2)} s (${(shakeS / cliS).toFixed(2)}x) | ${inS.toFixed(2)} s (${(inS / cliS).toFixed(2)}x) | ${cpu(cliRuns)} / ${cpu(shakeRuns)} | ${median(cliRuns.map((x) => x.rssMb)).toFixed(0)} MB | ${median(shakeRuns.map((x) => x.rssMb)).toFixed(0)} MB |`,
      );
    }
    const scanFile = join(dir, 'scan.rdb');
    const scan = timed(process.execPath, [cli, 'dump', '-q', '--source', server.url, '-o', scanFile, '--mode', 'scan']);
    const check = spawnSync('redis-check-rdb', [scanFile], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`redis-check-rdb failed on ${scanFile}: ${check.stdout}`);
    rows.push(
      `| scan (SCAN+DUMP) | ${(statSync(scanFile).size / 2 ** 20).toFixed(0)} MiB | – | ${scan.secs.toFixed(2)} s (${(Number(dbsize) / scan.secs / 1000).toFixed(0)}k keys/s) | – | – / ${scan.cpu.toFixed(2)} s | – | ${scan.rssMb.toFixed(0)} MB |`,
    );
    await admin.close();
    console.log(`median of ${RUNS} runs; ratio = shake / redis-cli --rdb`);
    console.log(
      '| mode | file | redis-cli --rdb | shake dump (CLI) | dump in-process | CPU redis-cli / shake | redis-cli RSS | shake RSS |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
