import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespDecoder, RespError } from '@shake/resp';
import { prng, randomInt } from '../helpers/prng.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A valid stream touching every type (RESP3 spec examples). */
const VALID = b(
  '+OK\r\n-ERR x\r\n:123\r\n:-9223372036854775808\r\n$5\r\nhe\r\no\r\n$-1\r\n*-1\r\n*3\r\n$1\r\na\r\n*1\r\n:1\r\n_\r\n' +
    '#t\r\n,1.5e3\r\n,inf\r\n(123456789012345678901234567890\r\n!3\r\nERR\r\n=7\r\ntxt:abc\r\n' +
    '%1\r\n+k\r\n~2\r\n:1\r\n:2\r\n>2\r\n+p\r\n:1\r\n|1\r\n+a\r\n:1\r\n+after\r\n',
);

const rnd = prng(0x2545f491);
const rand = (n: number): number => randomInt(rnd, n);

/** Feeds input in random chunks; returns replies seen; anything thrown must be a RespError. */
function feed(input: Buffer, opts: { snapshot?: boolean } = {}): number {
  let replies = 0;
  const d = new RespDecoder({
    onReply: () => replies++,
    onPush: () => replies++,
    maxBulkLength: 1 << 20,
    bulkStreamThreshold: 4,
    onBulkChunk: () => {},
  });
  if (opts.snapshot) d.expectSnapshot({ onSnapshotStart() {}, onSnapshotChunk() {}, onSnapshotEnd() {} });
  try {
    for (let pos = 0; pos < input.length;) {
      const n = 1 + rand(16);
      d.write(input.subarray(pos, pos + n));
      pos += n;
    }
  } catch (e) {
    assert.ok(e instanceof RespError, `only RespError may be thrown, got ${String(e)}`);
    assert.ok(e.offset >= 0 && e.offset <= input.length, `offset ${e.offset} within input`);
  }
  return replies;
}

test('fuzz: random bytes never hang and only throw RespError', () => {
  const alphabet = b('+-:$*_,#!=(%~>|\r\n0123456789-?tfinaEOF:x');
  const started = Date.now();
  for (let i = 0; i < 20_000; i++) {
    const len = 1 + rand(64);
    const buf = Buffer.allocUnsafe(len);
    for (let j = 0; j < len; j++) buf[j] = i % 2 ? rand(256) : alphabet[rand(alphabet.length)]!;
    feed(buf, { snapshot: i % 5 === 0 });
  }
  assert.ok(Date.now() - started < 20_000);
});

test('fuzz: every truncation of a valid stream gives a prefix of its replies and never throws', () => {
  assert.equal(feed(VALID), 16); // the 5-byte bulk is streamed there, not a reply
  const full = 17;
  let last = 0;
  for (let cut = 0; cut <= VALID.length; cut++) {
    let replies = 0;
    const d = new RespDecoder({ onReply: () => replies++, onPush: () => replies++ });
    d.write(VALID.subarray(0, cut));
    assert.ok(replies >= last && replies <= full);
    last = replies;
  }
  assert.equal(last, full);
});

test('fuzz: byte flips of a valid stream only ever throw RespError', () => {
  for (let i = 0; i < 5_000; i++) {
    const buf = Buffer.from(VALID);
    for (let k = 0; k <= rand(3); k++) buf[rand(buf.length)] = rand(256);
    feed(buf, { snapshot: i % 7 === 0 });
  }
});
