/** Timing a child process with /usr/bin/time (wall, CPU, max RSS) and medians of runs. */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface Timed {
  secs: number;
  /** user + system CPU seconds of the process: less sensitive than wall time to other load. */
  cpu: number;
  rssMb: number;
}

/** The `%e %U %S %M` line /usr/bin/time writes last on stderr. */
export function parseTimeLine(stderr: string): Timed {
  const last = stderr.trim().split('\n').at(-1) ?? '';
  const [secs = NaN, user = NaN, sys = NaN, kb = NaN] = last.split(' ').map(Number);
  return { secs, cpu: user + sys, rssMb: kb / 1024 };
}

/** Runs `cmd argv` under /usr/bin/time; its stdout goes to /dev/null when `discardStdout`. */
export function timed(cmd: string, argv: string[], discardStdout = false): Timed {
  const devnull = discardStdout ? openSync('/dev/null', 'w') : null;
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...argv], {
      stdio: ['ignore', devnull ?? 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
    return parseTimeLine(r.stderr);
  } finally {
    if (devnull !== null) closeSync(devnull);
  }
}

/** Seconds since `t0` (a process.hrtime.bigint() reading). */
export function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** p50 / p99 / max of samples (nearest rank, the upper one of a tie); NaN for none. */
export function percentiles(xs: number[]): { p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), max: s.at(-1) ?? NaN };
}

/** The middle value (the upper one of an even count); NaN for none. */
export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
}
