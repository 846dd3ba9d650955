/**
 * 7.x RDBs into older targets. Only redis-server 7.0 is installed, so the target is a real 7.0 whose profile is
 * set to an older release: everything is then written as that release would need it (RESTORE payloads of RDB 9
 * for "6.2": types 16-19 re-encoded as 4/5/1/15; RDB 7 for "3.2": relative TTLs, no streams), and 7.0, which
 * loads every older payload version, checks the payloads and reads them back. Also --flush-target.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { featuresFor } from '../../src/rewrite/features.js';
import { openTarget } from '../../src/sinks/redis/open-target.js';
import { restore } from '../../src/pipelines/restore.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { alignFor70, withoutStreamV2 } from './helpers.js';

describe('restore into older targets (profile of an older release, checked by a real 7.0)', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });

  async function run(label: string, version: string, rdbVersion: number, flush = true) {
    const c = server.client();
    if (flush) await c.flushall();
    await c.function('FLUSH').catch(() => {});
    c.disconnect();
    const target = await openTarget({ connection: { host: server.host, port: server.port } });
    target.profile = { kind: 'standalone', features: featuresFor(version, 'standalone'), rdbVersion };
    try {
      return await restore({ input: { path: loadExpected(label).rdbFile as string }, target, onError: 'skip' });
    } finally {
      await target.close();
    }
  }

  it('redis-7.4 into "6.2" (RDB 9): listpacks, quicklists and streams re-encoded; no functions', async () => {
    const fx = loadExpected('redis-7.4', { aliveAt: Date.now() });
    const r = await run('redis-7.4', '6.2.16', 9);
    assert.ok(r.stats.restoreEncoded > 20, `re-encoded ${r.stats.restoreEncoded}`);
    assert.equal(r.counters.failed, 1, 'only the function library');
    assert.match(r.counters.failures[0]?.message ?? '', /functions/);
    assert.equal(r.counters.keysWritten, fx.records.length);
    const aligned = alignFor70(fx.records, await readKeyspace({ host: server.host, port: server.port }));
    assertRecordsMatch(withoutStreamV2(aligned.actual), withoutStreamV2(aligned.expected));
  });

  it('redis-7.0 into "3.2" (RDB 7): relative TTLs, streams refused per key', async () => {
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    const r = await run('redis-7.0', '3.2.13', 7);
    const streams = fx.records.filter((x) => x.type === 'stream');
    assert.equal(r.counters.keysWritten, fx.records.length - streams.length);
    assert.equal(r.counters.failed, streams.length + 1);
    const actual = await readKeyspace({ host: server.host, port: server.port });
    // TTLs went as relative milliseconds: exact up to the time between sending and the server's clock.
    const expected = fx.records.filter((x) => x.type !== 'stream').map((x) => ({ ...x, expire_approx: true }));
    const aligned = alignFor70(expected, actual);
    assertRecordsMatch(aligned.actual, aligned.expected);
  });

  it('--flush-target empties the target first', async () => {
    const c = server.client();
    await c.flushall();
    await c.set('stale', '1');
    await c.select(7);
    await c.set('stale7', '1');
    c.disconnect();
    const target = await openTarget({ connection: { host: server.host, port: server.port } });
    try {
      const fx = loadExpected('redis-6.2', { aliveAt: Date.now() });
      const r = await restore({ input: { path: fx.rdbFile as string }, target, flushTarget: true });
      assert.equal(r.counters.keysWritten, fx.records.length);
      const aligned = alignFor70(fx.records, await readKeyspace({ host: server.host, port: server.port }));
      assertRecordsMatch(aligned.actual, aligned.expected);
    } finally {
      await target.close();
    }
  });
});
