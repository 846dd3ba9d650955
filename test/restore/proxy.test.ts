/**
 * A proxy target: twemproxy (nutcracker) in front of a live redis-server. Detected (it refuses INFO),
 * written with plain commands only (no RESTORE, no SELECT, no MULTI); what a proxy cannot take (streams,
 * function libraries) fails per key with a clear message instead of killing the run (harness/twemproxy.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { startTwemproxy, type Twemproxy } from '../harness/twemproxy.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { alignFor70, restoreInto } from './helpers.js';

describe('restore through twemproxy (proxy target)', () => {
  let server: RedisServer;
  let proxy: Twemproxy;
  let proxyPort = 0;
  before(async () => {
    server = await startRedis();
    proxy = await startTwemproxy([server]);
    proxyPort = proxy.port;
  });
  after(async () => {
    await proxy?.stop();
    await server?.stop();
  });

  it('redis-7.4 db 0: plain commands, streams and functions refused per key', async () => {
    const fx = loadExpected('redis-7.4', { aliveAt: Date.now() });
    const run = await restoreInto(
      { host: '127.0.0.1', port: proxyPort },
      { input: fx.rdbFile as string, dbs: [0], onError: 'skip' },
    );
    const db0 = fx.records.filter((r) => r.db === 0);
    const streams = db0.filter((r) => r.type === 'stream');
    assert.ok(streams.length > 0);
    assert.equal(run.stats.restoreRaw + run.stats.restoreEncoded, 0, 'no RESTORE through a proxy');
    assert.equal(run.counters.keysWritten, db0.length - streams.length);
    // every stream key, plus the function library
    assert.equal(run.counters.failed, streams.length + 1);
    assert.ok(run.counters.failures.some((f) => /proxy target takes no stream commands/.test(f.message)));
    assert.ok(run.counters.failures.some((f) => /FUNCTION|functions/.test(f.message)));
    const aligned = alignFor70(
      db0.filter((r) => r.type !== 'stream'),
      await readKeyspace({ host: server.host, port: server.port }),
    );
    assertRecordsMatch(aligned.actual, aligned.expected);
  });

  it('several dbs through a proxy need --db-map', async () => {
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    await assert.rejects(
      restoreInto({ host: '127.0.0.1', port: proxyPort }, { input: fx.rdbFile as string, onError: 'skip' }),
      /only db 0/,
    );
  });
});
