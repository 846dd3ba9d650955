import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Counters } from '../../src/core/counters.js';
import { dumpViaScan } from '../../src/pipelines/dump-scan.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { expectedAfterReload, readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { DEBUG_ON, checkRdb, debugDigest, loadInFreshServer } from './helpers.js';

describe('dump via SCAN + DUMP (7.0 fixture in an ElastiCache-like source)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-scan-'));
  const fx = loadExpected('redis-7.0');
  let source: RedisServer;
  before(async () => {
    source = await startRedis({ rdbFile: fx.rdbFile, elasticache: true });
  });
  after(async () => {
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the file passes redis-check-rdb, loads, and reads back as expected.jsonl', async () => {
    const path = join(dir, 'scan.rdb');
    const counters = new Counters();
    const res = await dumpViaScan({
      connection: { host: source.host, port: source.port },
      path,
      counters,
      scanCount: 1000,
    });
    assert.ok(res.file);
    assert.equal(res.file.rdbVersion, 10);
    assert.equal(res.source.functions, 1);
    assert.equal(counters.keysRead, fx.records.length);
    assert.equal(res.file.keys, fx.records.length);
    assert.deepEqual(res.file.skipped, {});
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    const check = checkRdb(path);
    assert.equal(check.status, 0, check.output);

    const loaded = await loadInFreshServer(path);
    try {
      const records = await readKeyspace({ host: loaded.host, port: loaded.port });
      assertRecordsMatch(records, fx.records.map(expectedAfterReload));
      const c = loaded.client();
      const libs = (await c.call('FUNCTION', 'LIST')) as unknown[];
      c.disconnect();
      assert.equal(libs.length, 1);
    } finally {
      await loaded.stop();
    }
  });

  test('the digest of the loaded file equals the source (DEBUG allowed on a plain server)', async () => {
    const plain = await startRedis({ rdbFile: fx.rdbFile, config: DEBUG_ON });
    const path = join(dir, 'scan-digest.rdb');
    try {
      const res = await dumpViaScan({
        connection: { host: plain.host, port: plain.port },
        path,
        counters: new Counters(),
        scanCount: 7,
      });
      assert.ok(res.file);
      const loaded = await loadInFreshServer(path);
      const a = plain.client();
      const b = loaded.client();
      try {
        assert.equal(await debugDigest(b), await debugDigest(a));
      } finally {
        a.disconnect();
        b.disconnect();
        await loaded.stop();
      }
    } finally {
      await plain.stop();
    }
  });
});
