/** Shared bits of the dump tests: fixture paths, redis-check-rdb, loading a file into a fresh server. */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { expectedAfterReload, readKeyspace } from '../helpers/keyspace.js';
import type { KeyRecord } from '../helpers/records.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const fixtures = join(repoRoot, '..', 'shared', 'fixtures');
export const fixtureRdb = (label: string): string => join(fixtures, 'rdb', `${label}.rdb`);

/** Runs the server's own checker; returns its exit code and output. */
export function checkRdb(path: string): { status: number | null; output: string } {
  const r = spawnSync('redis-check-rdb', [path], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export const DEBUG_ON = { 'enable-debug-command': 'yes' } as const;

/** Starts a fresh server that loads `path` at start-up (the harness copies it as dump.rdb). */
export function loadInFreshServer(path: string): Promise<RedisServer> {
  return startRedis({ rdbFile: path, config: { 'enable-debug-command': 'yes' } });
}

/** The file passes redis-check-rdb and, loaded into a fresh server, reads back as `expected` after a reload. */
export async function assertLoadsAs(path: string, expected: KeyRecord[]): Promise<void> {
  const check = checkRdb(path);
  assert.equal(check.status, 0, check.output);
  const loaded = await loadInFreshServer(path);
  try {
    assertRecordsMatch(await readKeyspace({ host: loaded.host, port: loaded.port }), expected.map(expectedAfterReload));
  } finally {
    await loaded.stop();
  }
}

export async function debugDigest(client: Redis): Promise<string> {
  return String(await client.call('DEBUG', 'DIGEST'));
}

/** Keys per db as INFO keyspace reports them ("db0" -> "keys=..,expires=.."). */
export async function keyspaceCounts(client: Redis): Promise<Record<string, string>> {
  const info = await client.info('keyspace');
  const out: Record<string, string> = {};
  for (const line of info.split('\r\n')) {
    const m = /^(db\d+):keys=(\d+),expires=(\d+)/.exec(line);
    if (m) out[m[1]!] = `keys=${m[2]},expires=${m[3]}`;
  }
  return out;
}
