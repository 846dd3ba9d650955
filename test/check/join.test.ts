/**
 * The snapshot join (check/snapshot-join.ts): both sides read through replication and joined by key. Its hash
 * against MurmurHash3's published test vectors; its spill store read back byte for byte from memory and from
 * files; then on real servers, with memory bounds small enough that the records go to files and partitions are
 * split, the same differences as the per-key path reports (the injected ones, and nothing else), a target
 * that refuses replication, and a db map the join cannot invert.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { fmix, hash32, hash64 } from '../../src/core/hash.js';
import { CheckError } from '../../src/check/side.js';
import { SpillStore } from '../../src/check/spill.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { loadExpected } from '../helpers/load-records.js';
import { check, NO_SYNC_DELAY, triples } from './helpers.js';

describe('check join: hash and spill store', () => {
  test('hash32 is MurmurHash3_x86_32 (the reference implementation test vectors)', () => {
    const h = (s: string, seed = 0): number => hash32(Buffer.from(s), seed);
    assert.equal(h(''), 0);
    assert.equal(h('', 1), 0x514e28b7);
    assert.equal(h('', 0xffffffff), 0x81f16f39);
    assert.equal(h('a'), 0x3c2569b2);
    assert.equal(h('ab'), 0x9bbfd75f);
    assert.equal(h('abc'), 0xb3dd93fa);
    assert.equal(h('abcd'), 0x43ed676a);
    assert.equal(h('hello'), 0x248bfa47);
    assert.equal(h('Hello, world!', 1234), 0xfaf6cdb3);
    assert.equal(h('The quick brown fox jumps over the lazy dog'), 0x2e4ff723);
    // A range of a buffer hashes as the bytes alone.
    assert.equal(hash32(Buffer.from('xxabcdyy'), 0, 2, 6), h('abcd'));
  });

  test('hash64: lane a is MurmurHash3_x86_32, lane b its own mix of the same words; any range, any offset in memory', () => {
    // Lane b written out byte by byte here, as hash.ts documents it (words little-endian, other constants).
    const laneB = (b: Buffer, seed: number): number => {
      let h = (seed ^ 0x9e3779b9) >>> 0;
      const whole = b.length & ~3;
      for (let i = 0; i < b.length; i += 4) {
        let w = 0;
        for (let j = 0; j < 4 && i + j < b.length; j++) w |= b[i + j]! << (8 * j);
        let m = Math.imul(w, 0x85ebca77);
        m = (m << 17) | (m >>> 15);
        h ^= Math.imul(m, 0xc2b2ae3d);
        if (i < whole) {
          h = (h << 11) | (h >>> 21);
          h = (Math.imul(h, 9) + 0x7f4a7c15) | 0;
        }
      }
      return fmix(h ^ b.length, 0x2545f491);
    };
    const out = new Uint32Array(2);
    // Buffers in one pooled ArrayBuffer (non-zero byteOffset) and in their own, hashed in turn.
    const pooled = Array.from({ length: 20 }, (_, i) =>
      Buffer.from('The quick brown fox jumps over the lazy dog'.slice(i)),
    );
    const own = Buffer.alloc(300);
    for (let i = 0; i < own.length; i++) own[i] = (i * 131 + 7) & 0xff;
    for (const b of [...pooled, own, Buffer.alloc(0)]) {
      for (let start = 0; start < Math.min(b.length, 9); start++) {
        for (const end of [start, start + 1, start + 3, start + 4, start + 7, b.length]) {
          if (end > b.length) continue;
          hash64(b, 99, out, start, end);
          const bytes = Buffer.from(b.subarray(start, end));
          assert.equal(out[0], hash32(bytes, 99), `lane a ${start}..${end}`);
          assert.equal(out[1], laneB(bytes, 99), `lane b ${start}..${end}`);
        }
      }
    }
    hash64(Buffer.from('The quick brown fox jumps over the lazy dog'), 0, out);
    assert.equal(out[0], 0x2e4ff723);
  });

  for (const memoryBytes of [1 << 30, 4096]) {
    test(`spill store: records read back in order, whole (${memoryBytes > 1e6 ? 'in memory' : 'on files'})`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'shake-spill-test-'));
      const store = new SpillStore({ partitions: 4, memoryBytes, blockBytes: 256, dir });
      const written: Buffer[][][] = [0, 1].map(() => [[], [], [], []]);
      // Length-prefixed records of 8 + 0..600 bytes: some larger than a block.
      const len = (b: Buffer, at: number): number => 8 + b.readUInt32LE(at + 4);
      let x = 7;
      for (let i = 0; i < 3000; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        const side = (x >>> 3) & 1;
        const part = (x >>> 5) & 3;
        const n = i % 97 === 0 ? 600 : (x >>> 9) % 40;
        const rec = Buffer.alloc(8 + n, i & 0xff);
        rec.writeUInt32LE(i, 0);
        rec.writeUInt32LE(n, 4);
        const at = store.reserve(side as 0 | 1, part, rec.length);
        rec.copy(store.block, at);
        written[side]![part]!.push(rec);
      }
      assert.equal(store.spilled, memoryBytes < 1e6);
      for (const side of [0, 1] as const) {
        for (let p = 0; p < 4; p++) {
          // Every piece kept (none overwritten by the reads after it), each of whole records.
          const pieces = [...store.read(side, p, len, 1000)];
          for (const piece of pieces) {
            let at = 0;
            while (at < piece.length) at += len(piece, at);
            assert.equal(at, piece.length, `side ${side} partition ${p}: a piece of whole records`);
          }
          const got = Buffer.concat(pieces);
          const want = Buffer.concat(written[side]![p]!);
          assert.ok(got.equals(want), `side ${side} partition ${p}`);
          assert.equal(store.size(side, p), got.length);
          assert.equal(store.records(side, p), written[side]![p]!.length);
          // Whole, into a buffer at an offset.
          const into = Buffer.alloc(want.length + 10, 0xee);
          store.readAll(side, p, into, 5);
          assert.ok(into.subarray(5, 5 + want.length).equals(want), `readAll side ${side} partition ${p}`);
          assert.ok(
            into.subarray(0, 5).equals(Buffer.alloc(5, 0xee)) &&
              into.subarray(5 + want.length).equals(Buffer.alloc(5, 0xee)),
          );
        }
      }
      store.close();
      assert.deepEqual(readdirSync(dir), []);
      rmSync(dir, { recursive: true, force: true });
    });
  }
});

describe('check join: both sides through replication, records spilled to files and partitions split', () => {
  // An expiry 50 years after the run starts: never due during the test, whatever the date.
  const FAR = Date.now() + 50 * 365 * 86_400_000;
  const fx = loadExpected('redis-7.0');
  let source: RedisServer;
  let target: RedisServer;
  let mimic: RedisServer;
  let src: Redis;
  let tgt: Redis;
  let spillDir: string;
  before(async () => {
    [source, target, mimic] = await Promise.all([
      startRedis({ rdbFile: fx.rdbFile, config: NO_SYNC_DELAY }),
      startRedis({ rdbFile: fx.rdbFile, config: NO_SYNC_DELAY }),
      startRedis({ rdbFile: fx.rdbFile, elasticache: true }),
    ]);
    src = source.client();
    tgt = target.client();
    // 20k more keys on both sides (db 0 and 4): enough records for several partitions and groups.
    for (const c of [src, tgt]) {
      for (const db of [0, 4]) {
        await c.select(db);
        const p = c.pipeline();
        for (let i = 0; i < 10_000; i++) {
          if (i % 4 === 0) p.hset(`jn:h:${i}`, 'f', String(i), 'g', 'x'.repeat(i % 50));
          else if (i % 4 === 1) p.rpush(`jn:l:${i}`, 'a', String(i));
          else p.set(`jn:s:${i}`, `value-${i}`);
        }
        await p.exec();
        await c.pexpireat('jn:s:2', FAR);
      }
      await c.select(0);
    }
    spillDir = mkdtempSync(join(tmpdir(), 'shake-join-test-'));
  });
  after(async () => {
    src?.disconnect();
    tgt?.disconnect();
    await Promise.all([source?.stop(), target?.stop(), mimic?.stop()]);
    rmSync(spillDir, { recursive: true, force: true });
  });

  const small = (): { memoryBytes: number; groupBytes: number; dir: string } => ({
    memoryBytes: 64 * 1024,
    groupBytes: 16 * 1024,
    dir: spillDir,
  });

  /** Keys of the fixture whose bytes differ on an equal copy (e.g. a set's dict order): compared live. */
  let baseline = 0;

  test('equal: every key compared, records spilled and joined in groups; files removed', async () => {
    const r = await check(source, target, { targetRead: 'replication', join: small() });
    baseline = r.summary.stats.joinCandidates;
    // Only the fixture's keys can differ in bytes; none of the 20k jn:* keys does.
    assert.ok(baseline < 100, String(baseline));
    assert.deepEqual(triples(r.diffs), []);
    assert.equal(r.summary.exitCode, 0);
    const dbsize = (await src.info('keyspace')).match(/keys=(\d+)/g)!.reduce((n, m) => n + Number(m.slice(5)), 0);
    assert.equal(r.summary.stats.compared, dbsize);
    assert.equal(r.summary.stats.equal, dbsize);
    assert.equal(r.summary.stats.targetSnapshotKeys, dbsize);
    assert.equal(r.summary.stats.targetSnapshots, 1);
    assert.ok(r.summary.stats.joinSpilled);
    assert.deepEqual(readdirSync(spillDir), []);
  });

  test('a hash-table set and hash written in another order on each side: equal by digest, not compared live', async () => {
    // Inserted in opposite orders: each server's RDB lists the members in its own dict order. More than the
    // server keeps in a listpack (its own setting).
    const limit = async (name: string): Promise<number> => Number(((await src.config('GET', name)) as string[])[1]);
    const members = Array.from({ length: (await limit('set-max-intset-entries')) + 300 }, (_, i) => `member-${i}`);
    const fields = Array.from({ length: (await limit('hash-max-listpack-entries')) + 200 }, (_, i) => [
      `field-${i}`,
      `value-${i}`,
    ]);
    await src.sadd('jn:dict-set', ...members);
    await tgt.sadd('jn:dict-set', ...[...members].reverse());
    await src.hset('jn:dict-hash', ...fields.flat());
    await tgt.hset('jn:dict-hash', ...[...fields].reverse().flat());
    try {
      assert.equal(await src.object('ENCODING', 'jn:dict-set'), 'hashtable');
      assert.equal(await src.object('ENCODING', 'jn:dict-hash'), 'hashtable');
      const r = await check(source, target, { targetRead: 'replication', join: small() });
      assert.deepEqual(triples(r.diffs), []);
      // Not candidates: only the fixture's keys are (see the first test).
      assert.equal(r.summary.stats.joinCandidates, baseline);
      await tgt.srem('jn:dict-set', 'member-150');
      await tgt.sadd('jn:dict-set', 'member-x');
      await tgt.hset('jn:dict-hash', 'field-7', 'changed');
      const d = await check(source, target, { targetRead: 'replication', join: small() });
      assert.deepEqual(
        triples(d.diffs).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
        [
          [0, 'jn:dict-hash', 'value'],
          [0, 'jn:dict-set', 'value'],
        ],
      );
    } finally {
      for (const c of [src, tgt]) await c.del('jn:dict-set', 'jn:dict-hash');
    }
  });

  test('one difference of each kind, spilled: the join reports what the per-key path reports', async () => {
    await tgt.select(4);
    await tgt.del('jn:s:10'); // missing
    await tgt.set('jn:only-target', 'x'); // extra
    await tgt.rpush('jn:l:5', 'more'); // value
    await tgt.pexpireat('jn:s:2', FAR + 1); // ttl moved by 1 ms
    await tgt.select(0);
    await tgt.del('jn:h:8');
    await tgt.set('jn:h:8', 'now a string'); // type
    await tgt.persist('jn:s:2'); // ttl removed
    try {
      const want = [
        [0, 'jn:h:8', 'type'],
        [0, 'jn:s:2', 'ttl'],
        [4, 'jn:l:5', 'value'],
        [4, 'jn:only-target', 'extra'],
        [4, 'jn:s:10', 'missing'],
        [4, 'jn:s:2', 'ttl'],
      ];
      const sorted = (d: ReturnType<typeof triples>): ReturnType<typeof triples> =>
        d.sort((a, b) => a[0]! - b[0]! || String(a[1]).localeCompare(String(b[1])));
      const joined = await check(source, target, { targetRead: 'replication', join: small() });
      assert.deepEqual(sorted(triples(joined.diffs)), want);
      assert.ok(joined.summary.stats.joinSpilled);
      assert.equal(joined.summary.stats.joinCandidates, baseline + want.length);
      const perKey = await check(source, target, { targetRead: 'commands' });
      assert.deepEqual(sorted(triples(perKey.diffs)), want);
      // The details agree too (e.g. the TTLs the servers hold).
      const detail = (r: typeof joined): string =>
        JSON.stringify(
          r.diffs
            .map((d) => [d.db, d.key?.toString('latin1'), d.problem, d.detail])
            .sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1]))),
        );
      assert.equal(detail(joined), detail(perKey));
      assert.deepEqual(readdirSync(spillDir), []);
    } finally {
      await tgt.select(4);
      await tgt.del('jn:only-target', 'jn:l:5');
      await tgt.rpush('jn:l:5', 'a', '5');
      await tgt.set('jn:s:10', 'value-10');
      await tgt.pexpireat('jn:s:2', FAR);
      await tgt.select(0);
      await tgt.del('jn:h:8');
      await tgt.hset('jn:h:8', 'f', '8', 'g', 'x'.repeat(8));
      await tgt.pexpireat('jn:s:2', FAR);
    }
  });

  test('a target that refuses replication (ElastiCache mimic): auto reads it per key; replication fails', async () => {
    const notices: string[] = [];
    const auto = await check(source, mimic, { onNotice: (n) => notices.push(n) });
    // The mimic holds only the fixture: the 20k jn:* keys are missing there, nothing else differs.
    assert.equal(auto.summary.stats.targetSnapshots, 0);
    assert.ok(auto.diffs.length > 0 && auto.diffs.every((d) => d.problem === 'missing'));
    assert.ok(
      notices.some((n) => /target .* refused replication.*read per key/.test(n)),
      notices.join('\n'),
    );
    await assert.rejects(check(source, mimic, { targetRead: 'replication' }), (err: Error) => {
      assert.ok(err instanceof CheckError);
      assert.match(err.message, /--target-read commands/);
      assert.doesNotMatch(err.message, /--mode/);
      return true;
    });
  });

  test('a db map that merges two source dbs into one: per key (auto), an error (replication)', async () => {
    const r = await check(source, target, { dbMap: { map: new Map([[4, 0]]), rest: null }, extra: false });
    assert.equal(r.summary.stats.targetSnapshots, 0);
    await assert.rejects(
      check(source, target, { dbMap: { map: new Map([[4, 0]]), rest: null }, targetRead: 'replication' }),
      /--target-read replication: not with a db map that merges source dbs/,
    );
  });
});
