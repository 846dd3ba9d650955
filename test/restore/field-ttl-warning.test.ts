/**
 * The dropped-hash-field-TTL warning (issue 14, item 7): a 7.4 RDB restored into Redis 7.0 (no HPEXPIREAT) warns
 * with the number of field TTLs left out of the keys actually WRITTEN, and names the first keys; a run that
 * writes none of those keys (every one a conflict) warns of nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { rawCaller, serverNow } from '../harness/keyspace/raw-call.js';
import { loadExpected } from '../helpers/load-records.js';
import { runCli } from '../cli/helpers/run-cli.js';
import { fieldTtlCount } from './helpers.js';

describe('restore 7.4 -> 7.0: the dropped field TTL warning counts written keys only (CLI)', () => {
  let target: RedisServer;
  before(async () => {
    target = await startRedis();
  });
  after(async () => {
    await target?.stop();
  });

  test('written: the count and the first keys named; all conflicts: no warning', async () => {
    // The target's clock decides which fields and keys have expired (restore asks it with TIME).
    const c = target.client();
    const now = await serverNow(rawCaller(c));
    c.disconnect();
    const fx = loadExpected('redis-7.4', { aliveAt: now });
    // What the 7.4 server that wrote the fixture held: the keys with field TTLs still ahead of them.
    const withTtls = fx.records.filter((r) => (r.hash_field_expire_at_ms?.length ?? 0) > 0);
    const fields = fieldTtlCount(fx.records);
    const rdb = fx.rdbFile as string;

    const first = await runCli(['restore', rdb, '--target', target.url]);
    assert.equal(first.code, 0, first.stderr);
    const warning = first.stderr.split('\n').find((l) => l.startsWith('WARNING:') && l.includes('field TTL'));
    if (withTtls.length === 0) {
      assert.equal(warning, undefined, 'no field TTL left to drop at this date');
    } else {
      assert.ok(warning, first.stderr);
      assert.match(
        warning,
        new RegExp(
          `^WARNING: ${fields} hash field TTL\\(s\\) in ${withTtls.length} written key\\(s\\) were DROPPED \\(`,
        ),
      );
      const named = [...warning.matchAll(/db (\d+) "([^"]*)"/g)].map((m) => `${m[1]} ${m[2]}`);
      assert.equal(named.length, Math.min(5, withTtls.length), warning);
      const expected = new Set(withTtls.map((r) => `${r.db} ${Buffer.from(r.key_b64, 'base64').toString('utf8')}`));
      for (const n of named) assert.ok(expected.has(n), `${n} is a key with field TTLs`);
      if (withTtls.length > 5) assert.match(warning, /, \.\.\.\):/);
    }

    // Again into the same target: every key exists, nothing is written, nothing was dropped.
    for (const policy of ['skip', 'error']) {
      const again = await runCli([
        'restore',
        rdb,
        '--target',
        target.url,
        '--on-conflict',
        policy,
        '--functions',
        'skip',
        '--on-error',
        'skip',
      ]);
      assert.equal(again.code, policy === 'skip' ? 0 : 1, again.stderr);
      assert.match(again.stderr, new RegExp(`${fx.total} keys read, 0 written`));
      assert.doesNotMatch(again.stderr, /field TTL/);
    }
  });
});
