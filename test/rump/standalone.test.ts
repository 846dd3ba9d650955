/**
 * rump between standalone servers: an ElastiCache-like source (SYNC, PSYNC, CONFIG, BGSAVE, SAVE, KEYS,
 * DEBUG, SLAVEOF, REPLICAOF renamed away) holding the 7.0 fixture, read back from the target equal to
 * expected.jsonl; filters, db remapping, keys-file mode, the rate limit, vanished keys.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startRedis, type RedisServer, emptyServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { expectedAfterReload, readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { connectionOf, fillMixed, runRump } from './helpers.js';

const RENAMED = ['SYNC', 'PSYNC', 'CONFIG', 'BGSAVE', 'SAVE', 'KEYS', 'DEBUG', 'SLAVEOF', 'REPLICAOF'];

describe('rump standalone -> standalone', () => {
  const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
  const dir = mkdtempSync(join(tmpdir(), 'shake-rump-'));
  let source: RedisServer;
  let target: RedisServer;
  before(async () => {
    [source, target] = await Promise.all([
      startRedis({ rdbFile: fx.rdbFile, elasticache: true, disableCommands: RENAMED }),
      startRedis(),
    ]);
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await emptyServer(target);
  });

  test('the source refuses every replication/admin command the test relies on being absent', async () => {
    const c = source.client();
    try {
      for (const cmd of RENAMED) {
        await assert.rejects(c.call(cmd), /unknown command/i, cmd);
      }
    } finally {
      c.disconnect();
    }
  });

  test('the 7.0 fixture (every db, TTLs, functions) reads back from the target as expected.jsonl', async () => {
    const run = await runRump(connectionOf(source), connectionOf(target));
    const c = run.counters;
    assert.deepEqual(c.failures, []);
    assert.equal(c.keysRead, fx.total);
    assert.equal(c.keysWritten, fx.records.length);
    // Only keys expired by the clock of the run (none before 2035) are skipped.
    assert.equal(c.skippedTotal, fx.total - fx.records.length);
    assert.equal(c.skipped.get('expired') ?? 0, fx.total - fx.records.length);
    assert.equal(run.interrupted, false);
    assert.equal(run.stats.totalKeys, fx.total);
    assert.equal(run.sinkStats.restoreRaw, fx.records.length, 'same version: every key is one raw RESTORE');
    assert.equal(run.sinkStats.functionsLoaded, 1);
    const actual = await readKeyspace({ host: target.host, port: target.port });
    assertRecordsMatch(actual, fx.records.map(expectedAfterReload));
  });

  test('--db, --type, --match and --db-map select and move keys; the rest is not read', async () => {
    const hashesDb0 = fx.records.filter((r) => r.db === 0 && r.type === 'hash');
    const run = await runRump(connectionOf(source), connectionOf(target), {
      dbs: [0],
      types: ['hash'],
      dbMap: { map: new Map([[0, 3]]), rest: null },
      functions: false,
    });
    assert.equal(run.counters.keysWritten, hashesDb0.length);
    assert.equal(run.counters.skippedTotal, 0, 'SCAN TYPE: nothing read that is then dropped');
    const actual = await readKeyspace({ host: target.host, port: target.port });
    assertRecordsMatch(
      actual,
      hashesDb0.map((r) => expectedAfterReload({ ...r, db: 3 })),
    );

    const c = target.client();
    await c.flushall();
    c.disconnect();
    const prefix = Buffer.from(fx.records[0]!.key_b64, 'base64').toString('latin1').slice(0, 3);
    const matching = fx.records.filter((r) => Buffer.from(r.key_b64, 'base64').toString('latin1').startsWith(prefix));
    const run2 = await runRump(connectionOf(source), connectionOf(target), {
      match: `${prefix}*`,
      excludeGlobs: ['*zzz*'],
      functions: false,
    });
    assert.equal(run2.counters.keysWritten, matching.length);
    const actual2 = await readKeyspace({ host: target.host, port: target.port });
    assertRecordsMatch(actual2, matching.map(expectedAfterReload));
  });

  test('--keys-file on a source where SCAN itself is renamed away: only the listed keys, missing ones counted as vanished', async () => {
    const noScan = await startRedis({ rdbFile: fx.rdbFile, elasticache: true, disableCommands: [...RENAMED, 'SCAN'] });
    const db0 = fx.records.filter((r) => r.db === 0);
    // A line cannot hold an empty key or one with a line break.
    const listable = (k: Buffer): boolean => k.length > 0 && !k.includes(0x0a) && k[k.length - 1] !== 0x0d;
    const chosen = db0.filter((r, i) => i % 3 === 0 && listable(Buffer.from(r.key_b64, 'base64')));
    const lines = chosen.map((r) => Buffer.from(r.key_b64, 'base64'));
    lines.push(Buffer.from('no-such-key-1'), Buffer.from('no-such-key-2'));
    const file = join(dir, 'keys.txt');
    writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\r\n')])));
    const run = await runRump(connectionOf(noScan), connectionOf(target), {
      keysFile: file,
      dbs: [0],
      functions: false,
    });
    await noScan.stop();
    assert.equal(run.counters.keysWritten, chosen.length);
    assert.equal(run.counters.skipped.get('vanished'), 2);
    const actual = await readKeyspace({ host: target.host, port: target.port });
    assertRecordsMatch(actual, chosen.map(expectedAfterReload));
  });
});

describe('rump rate limit', () => {
  let source: RedisServer;
  let target: RedisServer;
  before(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    const c = source.client();
    await fillMixed(c, 'k:', 1500);
    c.disconnect();
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  test('--rate 500 keys/s: 1500 keys take about 2 s (1 s of burst allowance), all copied', async () => {
    const started = Date.now();
    const run = await runRump(connectionOf(source), connectionOf(target), { rate: 500 });
    const secs = (Date.now() - started) / 1000;
    assert.equal(run.counters.keysWritten, 1500);
    assert.ok(secs >= 1.8 && secs < 10, `took ${secs} s`);
  });

  test('--rate-bytes bounds DUMP bytes per second', async () => {
    const c = target.client();
    await c.flushall();
    c.disconnect();
    const started = Date.now();
    const run = await runRump(connectionOf(source), connectionOf(target), {
      rate: 0,
      rateBytes: 20_000,
      scanCount: 100,
    });
    const secs = (Date.now() - started) / 1000;
    const bytes = run.counters.bytesRead;
    // One second of burst, and one page (of 15) read ahead while the previous one is written.
    const expected = (bytes - 20_000 - bytes / 15) / 20_000;
    assert.equal(run.counters.keysWritten, 1500);
    assert.ok(secs >= expected * 0.85 && secs < expected + 8, `took ${secs} s for ${bytes} bytes`);
  });
});
