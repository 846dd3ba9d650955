/**
 * librdb's `rdb-cli` (github.com/redis/librdb, C), the issue's reference for `decode`'s JSON output. It is in neither
 * Debian nor npm, so the bench uses it only where it is present: $LIBRDB_CLI, else ~/.cache/librdb/bin/rdb-cli, else
 * `rdb-cli` on the PATH. How to build it is in docs/BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { findTool } from './find-tool.js';

/** The path of an `rdb-cli` that answers, or null when there is none; throws when $LIBRDB_CLI names a broken one. */
export function findRdbCli(): string | null {
  const found = findTool({
    env: 'LIBRDB_CLI',
    cache: 'librdb',
    name: 'rdb-cli',
    // Run without arguments, rdb-cli prints its usage (with its version) and exits non-zero.
    probe: (path) => {
      const r = spawnSync(path, [], { encoding: 'utf8' });
      const out = `${r.stdout}${r.stderr}`;
      return out.includes('rdb-cli') ? out : null;
    },
  });
  return found?.path ?? null;
}

/** The arguments of `rdb-cli FILE json` with its log file discarded (it writes ./rdb-cli.log by default). */
export function rdbCliJsonArgs(rdbPath: string): string[] {
  return [rdbPath, '-l', '/dev/null', 'json'];
}
