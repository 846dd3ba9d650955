/**
 * restore into real servers of every version built here (../shared/servers/build.sh): each target takes its own
 * version's fixture (the RESTORE payloads as that version writes them) and the newest fixture, Redis 7.4's
 * (payloads rewritten for the older target: listpacks as ziplists, stream v3 as v2/v1, field TTLs dropped and
 * counted, functions refused before 7.0, streams before 5.0). What the target then holds is compared with the
 * fixture as that version can hold it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startRedis } from '../harness/redis-server.js';
import { serverBinary, type ServerLabel } from '../harness/servers.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { aliveAt } from '../helpers/records.js';
import { alignFor70, fieldTtlCount, restoreInto, withoutStreamV2 } from './helpers.js';

/** Target, its own fixture, and what it can hold: streams (5.0+), stream v2 fields (7.0+), functions (7.0+). */
const TARGETS: [ServerLabel, string, { streams: boolean; v2: boolean; functions: boolean }][] = [
  ['redis-2.8', 'redis-2.8', { streams: false, v2: false, functions: false }],
  ['redis-4.0', 'redis-4.0', { streams: false, v2: false, functions: false }],
  ['redis-6.2', 'redis-6.2', { streams: true, v2: false, functions: false }],
  ['redis-7.2', 'redis-7.2', { streams: true, v2: true, functions: true }],
  ['redis-7.4', 'redis-7.4', { streams: true, v2: true, functions: true }],
  ['redis-8.0-m01', 'redis-8.0-m01', { streams: true, v2: true, functions: true }],
  ['valkey-8.0', 'valkey-8.0', { streams: true, v2: true, functions: true }],
];

describe('--on-conflict replace into 2.8 (RESTORE has no REPLACE before 3.0: DEL first)', () => {
  test('every key replaced, one of them held as another type before', async () => {
    const fx = loadExpected('redis-2.8', { aliveAt: Date.now() });
    const server = await startRedis({ binary: serverBinary('redis-2.8'), before32: true });
    try {
      const first = await restoreInto(server, { input: fx.rdbFile! });
      assert.equal(first.counters.failed, 0, JSON.stringify(first.counters.failures[0]));
      const victim = fx.records.find((r) => r.type !== 'string' && r.type !== 'list')!;
      const key = Buffer.from(victim.key_b64, 'base64');
      const c = server.client();
      await c.select(victim.db);
      await c.del(key);
      await c.rpush(key, 'not', 'the', 'source');
      c.disconnect();
      const again = await restoreInto(server, { input: fx.rdbFile!, onConflict: 'replace' });
      assert.equal(again.counters.failed, 0, JSON.stringify(again.counters.failures[0]));
      assert.equal(again.counters.keysWritten, fx.records.length);
      const actual = await readKeyspace({ host: server.host, port: server.port });
      const aligned = alignFor70(fx.records, actual);
      assertRecordsMatch(withoutStreamV2(aligned.actual), withoutStreamV2(aligned.expected));
    } finally {
      await server.stop();
    }
  });
});

describe('restore into real servers of each version', () => {
  for (const [label, own, can] of TARGETS) {
    for (const input of own === 'redis-7.4' ? [own] : [own, 'redis-7.4']) {
      test(`${input} -> real ${label}`, async () => {
        const fx = loadExpected(input, { aliveAt: Date.now() });
        const server = await startRedis({ binary: serverBinary(label), before32: label === 'redis-2.8' });
        try {
          const run = await restoreInto(server, { input: fx.rdbFile!, onError: 'skip' });
          const streams = can.streams ? [] : fx.records.filter((r) => r.type === 'stream');
          const libraries = can.functions ? 0 : ((fx.meta.functions as unknown[] | undefined)?.length ?? 0);
          assert.equal(run.counters.keysWritten, fx.records.length - streams.length);
          assert.equal(run.counters.failed, streams.length + libraries, JSON.stringify(run.counters.failures[0]));
          const holdsFieldTtls = label === 'redis-7.4' || label === 'redis-8.0-m01';
          if (!holdsFieldTtls) assert.equal(run.stats.droppedFieldTtls, fieldTtlCount(fx.records));
          const expected = fx.records.filter((r) => can.streams || r.type !== 'stream');
          const actual = await readKeyspace({ host: server.host, port: server.port });
          if (holdsFieldTtls) {
            // Field TTLs went inside the RESTORE payloads: the target's clock decides which fields have expired
            // (keys: restore's clock, which skipped the expired ones).
            const t = server.client();
            const [sec, usec] = await t.time();
            t.disconnect();
            const serverNow = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
            const byServer = aliveAt(loadExpected(input).records, serverNow);
            const keys = new Set(expected.map((r) => r.key_b64 + ':' + String(r.db)));
            assertRecordsMatch(
              actual,
              byServer.filter((r) => keys.has(r.key_b64 + ':' + String(r.db))),
            );
          } else {
            const aligned = alignFor70(expected, actual);
            if (can.v2) assertRecordsMatch(aligned.actual, aligned.expected);
            else assertRecordsMatch(withoutStreamV2(aligned.actual), withoutStreamV2(aligned.expected));
          }
        } finally {
          await server.stop();
        }
      });
    }
  }
});
