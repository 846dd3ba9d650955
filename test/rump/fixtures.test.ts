/**
 * Every RDB fixture's dataset in a live source (loaded at start-up where 7.0 can read the file, else put
 * there with `shake restore`), copied by rump into a live 7.0 target and read back equal to the fixture's
 * expected.jsonl (as a 7.0 server holds it: see test/restore/helpers.ts alignFor70).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alignFor70, restoreInto } from '../restore/helpers.js';
import { startRedis, type RedisServer, emptyServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { fixturesDir, loadExpected } from '../helpers/load-records.js';
import { connectionOf, runRump } from './helpers.js';

const labels = readdirSync(join(fixturesDir, 'rdb'))
  .filter((f) => f.endsWith('.rdb'))
  .map((f) => f.slice(0, -4))
  .sort();

describe('rump: every fixture dataset, live source -> live 7.0 target', () => {
  let target: RedisServer;
  before(async () => {
    target = await startRedis();
  });
  after(async () => {
    await target?.stop();
  });

  for (const label of labels) {
    test(label, async () => {
      const fx = loadExpected(label, { aliveAt: Date.now() });
      const loadable = (fx.meta.rdb_version ?? 99) <= 10;
      const source = await startRedis(loadable ? { rdbFile: fx.rdbFile } : {});
      try {
        if (!loadable) {
          const r = await restoreInto(source, { input: fx.rdbFile as string, onError: 'skip' });
          assert.equal(r.counters.keysWritten, fx.records.length, 'the dataset is in the source');
        }
        await emptyServer(target);
        const run = await runRump(connectionOf(source), connectionOf(target));
        assert.deepEqual(run.counters.failures, []);
        assert.equal(run.counters.keysWritten, fx.records.length);
        const actual = await readKeyspace({ host: target.host, port: target.port });
        const aligned = alignFor70(fx.records, actual);
        assertRecordsMatch(aligned.actual, aligned.expected);
      } finally {
        await source.stop();
      }
    });
  }
});
