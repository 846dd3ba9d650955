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

/** Run without arguments, rdb-cli prints its usage (with its version) and exits non-zero. */
function answers(path: string): boolean {
  if (!executable(path)) return false;
  const r = spawnSync(path, [], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.includes('rdb-cli');
}

/** The path of an `rdb-cli` that answers, or null when there is none; throws when $LIBRDB_CLI names a broken one. */
export function findRdbCli(): string | null {
  const fromEnv = process.env.LIBRDB_CLI;
  if (fromEnv) {
    if (answers(fromEnv)) return fromEnv;
    throw new Error(`LIBRDB_CLI=${fromEnv} is not a working rdb-cli`);
  }
  const candidates = [
    join(homedir(), '.cache', 'librdb', 'bin', 'rdb-cli'),
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'rdb-cli')),
  ];
  return candidates.find(answers) ?? null;
}

/** The arguments of `rdb-cli FILE json` with its log file discarded (it writes ./rdb-cli.log by default). */
export function rdbCliJsonArgs(rdbPath: string): string[] {
  return [rdbPath, '-l', '/dev/null', 'json'];
}
