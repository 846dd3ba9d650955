/**
 * Version safety: DUMP payloads from sources newer than the target (real redis-server 7.2, 7.4, 8.0-m01 and
 * Valkey 8.0, built by ../shared/servers/build.sh, each started on its own fixture RDB) into a live 7.0 target,
 * which refuses them as they are ("DUMP payload version or checksum are wrong"). rump restamps the payloads whose type 7.0
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
import { serverBinary, type ServerLabel } from '../harness/servers.js';
import { connectionOf, runRump } from './helpers.js';

/** Each newer release and the RDB version its DUMP payloads carry. */
const NEWER: [label: ServerLabel, rdbVersion: number][] = [
  ['redis-7.2', 11],
  ['redis-7.4', 12],
  ['redis-8.0-m01', 12],
  ['valkey-8.0', 11],
];

describe('rump: payloads newer than the target', () => {
  let target: RedisServer;
  before(async () => {
    target = await startRedis();
  });
  after(async () => {
    await target?.stop();
  });

  for (const [label, rdbVersion] of NEWER) {
    test(`${label} payloads -> 7.0`, async () => {
      const fx = loadExpected(label, { aliveAt: Date.now() });
      const source = await startRedis({ binary: serverBinary(label), rdbFile: fx.rdbFile });
      const c = target.client();
      const s = source.client();
      try {
        await c.flushall();
        await c.function('FLUSH');
        // The payload as the newer server sends it is refused by 7.0.
        const [, keys] = await s.scanBuffer('0', 'COUNT', 1);
        const payload = (await s.dumpBuffer(keys[0]!))!;
        assert.equal(payload.readUInt16LE(payload.length - 10), rdbVersion);
        await assert.rejects(c.restore('probe', 0, payload), /DUMP payload version or checksum are wrong/);
        await check(fx, source, rdbVersion);
      } finally {
        c.disconnect();
        s.disconnect();
        await source.stop();
      }
    });
  }

  async function check(fx: ReturnType<typeof loadExpected>, source: RedisServer, rdbVersion: number): Promise<void> {
    const run = await runRump(connectionOf(source), connectionOf(target));
    assert.deepEqual(run.counters.failures, []);
    assert.equal(run.counters.keysWritten, fx.records.length);
    const notLoadable = (fx.meta.rdb_scan as { value_types?: Record<string, number> } | undefined)?.value_types;
    const expectDecoded = Object.entries(notLoadable ?? {})
      .filter(([id]) => !isTypeLoadableBy(Number(id.split(/\D/)[0]), rdbVersion, 10))
      .reduce((n, [, count]) => n + count, 0);
    assert.equal(run.stats.decodedForVersion, expectDecoded, 'keys whose type 7.0 cannot load were decoded');
    assert.ok(run.sinkStats.restoreRaw > 0, 'the others were restamped and RESTOREd as they are');
    assert.equal(run.sinkStats.droppedFieldTtls, fieldTtlCount(fx.records), 'dropped field TTLs are reported');
    const actual = await readKeyspace({ host: target.host, port: target.port });
    const aligned = alignFor70(fx.records, actual);
    assertRecordsMatch(aligned.actual, aligned.expected);
  }
});
