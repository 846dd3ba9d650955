/**
 * RedisFullCheck (github.com/tair-opensource/RedisFullCheck, Go), the reference for `check`. It is in neither
 * Debian nor npm, so the bench uses it only where it is present: $REDIS_FULL_CHECK, else
 * ~/.cache/redis-full-check/bin/redis-full-check, else `redis-full-check` on the PATH. How it was built here is in
 * docs/BENCHMARKS.md ("RedisFullCheck measured").
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTool } from './find-tool.js';

/** The path of a `redis-full-check` that answers `--version`, or null when there is none. */
export function findRedisFullCheck(): { path: string; version: string } | null {
  const found = findTool({
    env: 'REDIS_FULL_CHECK',
    cache: 'redis-full-check',
    name: 'redis-full-check',
    probe: (path) => {
      const r = spawnSync(path, ['--version'], { encoding: 'utf8' });
      const version = `${r.stdout}`.trim();
      return r.status === 0 && version !== '' ? version : null;
    },
  });
  return found && { path: found.path, version: found.answer };
}

/**
 * The arguments of one full-value pass (`--comparemode=1`, one round: shake's rows run with `--rounds 0`) of
 * `source` against `target` (host:port), its sqlite file, result file and log in `dir`. Batch size, parallelism and
 * QPS limit are RedisFullCheck's defaults (256 keys, 5 goroutines, 15000 batches/s: no limit at these rates).
 */
export function redisFullCheckArgs(source: string, target: string, dir: string): string[] {
  return [
    '-s',
    source,
    '-t',
    target,
    '--comparemode=1',
    '--comparetimes=1',
    '-d',
    join(dir, 'rfc-result.db'),
    '--result',
    join(dir, 'rfc-result.txt'),
    '--log',
    join(dir, 'rfc.log'),
  ];
}

/**
 * The verdict of the run whose files are in `dir`: the key and field conflicts of its log's last line
 * ("all finish successfully, totally N key(s) and M field(s) conflict") and the lines of its result file.
 * Throws when the log has no such line (the run did not finish).
 */
export function redisFullCheckVerdict(dir: string): { keys: number; fields: number; resultLines: number } {
  const log = readFileSync(join(dir, 'rfc.log'), 'utf8');
  const m = [...log.matchAll(/totally (\d+) key\(s\) and (\d+) field\(s\) conflict/g)].at(-1);
  if (!m) throw new Error(`redis-full-check did not finish: ${join(dir, 'rfc.log')} has no summary line`);
  const result = readFileSync(join(dir, 'rfc-result.txt'), 'utf8');
  const resultLines = result.split('\n').filter((line) => line !== '').length;
  return { keys: Number(m[1]), fields: Number(m[2]), resultLines };
}
