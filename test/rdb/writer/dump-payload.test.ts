/**
 * splitDumpPayload is a small decoder: every truncation and every single-byte flip of real DUMP payloads
 * (taken from a live 7.0) must end in a clean RdbError (the CRC64 covers every byte). Also the encoder's
 * refusals of event sequences it cannot turn into valid bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ChunkWriter,
  RDB_TYPE,
  RdbError,
  RdbParser,
  RdbWriter,
  ValueEncoder,
  buildDumpPayload,
  splitDumpPayload,
  type StreamEntry,
  type ValueEvent,
} from '@shake/rdb';
import { startRedis } from '../../harness/redis-server.js';
import { header } from './samples.js';

describe('writer: DUMP payload footer and refusals', () => {
  it('truncations and byte flips of live DUMP payloads give RdbError, never a wrong split', async () => {
    const server = await startRedis();
    const c = server.client();
    const payloads: Buffer[] = [];
    try {
      await c.set('s', 'a'.repeat(100));
      await c.rpush('l', 'x', '1', 'yy');
      await c.hset('h', 'f', 'v');
      await c.xadd('x', '1-1', 'f', 'v');
      for (const k of ['s', 'l', 'h', 'x']) payloads.push((await c.callBuffer('DUMP', k)) as Buffer);
    } finally {
      c.disconnect();
      await server.stop();
    }
    let refused = 0;
    for (const p of payloads) {
      const whole = splitDumpPayload(p);
      assert.equal(Buffer.concat(buildDumpPayload(whole.rdbType, whole.body, whole.rdbVersion)).equals(p), true);
      for (let n = 0; n < p.length; n++) {
        assert.throws(() => splitDumpPayload(p.subarray(0, n)), RdbError);
        refused++;
      }
      for (let i = 0; i < p.length; i++) {
        for (const bit of [0x01, 0x80]) {
          const bad = Buffer.from(p);
          bad[i]! ^= bit;
          assert.throws(() => splitDumpPayload(bad), RdbError);
          refused++;
        }
      }
    }
    assert.equal(
      refused,
      payloads.reduce((n, p) => n + 3 * p.length, 0),
    );
  });

  it('event sequences that cannot become valid bytes throw RdbError', () => {
    const enc = new ValueEncoder({ targetRdbVersion: 10 });
    const sink = { begin: () => assert.fail('nothing may be written') };
    const entry = (ms: number): StreamEntry => ({
      id: { ms: BigInt(ms), seq: 0n },
      fields: [[Buffer.from('f'), Buffer.from('v')]],
    });

    enc.start(header('stream', 's'), sink);
    enc.add({ kind: 'stream-entries', entries: [entry(5)] });
    assert.throws(() => enc.add({ kind: 'stream-entries', entries: [entry(5)] }), RdbError, 'ids must increase');

    const list = new ValueEncoder({ targetRdbVersion: 10 });
    list.start(header('list', 'l'), sink);
    assert.throws(() => list.add({ kind: 'string', value: Buffer.from('x') } as ValueEvent), RdbError);
    // After an error the same encoder takes the next key.
    const body: Buffer[] = [];
    list.start(header('list', 'l2'), { begin: () => new ChunkWriter((c) => body.push(c)) });
    list.add({ kind: 'list-items', items: [Buffer.from('a')] });
    assert.equal(list.finish().rdbType, RDB_TYPE.LIST_QUICKLIST_2);

    const idle = new ValueEncoder({ targetRdbVersion: 10 });
    assert.throws(() => idle.finish(), RdbError);
    assert.throws(() => idle.add({ kind: 'list-items', items: [] }), RdbError);

    const noMeta = new ValueEncoder({ targetRdbVersion: 10 });
    noMeta.start(header('stream', 's'), sink);
    assert.throws(() => noMeta.finish(), RdbError, 'a stream needs its metadata');

    const w = new RdbWriter({ rdbVersion: 10, output: () => {} });
    w.beginKey(header('set', 'k'));
    assert.throws(() => w.end(), RdbError, 'end inside a key');
  });

  it('a value too big to hold without a count is skipped and counted; the file stays valid', () => {
    const chunks: Buffer[] = [];
    const w = new RdbWriter({ rdbVersion: 10, maxBufferedBytes: 10_000, output: (c) => chunks.push(c) });
    const items = Array.from({ length: 5000 }, (_, i) => Buffer.from(`item-${i}`));
    const keys = ['before', 'big', 'after'];
    for (const k of keys) {
      w.beginKey(header('list', k));
      w.value({ kind: 'list-items', items: k === 'big' ? items : [Buffer.from('x')] });
      w.endKey();
    }
    // With the count the same value streams.
    w.beginKey(header('list', 'big-counted'), undefined, { count: items.length });
    w.value({ kind: 'list-items', items });
    w.endKey();
    // A count that turns out wrong after the key began: fatal.
    w.beginKey(header('list', 'liar'), undefined, { count: items.length + 1 });
    w.value({ kind: 'list-items', items });
    assert.throws(() => w.endKey(), RdbError);

    assert.equal(w.stats.keys, 3);
    assert.deepEqual(Object.keys(w.stats.skipped).length, 1);
    const [reason] = Object.keys(w.stats.skipped);
    assert.match(reason!, /^list: .*count unknown/);
    const parser = new RdbParser();
    chunks.length = 0;
    const w2 = new RdbWriter({ rdbVersion: 10, maxBufferedBytes: 10_000, output: (c) => chunks.push(c) });
    for (const k of keys) {
      w2.beginKey(header('list', k));
      w2.value({ kind: 'list-items', items: k === 'big' ? items : [Buffer.from('x')] });
      w2.endKey();
    }
    w2.end();
    const events = [...parser.push(Buffer.concat(chunks)), ...parser.end()];
    const written = events
      .filter((e) => e.kind === 'key-start')
      .map((e) => (e as { header: { key: Buffer } }).header.key.toString());
    assert.deepEqual(written, ['before', 'after']);
  });
});
