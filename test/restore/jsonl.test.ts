/**
 * decode -> restore round trip through JSON lines, with the built CLI as child processes:
 * `shake decode x.rdb | shake restore - --target ...` (stdin, kind detected from the first byte), read back
 * from the live server equal to expected.jsonl. Also a fixture's expected.jsonl itself as input.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startRedis, type RedisServer, emptyServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { fixturesDir, loadExpected, repoRoot } from '../helpers/load-records.js';
import { alignFor70, fieldTtlCount, restoreInto } from './helpers.js';

const bin = join(repoRoot, 'bin', 'run.js');

describe('decode | restore - (JSON lines through stdin)', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });

  const flush = (): Promise<void> => emptyServer(server);

  for (const label of ['redis-2.8', 'redis-6.2', 'redis-7.0', 'redis-7.4', 'valkey-8.0']) {
    it(label, async () => {
      const fx = loadExpected(label, { aliveAt: Date.now() });
      await flush();
      const res = spawnSync(
        'bash',
        [
          '-o',
          'pipefail',
          '-c',
          `node "${bin}" decode "${fx.rdbFile}" | node "${bin}" restore - --target "${server.url}"`,
        ],
        { encoding: 'utf8', env: { ...process.env, SHAKE_LOG_PROGRESS: 'never' } },
      );
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stderr, new RegExp(`${fx.total} keys read, ${fx.records.length} written`));
      if (fieldTtlCount(fx.records) > 0) assert.match(res.stderr, /WARNING: \d+ hash field TTL\(s\).*DROPPED/);
      const aligned = alignFor70(fx.records, await readKeyspace({ host: server.host, port: server.port }));
      assertRecordsMatch(aligned.actual, aligned.expected);
    });
  }

  it("a fixture's expected.jsonl (all-base64 records) restores to itself", async () => {
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    await flush();
    const run = await restoreInto(server, { input: join(fixturesDir, 'rdb', 'redis-7.0.expected.jsonl') });
    assert.equal(run.kind, 'jsonl');
    assert.deepEqual(run.counters.failures, []);
    assert.equal(run.counters.keysWritten, fx.records.length);
    assert.equal(run.stats.restoreEncoded, fx.records.length, 'JSON values are re-encoded for RESTORE');
    assertRecordsMatch(await readKeyspace({ host: server.host, port: server.port }), fx.records);
  });

  it('bad JSON lines fail with the line number', async () => {
    const res = spawnSync('node', [bin, 'restore', '-', '--target', server.url], {
      input: '{"db":0,"key":"a","type":"string","value":"x"}\n{"db":0,"key":\n',
      encoding: 'utf8',
    });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /line 2: not JSON/);
  });
});
