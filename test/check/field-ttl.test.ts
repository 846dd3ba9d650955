/**
 * Hash field expiries (Redis 7.4): between two 7.4 servers a moved field TTL is a "field-ttl" difference;
 * from a 7.4 source to its 7.0 copy (which cannot hold field TTLs) the same dataset is reported under the
 * documented category "field-ttl-unsupported", which does not make the check fail (exit code 0).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { serverBinary } from '../harness/servers.js';
import { check, triples, NO_SYNC_DELAY } from './helpers.js';

const AT = 4_102_444_800_000; // 2100-01-01: far from any test run

describe('shake check: hash field TTLs (7.4) and a 7.4 -> 7.0 copy', () => {
  let v74a: RedisServer;
  let v74b: RedisServer;
  let v70: RedisServer;
  const clients: Redis[] = [];
  before(async () => {
    const bin = serverBinary('redis-7.4');
    [v74a, v74b, v70] = await Promise.all([
      startRedis({ binary: bin, config: NO_SYNC_DELAY }),
      startRedis({ binary: bin, config: NO_SYNC_DELAY }),
      startRedis({ config: NO_SYNC_DELAY }),
    ]);
    const [a, b, c] = [v74a.client(), v74b.client(), v70.client()];
    clients.push(a, b, c);
    for (const x of [a, b, c]) {
      await x.hset('h:small', 'f1', 'v1', 'f2', 'v2', 'f3', 'v3');
      const p = x.pipeline();
      for (let i = 0; i < 300; i++) p.hset('h:big', `f${i}`, `v${i}`);
      p.set('plain', 'x');
      await p.exec();
    }
    for (const x of [a, b]) {
      await x.call('HPEXPIREAT', 'h:small', String(AT), 'FIELDS', '1', 'f2');
      await x.call('HPEXPIREAT', 'h:big', String(AT + 5), 'FIELDS', '2', 'f7', 'f250');
    }
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all([v74a?.stop(), v74b?.stop(), v70?.stop()]);
  });

  test('7.4 vs 7.4, same field TTLs: equal (small keys by DUMP, big keys in chunks)', async () => {
    for (const bigKeyThreshold of [8 * 1024 * 1024, 64]) {
      const r = await check(v74a, v74b, { bigKeyThreshold, chunk: 50 });
      assert.deepEqual(triples(r.diffs), [], `threshold ${bigKeyThreshold}`);
      assert.equal(r.summary.exitCode, 0);
    }
  });

  test('7.4 vs 7.4, one field TTL moved by 1 ms: field-ttl on that key and field', async () => {
    const b = clients[1]!;
    await b.call('HPEXPIREAT', 'h:small', String(AT + 1), 'FIELDS', '1', 'f2');
    try {
      for (const bigKeyThreshold of [8 * 1024 * 1024, 64]) {
        const r = await check(v74a, v74b, { bigKeyThreshold, chunk: 50 });
        assert.deepEqual(triples(r.diffs), [[0, 'h:small', 'field-ttl']]);
        const [src] = (await clients[0]!.call('HPEXPIRETIME', 'h:small', 'FIELDS', '1', 'f2')) as number[];
        const [tgt] = (await b.call('HPEXPIRETIME', 'h:small', 'FIELDS', '1', 'f2')) as number[];
        assert.deepEqual(
          { ...r.diffs[0]!.detail, field: String(r.diffs[0]!.detail.field) },
          {
            field: 'f2',
            source: src,
            target: tgt,
          },
        );
      }
    } finally {
      await b.call('HPEXPIREAT', 'h:small', String(AT), 'FIELDS', '1', 'f2');
    }
  });

  test('7.4 source vs its 7.0 copy: field TTLs reported as field-ttl-unsupported, exit code 0', async () => {
    for (const bigKeyThreshold of [8 * 1024 * 1024, 64]) {
      const r = await check(v74a, v70, { bigKeyThreshold, chunk: 50 });
      const got = triples(r.diffs).sort((x, y) => String(x[1]).localeCompare(String(y[1])));
      assert.deepEqual(got, [
        [0, 'h:big', 'field-ttl-unsupported'],
        [0, 'h:small', 'field-ttl-unsupported'],
      ]);
      assert.equal(r.summary.exitCode, 0);
      assert.equal(r.summary.failures, 0);
      const small = r.diffs.find((d) => String(d.key) === 'h:small')!.detail;
      assert.equal(String(small.field), 'f2');
      assert.equal(small.source, AT);
      assert.equal(small.target, null);
    }
  });
});
