/**
 * --on-conflict replace|skip|error on both write paths (RESTORE, and commands with the EXISTS pre-check),
 * --on-error stop|skip with a target that refuses writes (maxmemory: OOM), expired keys, --functions,
 * --db-map on a standalone target, and the key filters (glob, regex, exclusions, type, db).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDbMap } from '../../src/sinks/redis/db-map.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { restoreInto } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'shake-modes-'));
let n = 0;
function jsonl(records: object[]): string {
  const file = join(dir, `in-${n++}.jsonl`);
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

const INPUT = [
  { db: 0, key: 'a', type: 'string', value: 'new-a' },
  { db: 0, key: 'b', type: 'list', value: ['x', 'y', 'z'] },
  { db: 0, key: 'c', type: 'hash', value: [['f', 'v']] },
];

describe('conflicts, errors, expiry, functions, db-map, filters', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function reset(setup?: (c: ReturnType<RedisServer['client']>) => Promise<unknown>): Promise<void> {
    const c = server.client();
    await c.flushall();
    await c.function('FLUSH').catch(() => {});
    if (setup) await setup(c);
    c.disconnect();
  }

  async function get(key: string): Promise<string | null> {
    const c = server.client();
    try {
      return await c.get(key);
    } finally {
      c.disconnect();
    }
  }

  for (const [path, threshold] of [
    ['RESTORE', undefined],
    ['commands', 1],
  ] as const) {
    it(`${path}: --on-conflict error leaves the existing key alone and fails it`, async () => {
      await reset((c) => c.set('a', 'old'));
      const run = await restoreInto(server, {
        input: jsonl(INPUT),
        onConflict: 'error',
        onError: 'skip',
        bigKeyThreshold: threshold,
      });
      assert.equal(run.counters.failed, 1);
      assert.match(run.counters.failures[0]?.message ?? '', /exists/);
      assert.equal(run.counters.failures[0]?.key?.toString(), 'a');
      assert.equal(run.counters.keysWritten, 2);
      assert.equal(await get('a'), 'old');
    });

    it(`${path}: --on-conflict error with --on-error stop ends the run`, async () => {
      await reset((c) => c.set('a', 'old'));
      const run = await restoreInto(server, {
        input: jsonl(INPUT),
        onConflict: 'error',
        onError: 'stop',
        bigKeyThreshold: threshold,
      });
      assert.ok(run.stopped, 'stopped');
      assert.match(run.stopped ?? '', /--on-error stop/);
      assert.equal(run.counters.failed, 1);
      assert.equal(await get('a'), 'old');
    });

    it(`${path}: --on-conflict skip counts the conflict`, async () => {
      await reset((c) => c.set('a', 'old'));
      const run = await restoreInto(server, { input: jsonl(INPUT), onConflict: 'skip', bigKeyThreshold: threshold });
      assert.equal(run.counters.failed, 0);
      assert.equal(run.counters.skipped.get('conflict'), 1);
      assert.equal(run.counters.keysWritten, 2);
      assert.equal(await get('a'), 'old');
    });

    it(`${path}: --on-conflict replace overwrites (even a key of another type)`, async () => {
      await reset(async (c) => {
        await c.set('a', 'old');
        await c.set('b', 'a string, not a list');
      });
      const run = await restoreInto(server, { input: jsonl(INPUT), onConflict: 'replace', bigKeyThreshold: threshold });
      assert.equal(run.counters.failed, 0);
      assert.equal(run.counters.keysWritten, 3);
      assert.equal(await get('a'), 'new-a');
      const c = server.client();
      assert.deepEqual(await c.lrange('b', 0, -1), ['x', 'y', 'z']);
      c.disconnect();
    });
  }

  it('skips and counts keys already expired; keeps absolute TTLs', async () => {
    await reset();
    const future = Date.now() + 3_600_000;
    const run = await restoreInto(server, {
      input: jsonl([
        { db: 0, key: 'gone', type: 'string', value: 'x', expire_at_ms: Date.now() - 1000 },
        { db: 0, key: 'kept', type: 'string', value: 'y', expire_at_ms: future },
        { db: 0, key: 'kept-cmd', type: 'list', value: ['y'], expire_at_ms: future },
      ]),
      bigKeyThreshold: 1,
    });
    assert.equal(run.counters.skipped.get('expired'), 1);
    assert.equal(run.counters.keysWritten, 2);
    const c = server.client();
    assert.equal(await c.exists('gone'), 0);
    assert.equal(Number(await c.call('PEXPIRETIME', 'kept')), future);
    assert.equal(Number(await c.call('PEXPIRETIME', 'kept-cmd')), future);
    c.disconnect();
  });

  it('hash field TTLs into 7.0: expired fields left out, live ones kept without TTL (counted)', async () => {
    await reset();
    const past = Date.now() - 1000;
    const future = Date.now() + 3_600_000;
    const run = await restoreInto(server, {
      input: jsonl([
        {
          db: 0,
          key: 'h',
          type: 'hash',
          value: [
            ['gone', 'x', past],
            ['kept', 'y', future],
            ['plain', 'z'],
          ],
        },
        { db: 0, key: 'h-all-gone', type: 'hash', value: [['a', 'x', past]] },
      ]),
    });
    assert.equal(run.stats.expiredFields, 2);
    assert.equal(run.stats.droppedFieldTtls, 1);
    assert.equal(run.counters.keysWritten, 1);
    assert.equal(run.counters.skipped.get('expired'), 1);
    const c = server.client();
    assert.deepEqual(await c.hgetall('h'), { kept: 'y', plain: 'z' });
    assert.equal(await c.exists('h-all-gone'), 0);
    c.disconnect();
  });

  it('--on-error skip goes on after OOM and fails those keys; stop ends early', async () => {
    const small = await startRedis({ config: { maxmemory: '3mb', 'maxmemory-policy': 'noeviction' } });
    try {
      const big = 'v'.repeat(200_000);
      const records = Array.from({ length: 40 }, (_, i) => ({ db: 0, key: `big:${i}`, type: 'string', value: big }));
      const input = jsonl(records);
      const skip = await restoreInto(small, { input, onError: 'skip' });
      assert.ok(skip.counters.failed > 0, 'some keys failed');
      assert.match(skip.counters.failures[0]?.message ?? '', /OOM/);
      assert.equal(skip.counters.failed + skip.counters.keysWritten, records.length, 'every key accounted for');
      const c = small.client();
      await c.flushall();
      c.disconnect();
      // One command in flight at a time, so "stop" is visible right at the first failure (with a deeper
      // pipeline, what is already in flight is drained and counted too).
      const stop = await restoreInto(small, {
        input,
        onError: 'stop',
        connections: 1,
        connLimits: { batchCommands: 1, batchBytes: 1, maxInflightBatches: 1 },
      });
      assert.ok(stop.stopped);
      assert.equal(stop.counters.failed, 1);
      assert.ok(stop.counters.keysWritten < records.length - 1, 'stopped before the end');
    } finally {
      await small.stop();
    }
  });

  it('--functions error / skip / replace', async () => {
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    await reset();
    const first = await restoreInto(server, { input: fx.rdbFile as string });
    assert.equal(first.stats.functionsLoaded, 1);
    await reset(async (c) => {
      const c0 = server.client();
      c0.disconnect();
      await c.call(
        'FUNCTION',
        'LOAD',
        "#!lua name=corpuslib_s1\nredis.register_function('other', function() return 1 end)",
      );
    });
    const err = await restoreInto(server, { input: fx.rdbFile as string, functions: 'error', onError: 'skip' });
    assert.equal(err.counters.failed, 1);
    assert.match(err.counters.failures[0]?.message ?? '', /FUNCTION LOAD.*already exists/);
    await reset(async (c) =>
      c.call('FUNCTION', 'LOAD', "#!lua name=corpuslib_s1\nredis.register_function('other', function() return 1 end)"),
    );
    const skip = await restoreInto(server, { input: fx.rdbFile as string, functions: 'skip' });
    assert.equal(skip.counters.failed, 0);
    assert.equal(skip.stats.functionsSkipped, 1);
    await reset(async (c) =>
      c.call('FUNCTION', 'LOAD', "#!lua name=corpuslib_s1\nredis.register_function('other', function() return 1 end)"),
    );
    const replace = await restoreInto(server, { input: fx.rdbFile as string, functions: 'replace' });
    assert.equal(replace.stats.functionsLoaded, 1);
    const c = server.client();
    const list = JSON.stringify(await c.call('FUNCTION', 'LIST'));
    assert.ok(!list.includes('"other"'), 'the library was replaced');
    c.disconnect();
  });

  it('--db-map 0:10,1:11 moves dbs, others keep their number', async () => {
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    await reset();
    const run = await restoreInto(server, { input: fx.rdbFile as string, dbMap: parseDbMap('0:10,1:11') });
    assert.equal(run.counters.keysWritten, fx.records.length);
    const map = new Map([
      [0, 10],
      [1, 11],
    ]);
    const expected = fx.records.map((r) => ({ ...r, db: map.get(r.db) ?? r.db }));
    const actual = await readKeyspace({ host: server.host, port: server.port });
    assert.deepEqual(
      [...new Set(actual.map((r) => r.db))].sort((a, b) => a - b),
      [5, 10, 11, 15],
    );
    assertRecordsMatch(
      actual.map((r) => ({ ...r, hash_field_expire_at_ms: undefined })),
      expected.map((r) => ({ ...r, hash_field_expire_at_ms: undefined })),
    );
  });

  it('filters: --db, --key, --exclude, --key-regex, --type', async () => {
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    await reset();
    const run = await restoreInto(server, {
      input: fx.rdbFile as string,
      dbs: [0],
      keyGlobs: ['str:*', 'list:*'],
      excludeGlobs: ['str:intlike:*'],
      excludeRegex: /^list:.*big/,
      types: ['string', 'list'],
      functions: 'skip',
    });
    const keep = (r: (typeof fx.records)[number]): boolean => {
      const k = Buffer.from(r.key_b64, 'base64').toString('latin1');
      return (
        r.db === 0 &&
        (k.startsWith('str:') || k.startsWith('list:')) &&
        !k.startsWith('str:intlike:') &&
        !/^list:.*big/.test(k) &&
        (r.type === 'string' || r.type === 'list')
      );
    };
    const expected = fx.records.filter(keep);
    assert.ok(expected.length > 10);
    assert.equal(run.counters.keysWritten, expected.length);
    // Filtered before expiry is looked at: every key of the file that does not match, expired by now or not.
    const all = loadExpected('redis-7.0').records;
    assert.equal(run.counters.skipped.get('filtered'), all.filter((r) => !keep(r)).length);
    assertRecordsMatch(await readKeyspace({ host: server.host, port: server.port }), expected);
  });
});
