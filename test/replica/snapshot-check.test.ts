import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SnapshotCheck, type SnapshotSummary } from '../../src/replica/snapshot-check.js';
import { fixtures, fixtureRdb } from '../dump/helpers.js';

const third = (name: string): Buffer => readFileSync(join(fixtures, 'third-party', 'rdbtools-dumps', name));

function run(chunks: Buffer[]): SnapshotSummary {
  const c = new SnapshotCheck();
  for (const ch of chunks) c.update(ch);
  return c.finish();
}

function splits(buf: Buffer): Buffer[][] {
  const out: Buffer[][] = [[buf], [...buf].map((b) => Buffer.from([b]))];
  for (let i = 1; i < buf.length; i++) out.push([buf.subarray(0, i), buf.subarray(i)]);
  return out;
}

describe('SnapshotCheck (header + CRC64 of a streamed RDB)', () => {
  const v9 = third('redis_50_with_streams.rdb');
  const v5 = third('rdb_version_5_with_checksum.rdb');
  const v3 = third('integer_keys.rdb');

  test('RDB 9 and 5: the stored CRC matches, whole, byte by byte and split at every boundary', () => {
    for (const [file, version] of [
      [v9, 9],
      [v5, 5],
    ] as const) {
      const stored = file.readBigUInt64LE(file.length - 8);
      for (const chunks of splits(file)) {
        const s = run(chunks);
        assert.equal(s.rdbVersion, version);
        assert.equal(s.magic, 'REDIS');
        assert.equal(s.checksum, stored);
        assert.equal(s.bytes, file.length);
      }
    }
  });

  test('the 7.0 fixture in 3-way random splits', () => {
    const file = readFileSync(fixtureRdb('redis-7.0'));
    let seed = 7;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 50; i++) {
      const a = rnd(file.length);
      const b = a + rnd(file.length - a);
      const s = run([file.subarray(0, a), file.subarray(a, b), file.subarray(b)]);
      assert.equal(s.rdbVersion, 10);
      assert.equal(s.checksum, file.readBigUInt64LE(file.length - 8));
    }
  });

  test('RDB 3 has no checksum: accepted when it ends with EOF', () => {
    for (const chunks of splits(v3)) assert.equal(run(chunks).checksum, null);
  });

  test('a zero checksum (rdbchecksum no) is accepted as "no checksum"', () => {
    const copy = Buffer.from(v9);
    copy.fill(0, copy.length - 8);
    assert.equal(run([copy]).checksum, null);
  });

  test('every flipped byte is caught (header, body, EOF opcode or checksum)', () => {
    for (let i = 0; i < v9.length; i++) {
      const copy = Buffer.from(v9);
      copy[i]! ^= 0x41;
      assert.throws(() => run([copy]), /CRC64|not an RDB|EOF opcode/, `flip at ${i}`);
    }
  });

  test('every truncation is caught', () => {
    for (let n = 0; n < v9.length; n++) {
      assert.throws(() => run([v9.subarray(0, n)]), Error, `truncated to ${n}`);
    }
  });

  test('garbage is not an RDB', () => {
    assert.throws(() => run([Buffer.from('+OK\r\nhello world, not an rdb at all')]), /not an RDB/);
  });
});
