/**
 * Version safety: DUMP payloads from sources newer than the target (7.2, 7.4, 8.0, Valkey 8 payloads,
 * served by newer-source.ts from those servers' fixture RDBs) into a live 7.0 target, which refuses them
 * as they are ("DUMP payload version or checksum are wrong"). rump restamps the payloads whose type 7.0
 * knows and decodes the others (7.2 listpack sets and v3 streams, 7.4 field-TTL hashes) into a form 7.0
 * takes; the target reads back equal to the fixture's expected.jsonl as 7.0 holds it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isTypeLoadableBy } from '@shake/rdb';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { alignFor70, fieldTtlCount } from '../restore/helpers.js';
import { connectionOf, runRump } from './helpers.js';
import { newerSourceFromRdb } from './newer-source.js';

const NEWER: [label: string, info: { redisVersion: string; valkeyVersion?: string }][] = [
  ['redis-7.2', { redisVersion: '7.2.4' }],
  ['redis-7.4', { redisVersion: '7.4.0' }],
  ['redis-8.0-m01', { redisVersion: '7.9.0' }],
  ['valkey-8.0', { redisVersion: '7.2.4', valkeyVersion: '8.0.1' }],
];

describe('rump: payloads newer than the target', () => {
  let target: RedisServer;
  before(async () => {
    target = await startRedis();
  });
  after(async () => {
    await target?.stop();
  });

  for (const [label, info] of NEWER) {
    test(`${label} payloads -> 7.0`, async () => {
      const fx = loadExpected(label, { aliveAt: Date.now() });
      const src = newerSourceFromRdb(fx.rdbFile as string, info);
      assert.ok(src.rdbVersion > 10);
      const c = target.client();
      await c.flushall();
      await c.function('FLUSH');
      // The payload as the newer server sends it is refused by 7.0.
      const conn = await src.connect();
      const [, keys] = (await conn.call(['SCAN', '0', 'COUNT', '1'])) as [Buffer, Buffer[]];
      const payload = (await conn.call(['DUMP', keys[0] as Buffer])) as Buffer;
      await assert.rejects(c.restore('probe', 0, payload), /DUMP payload version or checksum are wrong/);
      c.disconnect();

      const run = await runRump({ host: 'newer-source', port: 1 }, connectionOf(target), {
        connectSource: () => src.connect(),
      });
      assert.deepEqual(run.counters.failures, []);
      assert.equal(run.counters.keysWritten, fx.records.length);
      const notLoadable = (fx.meta.rdb_scan as { value_types?: Record<string, number> } | undefined)?.value_types;
      const expectDecoded = Object.entries(notLoadable ?? {})
        .filter(([id]) => !isTypeLoadableBy(Number(id.split(/\D/)[0]), src.rdbVersion, 10))
        .reduce((n, [, count]) => n + count, 0);
      assert.equal(run.stats.decodedForVersion, expectDecoded, 'keys whose type 7.0 cannot load were decoded');
      assert.ok(run.sinkStats.restoreRaw > 0, 'the others were restamped and RESTOREd as they are');
      assert.equal(run.sinkStats.droppedFieldTtls, fieldTtlCount(fx.records), 'dropped field TTLs are reported');
      const actual = await readKeyspace({ host: target.host, port: target.port });
      const aligned = alignFor70(fx.records, actual);
      assertRecordsMatch(aligned.actual, aligned.expected);
    });
  }
});
