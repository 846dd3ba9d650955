/**
 * Layouts the fixture corpus does not hold, built byte by byte from rdb.c / valkey's description:
 * Valkey 9 ("VALKEY080", RDB_TYPE_HASH_2), the 7.4 release-candidate hash TTL types (22, 23), 7.4
 * cluster SLOT_INFO, 7.0-rc FUNCTION_PRE_GA, pre-GA modules; plus header, checksum, capture and
 * DUMP payload rules, and a long string arriving in many small chunks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RdbError, RdbParser, moduleTypeName, parseDumpPayload, type RdbEvent } from '@shake/rdb';
import { RecordBuilder } from '../../helpers/events-to-records.js';
import { dumpPayload, i64le, len, listpackOfStrings, rdbFile, str, u8 } from './build.js';
import { canonical, parseInSteps, parseWhole } from './util.js';

const SELECT0 = u8(0xfe, 0);

function kinds(events: RdbEvent[]): string[] {
  return events.map((e) => e.kind);
}

test('Valkey 9: VALKEY080 header, RDB_TYPE_HASH_2 triplets with 8-byte expiry (-1 = none)', () => {
  const body = Buffer.concat([
    SELECT0,
    u8(22),
    str('h'),
    len(2),
    str('f1'),
    str('v1'),
    i64le(-1),
    str('f2'),
    str('v2'),
    i64le(4102444800123),
  ]);
  const data = rdbFile('VALKEY', 80, [body]);
  const events = parseWhole(data);
  assert.deepEqual(events[0], { kind: 'header', magic: 'VALKEY', version: 80, offset: 0 });
  const rec = new RecordBuilder().add(events).finish().records[0]!;
  assert.equal(rec.type, 'hash');
  assert.deepEqual(rec.value, [
    [Buffer.from('f1').toString('base64'), Buffer.from('v1').toString('base64')],
    [Buffer.from('f2').toString('base64'), Buffer.from('v2').toString('base64')],
  ]);
  assert.deepEqual(rec.hash_field_expire_at_ms, [[Buffer.from('f2').toString('base64'), 4102444800123]]);
  assert.equal(canonical(parseInSteps(data, 1)), canonical(events));
});

test('type 22 means HASH_METADATA_PRE_GA under REDIS and HASH_2 under VALKEY', () => {
  // Redis 7.4-rc: per field an absolute expire (length-encoded) first.
  const redis = rdbFile('REDIS', 12, [
    SELECT0,
    Buffer.concat([u8(22), str('h'), len(1), len(4102444800123), str('f'), str('v')]),
  ]);
  const rec = new RecordBuilder().add(parseWhole(redis)).finish().records[0]!;
  assert.deepEqual(rec.hash_field_expire_at_ms, [[Buffer.from('f').toString('base64'), 4102444800123]]);
  // The same bytes under VALKEY read as HASH_2 and do not fit.
  const valkey = rdbFile('VALKEY', 80, [
    SELECT0,
    Buffer.concat([u8(22), str('h'), len(1), len(4102444800123), str('f'), str('v')]),
  ]);
  assert.throws(() => parseWhole(valkey), RdbError);
  // 24/25 are not Valkey types.
  assert.throws(
    () => parseWhole(rdbFile('VALKEY', 80, [SELECT0, Buffer.concat([u8(25), str('h')])])),
    /unknown value type or opcode 25/,
  );
});

test('7.4 HASH_METADATA (24): ttl relative to min-expire (+1), 0 = none; LISTPACK_EX (23/25) triples', () => {
  const min = 4000000000000;
  const meta = Buffer.concat([
    u8(24),
    str('m'),
    i64le(min),
    len(2),
    len(0),
    str('a'),
    str('1'),
    len(6),
    str('b'),
    str('2'),
  ]);
  const lp = listpackOfStrings(['x', '1', '0', 'y', '2', '4102444800000']);
  const lpex = Buffer.concat([u8(25), str('l'), i64le(4102444800000), str(lp)]);
  const lpexPre = Buffer.concat([u8(23), str('p'), str(lp)]);
  const events = parseWhole(rdbFile('REDIS', 12, [SELECT0, meta, lpex, lpexPre]));
  const recs = new RecordBuilder().add(events).finish().records;
  const ttl = (k: string): unknown =>
    recs.find((r) => r.key_b64 === Buffer.from(k).toString('base64'))!.hash_field_expire_at_ms;
  assert.deepEqual(ttl('m'), [[Buffer.from('b').toString('base64'), min + 5]]);
  assert.deepEqual(ttl('l'), [[Buffer.from('y').toString('base64'), 4102444800000]]);
  assert.deepEqual(ttl('p'), ttl('l'));
  const starts = events.filter((e) => e.kind === 'key-start');
  assert.deepEqual(
    starts.map((e) => e.kind === 'key-start' && [e.header.encoding, e.length]),
    [
      ['metadata', 2],
      ['listpackex', 2],
      ['listpackex', 2],
    ],
  );
});

test('SLOT_INFO, FUNCTION_PRE_GA, MODULE_AUX, IDLE/FREQ and EXPIRETIME (seconds) opcodes', () => {
  const moduleId = 0x123456789abcdn << 10n;
  const body = Buffer.concat([
    u8(0xf4, 5), // SLOT_INFO slot 5
    len(100),
    len(7),
    u8(0xf6), // FUNCTION_PRE_GA
    str('lib'),
    str('LUA'),
    len(1),
    str('desc'),
    str('return 1'),
    u8(0xf7), // MODULE_AUX
    len(moduleId),
    len(2),
    len(2),
    len(2), // UINT
    len(42),
    len(5), // STRING
    str('aux'),
    len(0), // EOF
    SELECT0,
    u8(0xfd), // EXPIRETIME (seconds, 4 bytes LE)
    Buffer.from([0x80, 0x3e, 0x86, 0x7a]),
    u8(0xf8),
    len(300), // IDLE
    u8(0),
    str('k'),
    str('v'),
    u8(0xf9, 7), // FREQ
    u8(0),
    str('k2'),
    str('v2'),
  ]);
  const events = parseWhole(rdbFile('REDIS', 11, [body]));
  assert.deepEqual(kinds(events).slice(0, 5), ['header', 'slot-info', 'function-pre-ga', 'module-aux', 'select-db']);
  const slot = events[1]!;
  assert.ok(slot.kind === 'slot-info');
  assert.deepEqual([slot.slot, slot.slotSize, slot.expiresSlotSize], [5, 100, 7]);
  const fn = events[2]!;
  assert.ok(fn.kind === 'function-pre-ga');
  assert.deepEqual([fn.name, fn.engine, fn.description, fn.code].map(String), ['lib', 'LUA', 'desc', 'return 1']);
  const aux = events[3]!;
  assert.ok(aux.kind === 'module-aux');
  assert.equal(aux.module.moduleId, moduleId);
  assert.equal(aux.module.name, moduleTypeName(moduleId).name);
  assert.equal(aux.when, 2);
  assert.equal(aux.module.raw.readBigUInt64BE(1), moduleId);
  assert.equal(aux.module.raw[aux.module.raw.length - 1], 0, 'raw ends with the EOF opcode');
  const starts = events.filter((e): e is Extract<RdbEvent, { kind: 'key-start' }> => e.kind === 'key-start');
  assert.equal(starts[0]!.header.expireAtMs, 0x7a863e80 * 1000);
  assert.equal(starts[0]!.header.idle, 300);
  assert.equal(starts[0]!.header.freq, undefined);
  assert.equal(starts[1]!.header.freq, 7);
  assert.equal(starts[1]!.header.expireAtMs, null, 'key opcodes do not leak to the next key');
  const selectAt = events.find((e) => e.kind === 'select-db')!;
  assert.ok(selectAt.kind === 'select-db');
  assert.equal(starts[0]!.header.offset, selectAt.offset + 2, 'a key starts at its first opcode');
});

test('module values: type 7 keeps the exact bytes; type 6 (pre-GA) is refused naming the module', () => {
  const id = (0x2345n << 10n) | 3n;
  const { name, encver } = moduleTypeName(id);
  assert.equal(encver, 3);
  const value = Buffer.concat([len(id), len(1), len(5), len(3), Buffer.alloc(4), len(4), Buffer.alloc(8), len(0)]);
  const events = parseWhole(rdbFile('REDIS', 9, [SELECT0, u8(7), str('m'), value]), { captureRawLimit: 1024 });
  const mod = events.find((e) => e.kind === 'module')!;
  assert.ok(mod.kind === 'module');
  assert.ok(mod.value.raw.equals(value));
  const end = events.find((e) => e.kind === 'key-end')!;
  assert.ok(end.kind === 'key-end' && end.raw?.equals(value));
  assert.throws(
    () => parseWhole(rdbFile('REDIS', 9, [SELECT0, u8(6), str('m'), len(id)])),
    (e: unknown) =>
      e instanceof RdbError &&
      e.message === `module value of type ${name} (pre-GA module format) cannot be parsed without the module`,
  );
});

test('moduleTypeName decodes the 9-character name (module.c charset)', () => {
  // The id in redis-rdb-tools' redis_40_with_module.rdb (bytes 81 45 e2 52 38 df 91 2c 00).
  assert.deepEqual(moduleTypeName(0x45e25238df912c00n), { name: 'ReJSON-RL', encver: 0 });
  // moduleTypeEncodeId: 6 bits per character, first character highest, then the 10-bit encver.
  const cs = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let id = 0n;
  for (const ch of 'graphdata') id = (id << 6n) | BigInt(cs.indexOf(ch));
  assert.deepEqual(moduleTypeName((id << 10n) | 1023n), { name: 'graphdata', encver: 1023 });
});

test('header rules: REDIS + 4 digits, VALKEY + 3 digits >= 80; anything else is refused', () => {
  assert.equal(parseWhole(rdbFile('REDIS', 13, [])).length, 2, 'a newer Redis version is read as far as known');
  for (const bad of ['REDIS00a1', 'VALKEY011', 'REDIS0000', 'RDB000011', 'REDIS0080']) {
    assert.throws(
      () => parseWhole(Buffer.concat([Buffer.from(bad, 'latin1'), u8(0xff), Buffer.alloc(8)])),
      RdbError,
      bad,
    );
  }
  assert.throws(
    () => parseWhole(rdbFile('REDIS', 11, [u8(0xf0)])),
    (e: unknown) =>
      e instanceof RdbError && /unknown value type or opcode 240 \(0xf0\)/.test(e.message) && e.offset === 9,
  );
});

test('checksum: mismatch throws unless verifyChecksum is false; stored 0 means none; RDB < 5 has none', () => {
  const good = rdbFile('REDIS', 11, [SELECT0, u8(0), str('k'), str('v')]);
  const bad = Buffer.from(good);
  bad[bad.length - 1]! ^= 1;
  assert.throws(() => parseWhole(bad), /checksum mismatch/);
  const end = parseWhole(bad, { verifyChecksum: false }).at(-1)!;
  assert.ok(end.kind === 'end' && end.checksum && end.checksum.stored !== end.checksum.computed);
  const zero = parseWhole(rdbFile('REDIS', 11, [SELECT0], 'zero')).at(-1)!;
  assert.ok(zero.kind === 'end' && zero.checksum === null);
  const old = parseWhole(rdbFile('REDIS', 4, [SELECT0])).at(-1)!;
  assert.ok(old.kind === 'end' && old.checksum === null);
  // checksum: false: nothing computed, nothing checked, the same events before the end.
  const unchecked = parseWhole(bad, { checksum: false });
  assert.deepEqual(kinds(unchecked), kinds(parseWhole(good)));
  const last = unchecked.at(-1)!;
  assert.ok(last.kind === 'end' && last.checksum === null);
});

test('captureRawLimit: raw kept up to the limit (also across chunks), dropped beyond', () => {
  const small = Buffer.concat([len(3), str('a'), str('b'), str('c')]);
  const big = str('x'.repeat(5000));
  const data = rdbFile('REDIS', 11, [SELECT0, u8(2), str('s'), small, u8(0), str('big'), big]);
  for (const events of [parseWhole(data, { captureRawLimit: 100 }), parseInSteps(data, 3, { captureRawLimit: 100 })]) {
    const ends = events.filter((e): e is Extract<RdbEvent, { kind: 'key-end' }> => e.kind === 'key-end');
    assert.ok(ends[0]!.raw?.equals(small));
    assert.equal(ends[1]!.raw, undefined);
  }
  const ends = parseInSteps(data, 7, { captureRawLimit: 6000 }).filter((e) => e.kind === 'key-end');
  assert.ok(ends[1]!.kind === 'key-end' && ends[1]!.raw?.equals(big));
});

test('a 24 MB string arriving in 4 KB chunks: linear time, one event', () => {
  const value = Buffer.alloc(24 << 20, 0x61);
  const data = rdbFile('REDIS', 11, [SELECT0, u8(0), str('big'), str(value)]);
  const t0 = performance.now();
  const p = new RdbParser();
  const events: RdbEvent[] = [];
  for (let i = 0; i < data.length; i += 4096) events.push(...p.push(data.subarray(i, i + 4096)));
  events.push(...p.end());
  const ms = performance.now() - t0;
  const s = events.find((e) => e.kind === 'string')!;
  assert.ok(s.kind === 'string' && s.value.equals(value));
  assert.ok(ms < 3000, `${ms.toFixed(0)} ms`);
});

test('parseDumpPayload: footer checks, version rules, db -1 and empty key, trailing bytes', () => {
  const body = Buffer.concat([len(2), str('a'), str('b')]);
  const ok = parseDumpPayload(dumpPayload(2, body, 11));
  assert.equal(ok.rdbType, 2);
  assert.equal(ok.rdbVersion, 11);
  assert.deepEqual(kinds(ok.events), ['key-start', 'set-members', 'key-end']);
  const start = ok.events[0]!;
  assert.ok(
    start.kind === 'key-start' && start.header.db === -1 && start.header.key.length === 0 && start.length === 2,
  );

  const corrupt = dumpPayload(2, body, 11);
  corrupt[3]! ^= 0x20;
  assert.throws(() => parseDumpPayload(corrupt), /checksum mismatch/);
  assert.throws(() => parseDumpPayload(dumpPayload(2, body, 13)), /version 13/);
  assert.throws(() => parseDumpPayload(dumpPayload(2, Buffer.concat([body, u8(1)]), 11)), /unexpected bytes/);
  assert.throws(() => parseDumpPayload(dumpPayload(2, body.subarray(0, 4), 11)), /unexpected end/);
  assert.throws(() => parseDumpPayload(Buffer.alloc(5)), RdbError);
  // Version 80 payloads use Valkey's type table.
  const h2 = Buffer.concat([len(1), str('f'), str('v'), i64le(-1)]);
  const valkey = parseDumpPayload(dumpPayload(22, h2, 80));
  assert.ok(valkey.events.some((e) => e.kind === 'hash-entries' && e.entries[0]!.expireAtMs === null));
});
