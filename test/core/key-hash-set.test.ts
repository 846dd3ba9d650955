/**
 * KeyHashSet (the RDB file source's record of its keys in a check, the scan source's repeats): every key added is found, in
 * its own db only, across many table growths; keys never added are not found (but for a 2^-64 collision).
 * 300,000 keys: the set once walked from a negative start slot on half of its inserts (quadratic: a 200k-key
 * file check took minutes); this test would not finish then.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyHashSet } from '../../src/core/key-hash-set.js';

test('KeyHashSet: 300,000 keys in two dbs, all found, none other', () => {
  const set = new KeyHashSet();
  const key = (i: number): Buffer => Buffer.from(`user:${i}:${(i * 2654435761) >>> 0}`);
  const n = 300_000;
  for (let i = 0; i < n; i++) set.add(i % 2, key(i));
  for (let i = 0; i < n; i += 7) set.add(i % 2, key(i)); // again: no double count
  assert.equal(set.size, n);
  let found = 0;
  let wrongDb = 0;
  let absent = 0;
  for (let i = 0; i < n; i++) {
    if (set.has(i % 2, key(i))) found++;
    if (set.has(1 - (i % 2), key(i))) wrongDb++;
    if (set.has(i % 2, key(n + i))) absent++;
  }
  assert.equal(found, n);
  assert.equal(wrongDb, 0);
  assert.equal(absent, 0);
  assert.equal(set.has(0, Buffer.alloc(0)), false);
});

test('KeyHashSet.add: true the first time, false for every repeat (the scan source drops SCAN repeats by it)', () => {
  const d = new KeyHashSet();
  for (let i = 0; i < 300_000; i++) assert.equal(d.add(0, Buffer.from(`key:${i}`)), true);
  for (let i = 0; i < 300_000; i += 7) assert.equal(d.add(0, Buffer.from(`key:${i}`)), false);
  assert.equal(d.add(0, Buffer.alloc(0)), true);
  assert.equal(d.add(0, Buffer.alloc(0)), false);
  assert.equal(d.add(0, Buffer.from([0])), true);
  assert.equal(d.size, 300_002);
});
