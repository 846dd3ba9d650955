/**
 * The command path (value -> SET/RPUSH/SADD/ZADD/HSET/XADD...): every fixture restored with a 1-byte
 * big-key threshold, so every value goes as streamed commands, read back from the live 7.0 server and
 * compared with expected.jsonl. What commands cannot carry is listed (and counted by the sink): consumer
 * seen/active times (the server sets them to now).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, type RedisServer, emptyServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { alignFor70, restoreInto, withoutSeenTimes } from './helpers.js';

const LABELS = [
  'redis-2.8',
  'redis-3.2',
  'redis-4.0',
  'redis-5.0',
  'redis-6.0',
  'redis-6.2',
  'redis-7.0',
  'redis-7.2',
  'redis-7.4',
  'redis-8.0-m01',
  'valkey-8.0',
];

describe('restore as plain commands (every key over the big-key threshold)', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });

  for (const label of LABELS) {
    it(label, async () => {
      const fx = loadExpected(label, { aliveAt: Date.now() });
      await emptyServer(server);
      const run = await restoreInto(server, { input: fx.rdbFile as string, bigKeyThreshold: 1, onError: 'skip' });
      assert.deepEqual(run.counters.failures, []);
      assert.equal(run.counters.keysWritten, fx.records.length);
      assert.ok(run.stats.rewritten > fx.records.length * 0.9, `most keys went as commands (${run.stats.rewritten})`);
      const actual = await readKeyspace({ host: server.host, port: server.port });
      const aligned = alignFor70(fx.records, actual);
      assertRecordsMatch(withoutSeenTimes(aligned.actual), withoutSeenTimes(aligned.expected));
    });
  }
});
