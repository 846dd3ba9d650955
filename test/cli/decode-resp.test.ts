/**
 * `shake decode --format resp` piped into a live redis-server 7.0 with `redis-cli --pipe`: the server
 * must accept every command, and reading the keyspace back must give the fixture's expected.jsonl —
 * for the 7.0 fixture and for every older (and 7.2/Valkey) fixture whose features 7.0 supports.
 * Consumers' seen/active times are the rebuild time (XCLAIM), so they are not compared; PEL delivery
 * times and counts are (XCLAIM TIME / RETRYCOUNT).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { compareRecords, STREAM_V2_FIELDS, type CompareOptions } from '../helpers/compare-records.js';
import { redisCliPipe, runCli } from './helpers/run-cli.js';

let server: RedisServer;

before(async () => {
  server = await startRedis();
});
after(async () => {
  await server?.stop();
});

const cases: { label: string; opts: CompareOptions }[] = [
  { label: 'redis-7.0', opts: {} },
  { label: 'redis-2.8', opts: { ignoreStreamFields: STREAM_V2_FIELDS } },
  { label: 'redis-3.2', opts: { ignoreStreamFields: STREAM_V2_FIELDS } },
  { label: 'redis-4.0', opts: { ignoreStreamFields: STREAM_V2_FIELDS } },
  { label: 'redis-5.0', opts: { ignoreStreamFields: STREAM_V2_FIELDS } },
  { label: 'redis-6.0', opts: { ignoreStreamFields: STREAM_V2_FIELDS } },
  { label: 'redis-6.2', opts: { ignoreStreamFields: STREAM_V2_FIELDS } },
  { label: 'redis-7.2', opts: {} },
  { label: 'valkey-8.0', opts: {} },
];

for (const { label, opts } of cases) {
  test(`decode --format resp ${label} | redis-cli --pipe into 7.0 rebuilds expected.jsonl`, async () => {
    const fx = loadExpected(label);
    const c = server.client();
    try {
      await c.flushall();
      await c.call('FUNCTION', 'FLUSH');
      const res = await runCli(['decode', fx.rdbFile ?? '', '--format', 'resp', '--resp-batch', '50', '-q']);
      assert.equal(res.code, 0, res.stderr);
      const piped = await redisCliPipe(server.port, res.stdout);
      assert.equal(piped.errors, 0, piped.output);
      const back = await readKeyspace({ host: '127.0.0.1', port: server.port });
      const diffs = compareRecords(back, fx.records, { ...opts, ignoreConsumerTimes: true });
      assert.deepEqual(diffs, [], diffs.slice(0, 10).join('\n'));
      const libs = (await c.call('FUNCTION', 'LIST', 'WITHCODE')) as unknown[][];
      const metaFunctions = (fx.meta.functions as { library_code: string }[] | undefined) ?? [];
      assert.equal(libs.length, metaFunctions.length);
    } finally {
      c.disconnect();
    }
  });
}
