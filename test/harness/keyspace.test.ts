import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from './redis-server.js';
import { expectedAfterReload, readKeyspace } from '../helpers/keyspace.js';
import { diffRecords } from './keyspace/diff.js';
import { loadExpected } from '../helpers/load-records.js';
import { recordId, type StreamRecord } from '../helpers/records.js';

test('readKeyspace: redis-7.0.rdb loaded into a live server reads back as redis-7.0.expected.jsonl', async () => {
  const fx = loadExpected('redis-7.0');
  assert.ok(fx.rdbFile);
  const server = await startRedis({ rdbFile: fx.rdbFile, elasticache: true });
  try {
    const records = await readKeyspace({ host: server.host, port: server.port });
    assert.equal(records.length, fx.records.length);
    const expected = fx.records.map(expectedAfterReload);
    const relaxed = expected.filter((r, i) => r !== fx.records[i]).length;
    assert.ok(relaxed <= 5, `${relaxed} records relaxed`);
    assert.deepEqual(diffRecords(records, expected), []);
    assert.deepEqual(records.map(recordId), fx.records.map(recordId), 'order: db, then key bytes');
  } finally {
    await server.stop();
  }
});

test('readKeyspace sees a change in every value type (the comparison can fail)', async () => {
  const server = await startRedis();
  const c = server.client(); // ioredis default (RESP3): readKeyspace must still get RESP2 score strings
  try {
    await c.set(Buffer.from([0, 0xff, 0x0d, 0x0a]), Buffer.from([1, 2, 3]));
    await c.rpush('l', 'a', 'b');
    await c.sadd('s', 'b', 'a', Buffer.from([0xff]));
    await c.zadd('z', '0.1', 'm', '-0', 'n', 'inf', 'o');
    await c.hset('h', Buffer.from([0xfe]), 'x', 'a', '');
    await c.xadd('x', '1-1', 'f', 'v');
    await c.xgroup('CREATE', 'x', 'g', '0');
    await c.xreadgroup('GROUP', 'g', 'alice', 'STREAMS', 'x', '>');
    await c.call('PEXPIREAT', 'l', '4102444800123');
    await c.select(3);
    await c.set('in-db3', '1');
    const before = await readKeyspace(c);
    assert.deepEqual(
      before.map((r) => [r.db, Buffer.from(r.key_b64, 'base64').toString('latin1'), r.type]),
      [
        [0, '\u0000\u00ff\r\n', 'string'],
        [0, 'h', 'hash'],
        [0, 'l', 'list'],
        [0, 's', 'set'],
        [0, 'x', 'stream'],
        [0, 'z', 'zset'],
        [3, 'in-db3', 'string'],
      ],
    );
    const byKey = new Map(before.map((r) => [Buffer.from(r.key_b64, 'base64').toString('latin1'), r]));
    assert.deepEqual(byKey.get('z')?.value, [
      [Buffer.from('n').toString('base64'), '0'],
      [Buffer.from('m').toString('base64'), '0.10000000000000001'],
      [Buffer.from('o').toString('base64'), 'inf'],
    ]);
    assert.deepEqual(byKey.get('s')?.value, ['YQ==', 'Yg==', '/w==']);
    assert.deepEqual(byKey.get('h')?.value, [
      ['YQ==', ''],
      ['/g==', 'eA=='],
    ]);
    assert.equal(byKey.get('l')?.expire_at_ms, 4102444800123);
    const stream = byKey.get('x')?.value as StreamRecord;
    assert.equal(stream.groups[0]?.pel[0]?.[1], Buffer.from('alice').toString('base64'));
    assert.deepEqual(await readKeyspace(c, { dbs: [3] }), before.slice(-1));

    const changes: [string, () => Promise<unknown>][] = [
      ['string', () => c.set(Buffer.from([0, 0xff, 0x0d, 0x0a]), Buffer.from([1, 2, 4]))],
      ['list', () => c.lset('l', 1, 'B')],
      ['ttl', () => c.call('PEXPIREAT', 'l', '4102444800124')],
      ['set', () => c.sadd('s', 'c')],
      ['zset', () => c.zadd('z', '0.2', 'm')],
      ['hash', () => c.hset('h', 'a', '1')],
      ['stream ack', () => c.xack('x', 'g', '1-1')],
      ['stream entry', () => c.xadd('x', '2-0', 'f', 'v')],
    ];
    let previous = JSON.stringify(before);
    await c.select(0);
    for (const [what, change] of changes) {
      await change();
      const now = JSON.stringify(await readKeyspace(c));
      assert.notEqual(now, previous, `a ${what} change went unnoticed`);
      previous = now;
    }
  } finally {
    c.disconnect();
    await server.stop();
  }
});

test('readKeyspace pre-7.0 paths (now+PTTL, XINFO GROUPS/CONSUMERS/XPENDING) agree with the fixture within ms', async () => {
  const fx = loadExpected('redis-7.0');
  const server = await startRedis({ rdbFile: fx.rdbFile });
  try {
    const records = await readKeyspace(
      { host: server.host, port: server.port },
      { features: { pexpiretime: false, xinfoFull: false } },
    );
    assert.equal(records.length, fx.records.length);
    const near = (a: number, b: number): boolean => Math.abs(a - b) <= 250;
    for (const [i, want] of fx.records.map(expectedAfterReload).entries()) {
      const got = records[i]!;
      const id = recordId(want);
      assert.equal(recordId(got), id);
      if (want.expire_at_ms === null) assert.equal(got.expire_at_ms, null, id);
      else {
        assert.equal(got.expire_approx, true, id);
        assert.ok(
          near(got.expire_at_ms!, want.expire_at_ms),
          `${id} expiry ${got.expire_at_ms} vs ${want.expire_at_ms}`,
        );
      }
      if (want.type !== 'stream') {
        assert.deepEqual(got.value, want.value, id);
        continue;
      }
      const g = got.value as StreamRecord & { times_approx?: boolean };
      const w = want.value as StreamRecord;
      assert.equal(g.times_approx, true);
      assert.deepEqual([g.entries, g.length, g.last_id], [w.entries, w.length, w.last_id], id);
      assert.deepEqual([g.first_id, g.max_deleted_entry_id, g.entries_added], [null, null, null]);
      assert.equal(g.groups.length, w.groups.length, id);
      g.groups.forEach((gg, j) => {
        const wg = w.groups[j]!;
        assert.deepEqual(
          [gg.name_b64, gg.last_delivered_id, gg.entries_read],
          [wg.name_b64, wg.last_delivered_id, null],
        );
        assert.deepEqual(
          gg.pel.map((p) => [p[0], p[1], p[3]]),
          wg.pel.map((p) => [p[0], p[1], p[3]]),
        );
        gg.pel.forEach((p, k) => assert.ok(near(p[2], wg.pel[k]![2]), `${id} delivery time`));
        assert.deepEqual(
          gg.consumers.map((c) => [c.name_b64, c.pel, c.active_time_ms]),
          wg.consumers.map((c) => [c.name_b64, c.pel, null]),
        );
        gg.consumers.forEach((c, k) => assert.ok(near(c.seen_time_ms, wg.consumers[k]!.seen_time_ms), `${id} seen`));
      });
    }
  } finally {
    await server.stop();
  }
});
