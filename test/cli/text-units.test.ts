/**
 * Units of the text formats: scores round-trip through their text exactly (and ZADD's spellings for the
 * special values), byte strings round-trip through their JSON form for every byte and random buffers
 * (and the byte-builder path writes the same JSON as the string path), and the record comparator used
 * by the fixture tests does report differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteBuilder } from '../../src/sinks/text/byte-builder.js';
import { bytesFromJson, isPrintableUtf8, jsonBytes, writeJsonBytes } from '../../src/sinks/text/json-bytes.js';
import { formatScore, parseScore } from '../../src/rewrite/score.js';
import { loadExpected } from '../helpers/load-records.js';
import type { KeyRecord } from '../helpers/records.js';
import { compareRecords } from '../helpers/compare-records.js';

test('scores: special values spelled as Redis does, everything else round-trips exactly', () => {
  assert.equal(formatScore(Infinity), 'inf');
  assert.equal(formatScore(-Infinity), '-inf');
  assert.equal(formatScore(-0), '-0');
  assert.equal(formatScore(0), '0');
  assert.equal(formatScore(0.1), '0.1');
  assert.equal(formatScore(5e-324), '5e-324');
  assert.ok(Object.is(parseScore('-0'), -0));
  const buf = Buffer.alloc(8);
  let seed = 3;
  for (let i = 0; i < 20000; i++) {
    for (let j = 0; j < 8; j++) buf[j] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const d = buf.readDoubleLE(0);
    if (Number.isNaN(d)) continue;
    assert.ok(Object.is(parseScore(formatScore(d)), d), String(d));
  }
});

function viaBuilder(b: Buffer, mode: 'auto' | 'base64'): string {
  const o = new ByteBuilder(16);
  writeJsonBytes(o, b, mode);
  return o.take().toString('utf8');
}

test('byte strings: every single byte and random buffers round-trip; both writers agree', () => {
  const cases: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from('café'),
    Buffer.from('a"b\\c\r\n\t'),
    Buffer.from([0xc2, 0x85]),
  ];
  for (let c = 0; c < 256; c++) cases.push(Buffer.from([c]), Buffer.from([0x61, c, 0x62]));
  let seed = 11;
  for (let i = 0; i < 2000; i++) {
    const n = (seed = (seed * 1103515245 + 12345) >>> 0) % 40;
    const b = Buffer.alloc(n);
    for (let j = 0; j < n; j++) b[j] = ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % (i % 2 ? 128 : 256);
    cases.push(b);
  }
  for (const b of cases) {
    for (const mode of ['auto', 'base64'] as const) {
      const text = jsonBytes(b, mode);
      assert.equal(viaBuilder(b, mode), text);
      const v: unknown = JSON.parse(text);
      assert.ok(bytesFromJson(v).equals(b), b.toString('hex'));
      if (mode === 'base64' || !isPrintableUtf8(b)) assert.equal(typeof v, 'object');
      else assert.equal(typeof v, 'string');
    }
  }
  assert.equal(jsonBytes(Buffer.from([0x00])), '{"base64":"AA=="}');
  assert.equal(jsonBytes(Buffer.from([0xc2, 0x85])), '{"base64":"woU="}', 'C1 control');
  assert.equal(jsonBytes(Buffer.from([0xff])), '{"base64":"/w=="}', 'invalid UTF-8');
});

test('the record comparator reports what differs', () => {
  const { records } = loadExpected('redis-7.2');
  assert.deepEqual(compareRecords(records, records), []);
  const mutate = (f: (r: KeyRecord[]) => void): string[] => {
    const copy = JSON.parse(JSON.stringify(records)) as KeyRecord[];
    f(copy);
    return compareRecords(copy, records);
  };
  assert.ok(mutate((r) => r.pop()).some((d) => d.includes(': missing')));
  assert.ok(
    mutate((r) => r.push({ ...(r[0] as KeyRecord), key_b64: 'bmV3' })).some((d) => / unexpected \w+ key$/.test(d)),
  );
  assert.ok(mutate((r) => ((r[0] as KeyRecord).expire_at_ms = 5)).length > 0);
  const zi = records.findIndex((r) => r.type === 'zset');
  assert.ok(
    mutate((r) => (((r[zi] as KeyRecord).value as string[][])[0] as string[]).splice(1, 1, '12345')).length > 0,
  );
  const si = records.findIndex((r) => r.type === 'stream' && (r.value as { groups: unknown[] }).groups.length > 0);
  assert.ok(
    mutate((r) =>
      (r[si]?.value as { groups: { last_delivered_id: string }[] }).groups.forEach(
        (g) => (g.last_delivered_id = '1-1'),
      ),
    ).length > 0,
  );
});
