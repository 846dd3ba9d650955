/**
 * `shake check` of the >= 1M-key live bench dataset (bench/lib/live-source.ts) against an exact copy (a
 * second server loaded from the source's RDB), both ways of reading the source (one replication snapshot, the
 * default; SCAN + per-key reads), beside the time of reading the source once with `redis-cli --rdb` (the issue's
 * yardstick: goal <= 2x that read). Reported: wall time, the check process's
 * CPU and max RSS (/usr/bin/time), and the source and target servers' CPU during each (INFO cpu, children included: the
 * RDB of `redis-cli --rdb` is made by a fork). And RedisFullCheck (`--comparemode=1`, full values, one round) on the
 * same pair where it is present (bench/lib/redis-full-check.ts; skipped with a note otherwise), its verdict on the
 * equal copy checked (0 conflicts), and shake's default check against it (the issue's goal: 3x faster or more).
 * Usage: node dist/bench/check.bench.js [--keys 1000000] [--runs 3]
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../src/redis/index.js';
import { startRedis, type RedisServer } from '../test/harness/redis-server.js';
import { cli, opt } from './lib/args.js';
import { fill } from './lib/live-source.js';
import { findRedisFullCheck, redisFullCheckArgs, redisFullCheckVerdict } from './lib/redis-full-check.js';
import { serverCpu } from './lib/server-cpu.js';
import { reportRatio } from './lib/summary.js';
import { median, timed, type Timed } from './lib/timing.js';

const KEYS = opt('keys', 1_000_000);
const RUNS = opt('runs', 3);

type Run = Timed & { sourceCpu: number; targetCpu: number };

/** A run with the CPU the source and the target spent on it (their forks included). */
async function withServerCpu(source: RedisServer, target: RedisServer, run: () => Timed): Promise<Run> {
  const [s0, t0] = [await serverCpu(source), await serverCpu(target)];
  const t = run();
  return { ...t, sourceCpu: (await serverCpu(source)) - s0, targetCpu: (await serverCpu(target)) - t0 };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shake-check-bench-'));
  // No diskless delay: `redis-cli --rdb` would otherwise wait 5 s for other replicas before the fork.
  const source = await startRedis({
    config: { 'enable-debug-command': 'yes', save: '', 'repl-diskless-sync-delay': '0' },
  });
  let target: RedisServer | null = null;
  try {
    const admin = await connect({ host: '127.0.0.1', port: source.port });
    const t0 = Date.now();
    await fill(admin, KEYS);
    await admin.callOrThrow(['SAVE']);
    const n = Number(await admin.callOrThrow(['DBSIZE']));
    await admin.close();
    const rdb = join(dir, 'source.rdb');
    copyFileSync(join(source.dir, 'dump.rdb'), rdb);
    // The target too forks at once for a check that reads it through replication.
    target = await startRedis({ rdbFile: rdb, config: { save: '', 'repl-diskless-sync-delay': '0' } });
    const tgt = target;
    const withSourceCpu = (server: RedisServer, run: () => Timed): Promise<Run> => withServerCpu(server, tgt, run);
    console.log(`dataset: ${n} keys, copy loaded from the source's RDB, in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const reads: Run[] = [];
    const checks: Run[] = [];
    const scans: Run[] = [];
    const perKey: Run[] = [];
    const fromFile: Run[] = [];
    const fullCheck: Run[] = [];
    const rfc = findRedisFullCheck();
    if (rfc === null) {
      console.log(
        'RedisFullCheck: not found ($REDIS_FULL_CHECK, ~/.cache/redis-full-check/bin, PATH): its row is skipped',
      );
    } else console.log(`RedisFullCheck: ${rfc.path}, version ${rfc.version}`);
    let rfcFailed: string | null = null;
    const base = ['check', '-q', '--source', source.url, '--target', target.url, '--rounds', '0'];
    for (let r = 0; r < RUNS; r++) {
      reads.push(
        await withSourceCpu(source, () =>
          timed('redis-cli', ['-p', String(source.port), '--rdb', join(dir, 'read.rdb')], true),
        ),
      );
      checks.push(await withSourceCpu(source, () => timed(process.execPath, [cli, ...base])));
      scans.push(await withSourceCpu(source, () => timed(process.execPath, [cli, ...base, '--source-read', 'scan'])));
      perKey.push(
        await withSourceCpu(source, () => timed(process.execPath, [cli, ...base, '--target-read', 'commands'])),
      );
      const fileArgs = ['check', '-q', '--source', join(dir, 'read.rdb'), '--target', target.url];
      fromFile.push(await withSourceCpu(source, () => timed(process.execPath, [cli, ...fileArgs])));
      let rfcNote = '';
      if (rfc !== null && rfcFailed === null) {
        const runDir = join(dir, `rfc-${r}`);
        mkdirSync(runDir);
        const argv = redisFullCheckArgs(`127.0.0.1:${source.port}`, `127.0.0.1:${tgt.port}`, runDir);
        try {
          const run = await withSourceCpu(source, () => timed(rfc.path, argv, true));
          const verdict = redisFullCheckVerdict(runDir);
          // An exact copy: any conflict is RedisFullCheck's, and its time would not be a like-for-like one.
          if (verdict.keys !== 0 || verdict.fields !== 0 || verdict.resultLines !== 0) {
            throw new Error(
              `reported ${verdict.keys} key and ${verdict.fields} field conflicts (${verdict.resultLines} result lines) on an exact copy`,
            );
          }
          fullCheck.push(run);
          rfcNote = `, RedisFullCheck ${run.secs.toFixed(2)} s (0 conflicts)`;
        } catch (e) {
          rfcFailed = (e as Error).message.slice(0, 2000);
          console.log(`RedisFullCheck failed (its row is left out): ${rfcFailed}`);
        }
        rmSync(runDir, { recursive: true, force: true });
      }
      console.log(
        `run ${r + 1}: redis-cli --rdb ${reads[r]!.secs.toFixed(2)} s, check ${checks[r]!.secs.toFixed(2)} s, ` +
          `check --source-read scan ${scans[r]!.secs.toFixed(2)} s, ` +
          `check --target-read commands ${perKey[r]!.secs.toFixed(2)} s, check of the RDB file ${fromFile[r]!.secs.toFixed(2)} s` +
          rfcNote,
      );
    }
    const read = median(reads.map((x) => x.secs));
    const row = (name: string, xs: Run[]): string => {
      const s = median(xs.map((x) => x.secs));
      return (
        `| ${name} | ${s.toFixed(2)} s (${(n / s / 1000).toFixed(0)}k keys/s) | ${(s / read).toFixed(2)}x | ` +
        `${median(xs.map((x) => x.sourceCpu)).toFixed(2)} s | ${median(xs.map((x) => x.targetCpu)).toFixed(2)} s | ` +
        `${median(xs.map((x) => x.cpu)).toFixed(2)} s | ` +
        `${Math.max(...xs.map((x) => x.rssMb)).toFixed(0)} MB |`
      );
    };
    console.log('');
    const load = loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
    console.log(`median of ${RUNS} runs; ratio = time / redis-cli --rdb; load average ${load}`);
    console.log('| measure | time | vs one read | source CPU | target CPU | process CPU | max RSS |');
    console.log('|---|---|---|---|---|---|---|');
    const secs = (xs: Timed[]): number => median(xs.map((x) => x.secs));
    reportRatio({
      work: `check of ${n} keys (both sides read through replication, joined)`,
      reference: 'redis-cli --rdb (one read)',
      shake: secs(checks),
      ref: read,
      goal: 2,
    });
    reportRatio({
      work: `check of ${n} keys (--source-read scan)`,
      reference: 'redis-cli --rdb (one read)',
      shake: secs(scans),
      ref: read,
      goal: 2,
    });
    console.log(row('redis-cli --rdb (reading the source once)', reads));
    console.log(row('shake check (CLI: both sides read through replication and joined by key)', checks));
    console.log(row('shake check --target-read commands (CLI: source by replication, target per key)', perKey));
    console.log(row('shake check --source-read scan (CLI)', scans));
    console.log(row('shake check --source FILE (the RDB redis-cli read)', fromFile));
    if (fullCheck.length > 0) {
      console.log(row('RedisFullCheck --comparemode=1 --comparetimes=1 (0 conflicts)', fullCheck));
      const ref = secs(fullCheck);
      console.log('');
      console.log(
        `shake check vs RedisFullCheck: ${(ref / secs(checks)).toFixed(2)}x faster by wall time ` +
          `(${secs(checks).toFixed(2)} s vs ${ref.toFixed(2)} s; goal >= 3x), source CPU ` +
          `${median(checks.map((x) => x.sourceCpu)).toFixed(2)} s vs ${median(fullCheck.map((x) => x.sourceCpu)).toFixed(2)} s`,
      );
      reportRatio({
        work: `check of ${n} keys (both sides read through replication, joined)`,
        reference: 'RedisFullCheck --comparemode=1',
        shake: secs(checks),
        ref,
        goal: 1 / 3,
      });
    }
  } finally {
    await Promise.all([source.stop(), target?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
