/**
 * Whole RDB files from RdbWriter: several databases, TTLs, IDLE / FREQ, every type, a function library,
 * and keys copied as raw DUMP payload bodies (what `shake dump --mode scan` does). Each file must pass the
 * server's own redis-check-rdb, then load into a fresh redis-server 7.0 and read back equal.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RDB_TYPE, RdbWriter, crc64, type RdbEvent } from '@shake/rdb';
import { startRedis, type RedisServer } from '../../harness/redis-server.js';
import { readKeyspace } from '../../helpers/keyspace.js';
import type { KeyRecord } from '../../helpers/records.js';
import { assertRecordsMatch, loadedBy70 } from '../../helpers/compare-records.js';
import { allSamples, type Sample } from './samples.js';

const LIBRARY =
  "#!lua name=writerlib\nredis.register_function('writer_echo', function(keys, args) return args[1] end)\n";

interface Written {
  file: string;
  expected: KeyRecord[];
  writer: RdbWriter;
  chunks: number;
}

function keyStart(s: Sample, db: number, idle?: number): RdbEvent {
  return { kind: 'key-start', header: { ...s.header, db, ...(idle !== undefined ? { idle } : {}) } };
}

/** Writes a file with db 0 (through write(event)), db 3 (beginKey/value/endKey) and db 15 (raw bodies). */
function writeFile(
  dir: string,
  target: number,
  rawKeys: { key: Buffer; payload: Buffer; record: KeyRecord }[],
): Written {
  const chunks: Buffer[] = [];
  const writer = new RdbWriter({ rdbVersion: target, output: (c) => chunks.push(c), chunkSize: 4096 });
  const samples = allSamples({ big: true }).filter((s) => target >= 9 || s.header.type !== 'stream');
  const expected: KeyRecord[] = [];

  writer.write({ kind: 'header', magic: 'REDIS', version: 12, offset: 0 });
  writer.write({ kind: 'aux', key: Buffer.from('redis-ver'), value: Buffer.from('7.4.1'), offset: 0 });
  writer.write({ kind: 'aux', key: Buffer.from('repl-id'), value: Buffer.from('x'.repeat(40)), offset: 0 });
  writer.write({ kind: 'function', code: Buffer.from(LIBRARY), offset: 0 });
  writer.write({ kind: 'select-db', db: 0, offset: 0 });
  writer.write({ kind: 'resize-db', dbSize: samples.length, expiresSize: 5, offset: 0 });
  for (const [i, s] of samples.entries()) {
    writer.write(keyStart(s, 0, i === 0 ? 1000 : undefined));
    for (const ev of s.events) writer.write(ev);
    writer.write({ kind: 'key-end', header: { ...s.header, db: 0 } });
    expected.push({ ...s.expected, db: 0 });
  }
  for (const s of samples.filter((x) => x.header.type !== 'stream')) {
    writer.beginKey({ ...s.header, db: 3, freq: 5 }, undefined, { count: s.count });
    for (const ev of s.events) writer.value(ev);
    writer.endKey();
    expected.push({ ...s.expected, db: 3 });
  }
  for (const r of rawKeys) {
    assert.equal(
      writer.dumpPayloadKey({ db: 15, key: r.key, payload: r.payload, expireAtMs: r.record.expire_at_ms }),
      true,
    );
    expected.push({ ...r.record, db: 15 });
  }
  writer.write({ kind: 'end', offset: 0, checksum: null });
  const file = join(dir, `writer-${target}.rdb`);
  const bytes = Buffer.concat(chunks);
  writeFileSync(file, bytes);
  // The trailer is the CRC64 of everything before it, little endian.
  if (target >= 5) assert.equal(bytes.readBigUInt64LE(bytes.length - 8), crc64(bytes.subarray(0, bytes.length - 8)));
  return { file, expected, writer, chunks: chunks.length };
}

describe('writer: whole RDB files load into redis 7.0', () => {
  let dir: string;
  let source: RedisServer;
  let rawKeys: { key: Buffer; payload: Buffer; record: KeyRecord }[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shake-writer-'));
    // Payloads as DUMP returns them: listpack hash, quicklist-2 list, intset, listpack zset, stream v2.
    source = await startRedis();
    const c = source.client();
    await c.hset('raw:hash', 'f', 'v', 'n', '5');
    await c.rpush('raw:list', 'a', 'b', 'c');
    await c.sadd('raw:set', '1', '2', '3');
    await c.zadd('raw:zset', 1, 'one', 2.5, 'two');
    await c.xadd('raw:stream', '1-1', 'f', 'v');
    await c.set('raw:ttl', 'x');
    await c.pexpireat('raw:ttl', 4102444800000);
    const records = await readKeyspace(c);
    rawKeys = await Promise.all(
      records.map(async (record) => {
        const key = Buffer.from(record.key_b64, 'base64');
        return { key, payload: (await c.callBuffer('DUMP', key)) as Buffer, record };
      }),
    );
    c.disconnect();
    await source.stop();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const target of [7, 9, 10]) {
    it(`target RDB ${target}: redis-check-rdb passes, the server loads it and reads back equal`, async () => {
      const raw = target >= 10 ? rawKeys : [];
      const w = writeFile(dir, target, raw);
      assert.ok(w.chunks > 10, 'streamed as many chunks');
      const check = spawnSync('redis-check-rdb', [w.file], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      assert.match(check.stdout, /RDB looks OK/);

      const server = await startRedis({ rdbFile: w.file, config: { 'enable-debug-command': 'yes' } });
      const c = server.client();
      try {
        // Before anything reads the key (a read resets its LRU clock).
        const first = allSamples()[0]!.header.key;
        const idle = Number(await c.call('OBJECT', 'IDLETIME', first));
        if (target >= 9) assert.ok(idle >= 1000 && idle < 1100, `IDLE opcode honoured: ${idle}`);
        else assert.ok(idle < 100, `no IDLE opcode below RDB 9: ${idle}`);
        assertRecordsMatch(await readKeyspace(c), w.expected, loadedBy70(target >= 10));
        const fns = (await c.call('FUNCTION', 'LIST')) as unknown[];
        assert.equal(fns.length, target >= 10 ? 1 : 0);
        assert.deepEqual(w.writer.stats.skipped, target >= 10 ? {} : { 'function: target below RDB 10': 1 });
      } finally {
        c.disconnect();
        await server.stop();
      }
    });
  }

  it('raw bodies the target cannot load are skipped and counted', () => {
    const w = new RdbWriter({ rdbVersion: 10, output: () => {} });
    assert.equal(
      w.rawKey({ db: 0, key: Buffer.from('k'), rdbType: RDB_TYPE.STREAM_LISTPACKS_3, body: Buffer.alloc(3) }),
      false,
    );
    assert.equal(
      w.rawKey({ db: 0, key: Buffer.from('k'), rdbType: RDB_TYPE.HASH_METADATA, body: Buffer.alloc(3) }),
      false,
    );
    assert.equal(w.stats.keys, 0);
    assert.equal(
      Object.values(w.stats.skipped).reduce((a, b) => a + b, 0),
      2,
    );
  });
});
