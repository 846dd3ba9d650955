/**
 * Sorted-set scores stored as text (RDB_TYPE_ZSET, rdbLoadDoubleValue): the parser's string-free fast path
 * for `[-]digits[.digits]` must give exactly what strtod gives, which for these forms is Number(text):
 * checked on edge cases and thousands of random decimals, through the public parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ZsetEntry } from '@shake/rdb';
import { len, rdbFile, str, u8 } from './build.js';
import { parseWhole, prng } from './util.js';

function zsetFile(scores: string[]): Buffer {
  const body: Buffer[] = [u8(0xfe), len(0), u8(3), str('z'), len(scores.length)];
  scores.forEach((s, i) => body.push(str(`m${i}`), u8(s.length), Buffer.from(s, 'latin1')));
  return rdbFile('REDIS', 9, body);
}

function parsedScores(scores: string[]): number[] {
  const out: number[] = [];
  for (const e of parseWhole(zsetFile(scores))) {
    if (e.kind === 'zset-entries') out.push(...e.entries.map((z: ZsetEntry) => z.score));
  }
  return out;
}

test('text scores: edge cases and random decimals read exactly as Number() reads them', () => {
  const texts = ['0', '-0', '1.', '.5', '-.5', '007', '1.5', '-1.25', '0.1', '0.3', '123456789012345'];
  texts.push('1234567890123456', '12345678901234567', '0.000000000000001', '99999999999999.9', '1e5', '-2.5e-3');
  texts.push('9007199254740993', '-999999999999999', '3.141592653589793', '100000000000000000000');
  const rnd = prng(5);
  for (let i = 0; i < 5000; i++) {
    const digits = String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 17)));
    const k = Math.floor(rnd() * (digits.length + 1));
    let t = rnd() < 0.7 ? `${digits.slice(0, k)}.${digits.slice(k)}` : digits;
    if (rnd() < 0.3) t = `-${t}`;
    if (t === '.' || t === '-.') continue;
    texts.push(t);
  }
  const got = parsedScores(texts);
  assert.equal(got.length, texts.length);
  texts.forEach((t, i) => assert.ok(Object.is(got[i], Number(t)), `${t}: got ${got[i]}, want ${Number(t)}`));
});
