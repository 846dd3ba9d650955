/**
 * Third-party RDB files (redis tests/assets at 7.2.6, redis-rdb-tools tests/dumps): every file parses
 * (corrupt_ziplist.rdb must be rejected with RdbError), and the values match what those projects' own
 * tests assert about them (redis tests/integration/rdb.tcl, convert-*-on-load.tcl, corrupt-dump.tcl;
 * redis-rdb-tools tests/parser_tests.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RdbError, RdbParser, type RdbEvent } from '@shake/rdb';
import { RecordBuilder, type RdbSummary } from '../../helpers/events-to-records.js';
import type { KeyRecord } from '../../helpers/records.js';
import { parseWhole, thirdPartyDirs, thirdPartyFiles } from './util.js';

const [redisAssets, rdbtools] = thirdPartyDirs as [string, string];

function load(dir: string, name: string): RdbSummary {
  return new RecordBuilder().add(parseWhole(readFileSync(join(dir, name)))).finish();
}

function key(s: RdbSummary, name: string, db = 0): KeyRecord {
  const r = s.records.find((x) => x.db === db && Buffer.from(x.key_b64, 'base64').toString('latin1') === name);
  assert.ok(r, `key ${name} in db ${db}`);
  return r;
}

const txt = (b64: string): string => Buffer.from(b64, 'base64').toString('latin1');
const list = (r: KeyRecord): string[] => (r.value as string[]).map(txt);
const pairs = (r: KeyRecord): Map<string, string> =>
  new Map((r.value as [string, string][]).map(([a, b]) => [txt(a), r.type === 'zset' ? b : txt(b)]));
const str = (r: KeyRecord): string => txt((r.value as { b64: string }).b64);

test('every third-party RDB parses, except corrupt_ziplist.rdb which is rejected with RdbError', () => {
  for (const file of thirdPartyFiles()) {
    const data = readFileSync(file);
    if (basename(file) === 'corrupt_ziplist.rdb') {
      assert.throws(() => parseWhole(data), RdbError);
      continue;
    }
    const s = new RecordBuilder().add(parseWhole(data)).finish();
    assert.ok(s.end, `${basename(file)} reaches EOF`);
    if (s.end.checksum) assert.equal(s.end.checksum.stored, s.end.checksum.computed, basename(file));
  }
});

test('redis encodings.rdb (RDB 4): the csvdump of rdb.tcl "RDB encoding loading test"', () => {
  const s = load(redisAssets, 'encodings.rdb');
  assert.equal(s.header?.version, 4);
  assert.equal(str(key(s, 'compressible')), 'a'.repeat(137));
  assert.equal(key(s, 'compressible').encoding, 'lzf');
  assert.deepEqual(
    pairs(key(s, 'hash')),
    new Map(
      Object.entries({
        a: '1',
        aa: '10',
        aaa: '100',
        b: '2',
        bb: '20',
        bbb: '200',
        c: '3',
        cc: '30',
        ccc: '300',
      }).concat([
        ['ddd', '400'],
        ['eee', '5000000000'],
      ]),
    ),
  );
  assert.deepEqual(
    pairs(key(s, 'hash_zipped')),
    new Map([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]),
  );
  const one = ['1', '2', '3', 'a', 'b', 'c', '100000', '6000000000'];
  assert.deepEqual(list(key(s, 'list')), [...one, ...one, ...one]);
  assert.deepEqual(list(key(s, 'list_zipped')), one);
  assert.equal(str(key(s, 'number')), '10');
  assert.deepEqual(list(key(s, 'set')).sort(), ['1', '100000', '2', '3', '6000000000', 'a', 'b', 'c']);
  assert.deepEqual(list(key(s, 'set_zipped_1')), ['1', '2', '3', '4']);
  assert.deepEqual(list(key(s, 'set_zipped_2')), ['100000', '200000', '300000', '400000']);
  assert.deepEqual(
    list(key(s, 'set_zipped_3')),
    ['1', '2', '3', '4', '5', '6'].map((d) => `${d}000000000`),
  );
  assert.equal(str(key(s, 'string')), 'Hello World');
  const zset = pairs(key(s, 'zset'));
  assert.equal(zset.size, 12);
  for (const [m, sc] of Object.entries({ a: 1, cc: 30, aaaa: 1000, cccc: 123456789, bbbb: 5000000000 })) {
    assert.equal(Number(zset.get(m)), sc, m);
  }
  assert.deepEqual(
    pairs(key(s, 'zset_zipped')),
    new Map([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]),
  );
});

test('redis hash-zipmap, hash-ziplist, zset-ziplist, list-quicklist, scriptbackup', () => {
  for (const f of ['hash-zipmap.rdb', 'hash-ziplist.rdb']) {
    assert.deepEqual(
      pairs(key(load(redisAssets, f), 'hash')),
      new Map([
        ['f1', 'v1'],
        ['f2', 'v2'],
      ]),
      f,
    );
  }
  assert.deepEqual(
    pairs(key(load(redisAssets, 'zset-ziplist.rdb'), 'zset')),
    new Map([
      ['one', '1'],
      ['two', '2'],
    ]),
  );
  const ql = load(redisAssets, 'list-quicklist.rdb');
  assert.equal(str(key(ql, 'x')), '7');
  assert.deepEqual(list(key(ql, 'list')), ['7']);
  const sb = load(redisAssets, 'scriptbackup.rdb');
  assert.equal(sb.records.length, 0);
  assert.equal(sb.aux.lua, "return redis.call('set', 'foo', 'bar')");
});

test('redis corrupt_empty_keys.rdb: the nine empty collections are reported (as empty), not a crash', () => {
  const s = load(redisAssets, 'corrupt_empty_keys.rdb');
  const names = s.records.map((r) => txt(r.key_b64)).sort();
  assert.deepEqual(names, [
    'hash',
    'hash_ziplist',
    'list_quicklist',
    'list_quicklist_empty_ziplist',
    'list_ziplist',
    'set',
    'zset',
    'zset_listpack',
    'zset_ziplist',
  ]);
  for (const r of s.records) assert.deepEqual(r.value, [], txt(r.key_b64));
});

test('redis-rdb-tools dumps: the values parser_tests.py asserts', () => {
  assert.equal(load(rdbtools, 'empty_database.rdb').records.length, 0);
  const mdb = load(rdbtools, 'multiple_databases.rdb');
  assert.equal(str(key(mdb, 'key_in_zeroth_database', 0)), 'zero');
  assert.equal(str(key(mdb, 'key_in_second_database', 2)), 'second');
  assert.equal(mdb.records.filter((r) => r.db === 1).length, 0);

  const exp = key(load(rdbtools, 'keys_with_expiry.rdb'), 'expires_ms_precision');
  const d = new Date(exp.expire_at_ms!);
  assert.deepEqual([d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()], [2022, 12, 25]);
  assert.equal(d.getUTCSeconds(), 12);
  assert.equal(d.getUTCMilliseconds(), 573);

  const ik = load(rdbtools, 'integer_keys.rdb');
  const ints: [number, string][] = [
    [125, 'Positive 8 bit integer'],
    [0xabab, 'Positive 16 bit integer'],
    [0x0aedd325, 'Positive 32 bit integer'],
    [-123, 'Negative 8 bit integer'],
    [-0x7325, 'Negative 16 bit integer'],
    [-0x0aedd325, 'Negative 32 bit integer'],
  ];
  for (const [k, v] of ints) assert.equal(str(key(ik, String(k))), v);

  assert.equal(
    str(key(load(rdbtools, 'easily_compressible_string_key.rdb'), 'a'.repeat(200))),
    'Key that redis should compress easily',
  );
  const zmc = pairs(key(load(rdbtools, 'zipmap_that_compresses_easily.rdb'), 'zipmap_compresses_easily'));
  assert.deepEqual(
    zmc,
    new Map([
      ['a', 'aa'],
      ['aa', 'aaaa'],
      ['aaaaa', 'aaaaaaaaaaaaaa'],
    ]),
  );
  const zmn = pairs(key(load(rdbtools, 'zipmap_that_doesnt_compress.rdb'), 'zimap_doesnt_compress'));
  assert.equal(zmn.get('MKD1G6'), '2');
  assert.equal(zmn.get('YNNXK'), 'F7TI');
  const big = pairs(key(load(rdbtools, 'zipmap_with_big_values.rdb'), 'zipmap_with_big_values'));
  for (const n of [253, 254, 255, 300]) assert.equal(big.get(`${n}bytes`)?.length, n);
  assert.deepEqual(pairs(key(load(rdbtools, 'hash_as_ziplist.rdb'), 'zipmap_compresses_easily')), zmc);

  const dict = key(load(rdbtools, 'dictionary.rdb'), 'force_dictionary');
  const dm = pairs(dict);
  assert.equal(dm.size, 1000);
  assert.equal(
    dm.get('ZMU5WEJDG7KU89AOG5LJT6K7HMNB3DEI43M6EYTJ83VRJ6XNXQ'),
    'T63SOS8DQJF0Q0VJEZ0D1IQFCYTIPSBOUIAI9SB0OV57MQR1FI',
  );
  assert.equal(
    dm.get('UHS5ESW4HLK8XOGTM39IK1SJEUGVV9WOPK6JYA5QBZSJU84491'),
    '6VULTCV52FXJ8MGVSFTZVAGK2JXZMGQ5F8OVJI0X6GEDDR27RZ',
  );

  const zce = list(key(load(rdbtools, 'ziplist_that_compresses_easily.rdb'), 'ziplist_compresses_easily'));
  assert.deepEqual(
    zce,
    [6, 12, 18, 24, 30, 36].map((n) => 'a'.repeat(n)),
  );
  const zdc = list(key(load(rdbtools, 'ziplist_that_doesnt_compress.rdb'), 'ziplist_doesnt_compress'));
  assert.deepEqual(zdc.sort(), ['aj2410', 'cc953a17a8e096e76a44169ad3f9ac87c5f8248a403274416179aa9fbd852344']);
  const zwi = list(key(load(rdbtools, 'ziplist_with_integers.rdb'), 'ziplist_with_integers'));
  const nums = [...Array(13).keys()].map(String);
  nums.push('-2', '13', '25', '-61', '63', '16380', '-16000', '65535', '-65523', '4194304', '9223372036854775807');
  assert.deepEqual(zwi, nums);

  const ll = list(key(load(rdbtools, 'linkedlist.rdb'), 'force_linkedlist'));
  assert.equal(ll.length, 1000);
  assert.ok(ll.includes('JYY4GIFI0ETHKP4VAJF5333082J4R1UPNPLE329YT0EYPGHSJQ'));
  assert.ok(ll.includes('TKBXHJOX9Q99ICF4V78XTCA2Y1UYW6ERL35JCIL1O0KSGXS58S'));

  const intsets: [string, bigint][] = [
    ['intset_16', 0x7ffcn],
    ['intset_32', 0x7ffefffcn],
    ['intset_64', 0x7ffefffefffefffcn],
  ];
  for (const [name, low] of intsets) {
    const members = list(key(load(rdbtools, `${name}.rdb`), name));
    assert.deepEqual(members.sort(), [low, low + 1n, low + 2n].map(String).sort(), name);
  }
  assert.deepEqual(list(key(load(rdbtools, 'regular_set.rdb'), 'regular_set')).sort(), [
    'alpha',
    'beta',
    'delta',
    'gamma',
    'kappa',
    'phi',
  ]);
  const zz = pairs(key(load(rdbtools, 'sorted_set_as_ziplist.rdb'), 'sorted_set_as_ziplist'));
  assert.equal(zz.size, 3);
  assert.equal(Number(zz.get('8b6ba6718a786daefa69438148361901')), 1);
  assert.equal(Number(zz.get('cb7a24bb7528f934b841b34c3a73e0c7')), 2.37);
  assert.equal(Number(zz.get('523af537946b79c4f8369ed39ba78605')), 3.423);

  const pf = load(rdbtools, 'parser_filters.rdb');
  assert.equal(str(key(pf, 'k1')), 'ssssssss');
  assert.equal(str(key(pf, 'k3')), 'wwwwwwww');
  assert.deepEqual(
    pf.records.filter((r) => r.type === 'zset').map((r) => txt(r.key_b64)),
    ['z1', 'z2', 'z3', 'z4'],
  );

  const v5 = load(rdbtools, 'rdb_version_5_with_checksum.rdb');
  const v5want = { abcd: 'efgh', foo: 'bar', bar: 'baz', abcdef: 'abcdef' };
  for (const [k, v] of Object.entries(v5want)) assert.equal(str(key(v5, k)), v);
  assert.equal(str(key(v5, 'longerstring')), 'thisisalongerstring.idontknowwhatitmeans');

  const v8 = load(rdbtools, 'rdb_version_8_with_64b_length_and_scores.rdb');
  assert.equal(str(key(v8, 'foo')), 'bar');
  const bigset = pairs(key(v8, 'bigset'));
  assert.equal(bigset.size, 1000);
  assert.equal(Number(bigset.get('finalfield')), 2.718);
});

test('redis-rdb-tools module, module aux and stream dumps', () => {
  const events = parseWhole(readFileSync(join(rdbtools, 'redis_40_with_module.rdb')));
  const mod = events.find((e) => e.kind === 'module');
  assert.ok(mod && mod.kind === 'module');
  assert.equal(mod.value.name, 'ReJSON-RL');
  assert.equal(mod.value.raw[0], 0x81, 'raw starts with the 64-bit module id');
  assert.equal(mod.value.raw.readBigUInt64BE(1), mod.value.moduleId);

  const aux = parseWhole(readFileSync(join(rdbtools, 'redis_60_with_module_aux.rdb'))).find(
    (e) => e.kind === 'module-aux',
  );
  assert.ok(aux && aux.kind === 'module-aux');
  assert.equal(aux.module.name, 'test__rdb');
  assert.equal(aux.when, 2);

  const s = load(rdbtools, 'redis_50_with_streams.rdb');
  const st = key(s, 'mystream').value as { length: number; entries: unknown[] };
  assert.equal(st.length, 4);
  assert.equal(st.entries.length, 4);
});

test('AOF files with an RDB preamble: the RDB part parses, the commands after it are left as trailing bytes', () => {
  const files = [
    join(redisAssets, 'rdb-preamble.aof'),
    join(redisAssets, '..', '..', 'aof', 'redis-6.2-preamble', 'appendonly.aof'),
  ];
  for (const file of files) {
    const data = readFileSync(file);
    for (const step of [data.length, 5]) {
      const p = new RdbParser();
      const events: RdbEvent[] = [];
      for (let i = 0; i < data.length; i += step) events.push(...p.push(data.subarray(i, i + step)));
      events.push(...p.end());
      assert.equal(p.done, true);
      const end = events.at(-1)!;
      assert.ok(end.kind === 'end' && end.checksum && end.checksum.stored === end.checksum.computed);
      const tail = p.trailing();
      assert.equal(tail.length, data.length - p.offset, basename(file));
      assert.equal(tail.toString('latin1', 0, 2), '*2', basename(file));
      const aux = new RecordBuilder().add(events).finish().aux;
      assert.equal(aux['aof-preamble'], '1');
    }
  }
});
