/**
 * librdb's `rdb-cli` (github.com/redis/librdb, C), the issue's reference for `decode`'s JSON output. It is in neither
 * Debian nor npm, so the bench uses it only where it is present: $LIBRDB_CLI, else ~/.cache/librdb/bin/rdb-cli, else
 * `rdb-cli` on the PATH. How to build it is in docs/BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of an `rdb-cli` that answers, or null when there is none. */
export function findRdbCli(): string | null {
  const fromEnv = process.env.LIBRDB_CLI;
  const candidates = [
    ...(fromEnv ? [fromEnv] : []),
    join(homedir(), '.cache', 'librdb', 'bin', 'rdb-cli'),
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'rdb-cli')),
  ];
  for (const path of candidates) {
    if (!executable(path)) continue;
    // Run without arguments, rdb-cli prints its usage, with its version, and exits non-zero.
    const r = spawnSync(path, [], { encoding: 'utf8' });
    if (`${r.stdout}${r.stderr}`.includes('rdb-cli')) return path;
  }
  if (fromEnv) throw new Error(`LIBRDB_CLI=${fromEnv} is not a working rdb-cli`);
  return null;
}

/** The arguments of `rdb-cli FILE json` with its log file discarded (it writes ./rdb-cli.log by default). */
export function rdbCliJsonArgs(rdbPath: string): string[] {
  return [rdbPath, '-l', '/dev/null', 'json'];
}
