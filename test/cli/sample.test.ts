/**
 * examples/sample.rdb (made by examples/make-sample.sh with the local redis-server): small, covers
 * every type, and decodes to exactly what a redis-server loaded with it returns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis } from '../harness/redis-server.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { repoRoot } from '../helpers/load-records.js';
import { compareRecords } from '../helpers/compare-records.js';
import { parseDecodedJsonl, toRecord } from './helpers/decoded-records.js';
import { runCli } from './helpers/run-cli.js';

const sample = join(repoRoot, 'examples', 'sample.rdb');

test('examples/sample.rdb is small, covers every type, and decodes to what redis-server loads from it', async () => {
  assert.ok(statSync(sample).size < 50 * 1024);
  const res = await runCli(['decode', sample, '-q']);
  assert.equal(res.code, 0, res.stderr);
  const lines = parseDecodedJsonl(res.stdout.toString('utf8'));
  const keys = lines.filter((l) => l.key !== undefined);
  assert.deepEqual(new Set(keys.map((k) => k.type)), new Set(['string', 'list', 'set', 'zset', 'hash', 'stream']));
  assert.ok(lines.some((l) => l.function !== undefined));
  const server = await startRedis({ rdbFile: sample });
  try {
    const live = await readKeyspace({ host: '127.0.0.1', port: server.port });
    assert.equal(live.length, keys.length);
    assert.deepEqual(compareRecords(keys.map(toRecord), live), []);
  } finally {
    await server.stop();
  }
});
