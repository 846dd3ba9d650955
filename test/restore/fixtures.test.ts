/**
 * Every generated RDB fixture restored into a live Redis 7.0 (the installed redis-server) and read back
 * equal to its expected.jsonl (read from the real server that wrote it): TTLs exact (approximate only
 * where the fixture itself is), 7.4/8.0 hash field TTLs dropped and reported, streams from 7.2+ re-encoded.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis, type RedisServer, emptyServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { fixturesDir, loadExpected } from '../helpers/load-records.js';
import { alignFor70, fieldTtlCount, restoreInto } from './helpers.js';

const labels = readdirSync(join(fixturesDir, 'rdb'))
  .filter((f) => f.endsWith('.rdb'))
  .map((f) => f.slice(0, -4))
  .sort();

describe('restore every RDB fixture into redis 7.0 (standalone)', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });

  for (const label of labels) {
    it(label, async () => {
      const fx = loadExpected(label, { aliveAt: Date.now() });
      await emptyServer(server);
      const run = await restoreInto(server, { input: fx.rdbFile as string, onConflict: 'error', onError: 'skip' });
      const c2 = run.counters;
      if (process.env.SHAKE_DEBUG) console.log(label, JSON.stringify(run.stats), JSON.stringify(c2.toJSON()));
      assert.deepEqual(c2.failures, [], 'no key failed');
      assert.equal(c2.failed, 0);
      assert.equal(c2.keysRead, fx.total);
      assert.equal(c2.skipped.get('expired') ?? 0, fx.total - fx.records.length, 'keys expired by now are skipped');
      assert.equal(c2.keysWritten, fx.records.length);
      const actual = await readKeyspace({ host: server.host, port: server.port });
      const aligned = alignFor70(fx.records, actual);
      assertRecordsMatch(aligned.actual, aligned.expected);
      assert.equal(run.stats.droppedFieldTtls, fieldTtlCount(fx.records), 'dropped field TTLs are counted');
      assert.equal(
        run.stats.restoreRaw + run.stats.restoreEncoded + run.stats.stringBatched + run.stats.rewritten,
        fx.records.length,
      );
    });
  }
});
