/**
 * Our Redis glob (src/transforms/glob.ts) against a live redis-server's own matcher (KEYS pattern):
 * hand-picked edge cases (classes, negation, ranges both ways, escapes, unterminated classes) and
 * random patterns over a small alphabet of special bytes, on keys that include binary bytes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatch } from '../../src/transforms/glob.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import type { Redis } from 'ioredis';

let server: RedisServer;
let c: Redis;
const keys: Buffer[] = [];

before(async () => {
  server = await startRedis();
  c = server.client();
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
  const alphabet = Buffer.from('ab-]^[\\*?c');
  const seen = new Set<string>();
  const add = (k: Buffer) => {
    if (!seen.has(k.toString('hex'))) {
      seen.add(k.toString('hex'));
      keys.push(k);
    }
  };
  for (const s of ['hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'user:1:name', 'user:22:name', 'a*b', 'a\\b', 'x'])
    add(Buffer.from(s));
  add(Buffer.from([0x00]));
  add(Buffer.from([0xff, 0x80, 0x61]));
  add(Buffer.from([0x61, 0xe9]));
  for (let i = 0; i < 250; i++) {
    const len = 1 + rnd(6);
    const k = Buffer.alloc(len);
    for (let j = 0; j < len; j++) k[j] = rnd(8) === 0 ? rnd(256) : (alphabet[rnd(alphabet.length)] as number);
    add(k);
  }
  const p = c.pipeline();
  for (const k of keys) p.set(k, '1');
  await p.exec();
});
after(async () => {
  c?.disconnect();
  await server?.stop();
});

async function check(pattern: Buffer): Promise<void> {
  const theirs = ((await c.callBuffer('KEYS', pattern)) as Buffer[]).map((k) => k.toString('hex')).sort();
  const ours = keys
    .filter((k) => globMatch(pattern, k))
    .map((k) => k.toString('hex'))
    .sort();
  assert.deepEqual(ours, theirs, `pattern ${JSON.stringify(pattern.toString('latin1'))} (${pattern.toString('hex')})`);
}

test('edge-case patterns match exactly what KEYS matches', async () => {
  const patterns = [
    '*',
    'h?llo',
    'h*llo',
    'h[ae]llo',
    'h[^e]llo',
    'h[a-b]llo',
    'h[b-a]llo',
    'user:*:name',
    'a\\*b',
    'a\\\\b',
    'a\\',
    '[',
    '[a',
    '[\\]]*',
    '*[]*',
    '[a-]*',
    '[]]',
    '[^]*',
    '\\',
    '*\\',
    '[\\',
    '**a**',
    '?',
    '??',
    '*?*?*',
    '[*]*',
    'a[-]*',
    '[z-a]*',
    '[^a-c]',
    'x*',
    '*c',
  ];
  for (const p of patterns) await check(Buffer.from(p, 'latin1'));
  // bytes above 0x7f inside ranges compare as signed chars, like the C code
  await check(Buffer.from([0x5b, 0x80, 0x2d, 0xff, 0x5d, 0x2a]));
  await check(Buffer.from([0x5b, 0x00, 0x2d, 0xff, 0x5d, 0x2a]));
  await check(Buffer.from([0x61, 0x5b, 0xe0, 0x2d, 0xf0, 0x5d]));
});

test('300 random patterns over special bytes match exactly what KEYS matches', async () => {
  let seed = 4242;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
  const alphabet = Buffer.from('ab-]^[\\*?c');
  for (let i = 0; i < 300; i++) {
    const len = 1 + rnd(7);
    const p = Buffer.alloc(len);
    for (let j = 0; j < len; j++) p[j] = alphabet[rnd(alphabet.length)] as number;
    await check(p);
  }
});

test('no blow-up on many stars', () => {
  const started = Date.now();
  assert.equal(globMatch(Buffer.from('*a*a*a*a*a*a*a*a*a*a*b'), Buffer.alloc(5000, 0x61)), false);
  assert.ok(Date.now() - started < 1000);
});
