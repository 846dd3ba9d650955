/**
 * `shake decode` vs `redis-check-rdb` on the same large mixed RDB, in one run.
 * Builds (once, cached in bench/out/) with the local redis-server an RDB of >= 1M keys of every type:
 * DEBUG POPULATE strings (some with TTLs), small hashes/lists/sets/zsets, streams with groups, and a
 * few big collections; then times `redis-check-rdb FILE`, `shake decode --format keys FILE > /dev/null`
 * and `shake decode --format jsonl FILE > /dev/null` (median of --runs, wall time and max RSS via
 * /usr/bin/time) and prints the ratios (goal: keys <= 0.9x of redis-check-rdb); where librdb's `rdb-cli` is present
 * (bench/lib/librdb.ts) also `rdb-cli FILE json > /dev/null`, the reference of the jsonl row (goal <= 1.0x); then the
 * parser alone in this process (RdbParser fed 16 KiB slices, full decode and `values: false`), best of --runs.
 * Usage: node dist/bench/decode.bench.js [--keys 1000000] [--runs 3] [--rebuild]
 */
import { createReadStream, statSync } from 'node:fs';
import { RdbParser } from '@shake/rdb';
import { args, cli, opt } from './lib/args.js';
import { findRdbCli, rdbCliJsonArgs } from './lib/librdb.js';
import { ensureMixedRdb } from './lib/mixed-rdb.js';
import { reportRatio } from './lib/summary.js';
import { median, timed, type Timed } from './lib/timing.js';

const KEYS = opt('keys', 1_000_000);
const RUNS = opt('runs', 3);
/** CPU seconds of RdbParser alone over the file (no CLI, no sink), fed as the file source feeds it. */
async function parserAlone(rdbPath: string, values: boolean): Promise<number> {
  const before = process.cpuUsage();
  const parser = new RdbParser({ values });
  let keys = 0;
  for await (const chunk of createReadStream(rdbPath, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    for (let off = 0; off < chunk.length; off += 16 * 1024) {
      for (const e of parser.push(chunk.subarray(off, off + 16 * 1024))) if (e.kind === 'key-start') keys++;
    }
  }
  parser.end();
  const used = process.cpuUsage(before);
  if (keys < KEYS) throw new Error(`parsed ${keys} keys`);
  return (used.user + used.system) / 1e6;
}

async function main(): Promise<void> {
  const rdbPath = await ensureMixedRdb(KEYS, args.includes('--rebuild'));
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
  const rdbCli = findRdbCli();
  if (rdbCli)
    rows.push({
      name: 'librdb rdb-cli json',
      cmd: `${rdbCli} ${rdbCliJsonArgs(rdbPath).join(' ')} > /dev/null`,
      t: [],
    });
  else console.log('librdb rdb-cli: not found ($LIBRDB_CLI, ~/.cache/librdb/bin/rdb-cli, PATH); its row is left out');
  for (let r = 0; r < RUNS; r++) {
    rows[0]?.t.push(timed('redis-check-rdb', [rdbPath], true));
    rows[1]?.t.push(timed(process.execPath, [cli, 'decode', rdbPath, '--format', 'keys', '-q'], true));
    rows[2]?.t.push(timed(process.execPath, [cli, 'decode', rdbPath, '-q'], true));
    if (rdbCli) rows[3]?.t.push(timed(rdbCli, rdbCliJsonArgs(rdbPath), true));
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
  const wall = (i: number): number => median(rows[i]?.t.map((x) => x.secs) ?? []);
  const cpu = (i: number): number => median(rows[i]?.t.map((x) => x.cpu) ?? []);
  const mib = (size / 2 ** 20).toFixed(1);
  reportRatio({
    work: `decode --format keys (${mib} MiB RDB)`,
    reference: 'redis-check-rdb',
    shake: wall(1),
    ref: base,
    goal: 0.9,
  });
  // CPU (user + system) moves less than wall time when other work shares the cores
  reportRatio({
    work: `decode --format keys (${mib} MiB RDB), CPU`,
    reference: 'redis-check-rdb',
    shake: cpu(1),
    ref: baseCpu,
    goal: 0.9,
    unit: 's CPU',
  });
  reportRatio({
    work: `decode, jsonl (${mib} MiB RDB)`,
    reference: 'redis-check-rdb',
    shake: wall(2),
    ref: base,
    goal: null,
  });
  if (rdbCli) {
    reportRatio({
      work: `decode, jsonl (${mib} MiB RDB)`,
      reference: "librdb's rdb-cli json",
      shake: wall(2),
      ref: wall(3),
      goal: 1.0,
    });
    reportRatio({
      work: `decode, jsonl (${mib} MiB RDB), CPU`,
      reference: "librdb's rdb-cli json",
      shake: cpu(2),
      ref: cpu(3),
      goal: 1.0,
      unit: 's CPU',
    });
    console.log(
      `jsonl vs librdb rdb-cli json: wall ${(wall(2) / wall(3)).toFixed(2)}x, CPU ${(cpu(2) / cpu(3)).toFixed(2)}x`,
    );
  }
  for (const values of [true, false]) {
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) times.push(await parserAlone(rdbPath, values));
    const what = values ? 'full decode' : 'values: false';
    console.log(`parser alone (${what}): best CPU ${Math.min(...times).toFixed(2)} s`);
  }
}

await main();
