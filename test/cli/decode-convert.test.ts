/**
 * Conversion for older servers, judged by real servers of that version:
 * - `decode --format rdb --target-version 6.2`: the Redis 7.4 fixture as an RDB 9 file that a real redis-server
 *   6.2 loads at start-up, holding exactly the fixture's keys (listpacks rewritten as ziplists, stream v3 as v1,
 *   hash field TTLs dropped and counted, the function library not written and counted);
 * - the decode filters give a filtered RDB (db 0, hashes only) that 7.0 loads with exactly those keys;
 * - `decode --format resp --target-version 7.0` piped into a real 7.0: no HPEXPIREAT (the TTLs counted), every
 *   command accepted, the fixture rebuilt;
 * - a version shake does not know is refused with the flag named.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { serverBinary } from '../harness/servers.js';
import { alignFor70, fieldTtlCount, withoutSeenTimes, withoutStreamV2 } from '../restore/helpers.js';
import { redisCliPipe, runCli } from './helpers/run-cli.js';

describe('decode --target-version: RDB and RESP for older servers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-convert-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('redis-7.4 -> RDB 9, loaded by a real redis-server 6.2 at start-up', async () => {
    const fx = loadExpected('redis-7.4', { aliveAt: Date.now() });
    const out = join(dir, 'for-6.2.rdb');
    const r = await runCli(['decode', fx.rdbFile!, '--format', 'rdb', '--target-version', '6.2', '-o', out, '-q']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /NOT WRITTEN: 1 x function: target below RDB 10/);
    assert.match(r.stderr, new RegExp(`WARNING: ${fieldTtlCount(fx.records)} hash field TTL\\(s\\) dropped`));
    const server = await startRedis({ binary: serverBinary('redis-6.2'), rdbFile: out });
    try {
      const aligned = alignFor70(fx.records, await readKeyspace({ host: server.host, port: server.port }));
      assertRecordsMatch(withoutStreamV2(aligned.actual), withoutStreamV2(aligned.expected));
    } finally {
      await server.stop();
    }
  });

  test('a filtered RDB (--db 0 --type hash) in the file`s own version: 7.0 loads exactly those keys', async () => {
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    const out = join(dir, 'hashes.rdb');
    const r = await runCli(['decode', fx.rdbFile!, '--format', 'rdb', '--db', '0', '--type', 'hash', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const want = fx.records.filter((x) => x.db === 0 && x.type === 'hash');
    assert.ok(want.length > 3);
    assert.match(r.stderr, new RegExp(`wrote ${want.length} keys as RDB 10 `));
    assert.doesNotMatch(r.stderr, /NOT WRITTEN|WARNING/);
    const server = await startRedis({ rdbFile: out });
    try {
      assertRecordsMatch(await readKeyspace({ host: server.host, port: server.port }), want);
    } finally {
      await server.stop();
    }
  });

  describe('resp for 7.0', () => {
    let server: RedisServer;
    before(async () => {
      server = await startRedis();
    });
    after(async () => {
      await server?.stop();
    });

    test('redis-7.4 --format resp --target-version 7.0 | redis-cli --pipe: accepted, rebuilt, TTLs counted', async () => {
      const fx = loadExpected('redis-7.4', { aliveAt: Date.now() });
      const r = await runCli(['decode', fx.rdbFile!, '--format', 'resp', '--target-version', '7.0', '-q']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout.toString('latin1'), /HPEXPIREAT/);
      const n = fieldTtlCount(fx.records);
      assert.ok(n > 0);
      assert.match(r.stderr, new RegExp(`WARNING: ${n} hash field TTL\\(s\\) in \\d+ key\\(s\\) dropped: Redis 7.0`));
      const piped = await redisCliPipe(server.port, r.stdout);
      assert.equal(piped.errors, 0, piped.output);
      const aligned = alignFor70(fx.records, await readKeyspace({ host: server.host, port: server.port }));
      assertRecordsMatch(withoutSeenTimes(aligned.actual), withoutSeenTimes(aligned.expected));
    });
  });

  test('an unknown --target-version is refused, naming the flag', async () => {
    const fx = loadExpected('redis-7.0');
    const bad = await runCli([
      'decode',
      fx.rdbFile!,
      '--format',
      'rdb',
      '--target-version',
      '1.0',
      '-o',
      join(dir, 'x'),
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--target-version 1\.0: not a Redis release/);
    const form = await runCli(['decode', fx.rdbFile!, '--format', 'resp', '--target-version', 'seven']);
    assert.equal(form.code, 1);
    assert.match(form.stderr, /not a Redis version as X\.Y \(e\.g\. 6\.2\) \(from --target-version\)/);
  });
});
