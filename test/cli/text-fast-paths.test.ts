/**
 * The hand-written fast paths of the text sinks against what Node itself produces: base64 written into a
 * ByteBuilder vs Buffer's 'base64', integers vs String(n), ISO times vs Date.prototype.toISOString, and
 * scores written by writeScore vs formatScore (the documented spelling), for edge and random values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteBuilder } from '../../src/sinks/text/byte-builder.js';
import { isoTime, writeIsoTime } from '../../src/sinks/text/iso-time.js';
import { writeScore } from '../../src/sinks/text/byte-builder.js';
import { formatScore } from '../../src/rewrite/score.js';
import { prng } from '../rdb/parser/util.js';

function built(f: (o: ByteBuilder) => void): string {
  const o = new ByteBuilder(8); // tiny: every write also exercises growth
  f(o);
  return o.take().toString('latin1');
}

test('base64 into the builder = Buffer base64, every length 0..300 and every byte value', () => {
  const rnd = prng(7);
  for (let n = 0; n <= 300; n++) {
    const b = Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
    assert.equal(
      built((o) => o.base64(b)),
      b.toString('base64'),
      `length ${n}`,
    );
  }
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  assert.equal(
    built((o) => o.base64(all)),
    all.toString('base64'),
  );
});

test('integers written digit by digit = String(n)', () => {
  const rnd = prng(11);
  const values = [0, -0, 1, -1, 9, 10, 99, 100, 101, 2 ** 31, -(2 ** 31), 2 ** 32, Number.MAX_SAFE_INTEGER];
  values.push(Number.MIN_SAFE_INTEGER, 1e21, -1e21, 2 ** 53 + 2, 1.5);
  for (let i = 0; i < 20000; i++) values.push(Math.floor((rnd() * 2 - 1) * 10 ** Math.floor(rnd() * 16)));
  for (const v of values)
    assert.equal(
      built((o) => o.int(v)),
      String(v),
      String(v),
    );
});

test('ISO times written by hand = Date.toISOString (years 0000..9999, and the rest via Date)', () => {
  const rnd = prng(13);
  const values = [0, -1, 1, 951782400000, 951868799999, 4102444800000, -62167219200000, -62167219200001];
  values.push(253402300799999, 253402300800000, 8.64e15, -8.64e15, 8.64e15 + 1, -8.64e15 - 1, 0.5);
  for (let i = 0; i < 50000; i++) values.push(Math.floor((rnd() * 2 - 1) * 3e14));
  for (let i = 0; i < 5000; i++) values.push(Math.floor((rnd() * 2 - 1) * 9e15));
  for (const v of values) {
    const o = new ByteBuilder(8);
    const ok = writeIsoTime(o, v);
    const want = Math.abs(v) <= 8.64e15 ? new Date(v).toISOString() : null;
    assert.equal(ok ? o.take().toString('latin1') : null, want, String(v));
    assert.equal(isoTime(v), want);
  }
});

test('scores written through the cache = formatScore, including -0, 0, inf, nan and repeats', () => {
  const rnd = prng(17);
  const buf = Buffer.alloc(8);
  const values = [0, -0, Infinity, -Infinity, NaN, 1.5, -1.5, 0.1, 5e-324, 1e21, 2 ** 53, 2 ** 53 + 2, 3];
  for (let i = 0; i < 20000; i++) {
    for (let j = 0; j < 8; j++) buf[j] = Math.floor(rnd() * 256);
    values.push(buf.readDoubleLE(0), Math.floor(rnd() * 100) / 3, Math.floor(rnd() * 1e6));
  }
  for (let round = 0; round < 2; round++) {
    for (const v of values)
      assert.equal(
        built((o) => writeScore(o, v)),
        formatScore(v),
        String(v),
      );
  }
});

test('hash pairs: the plain-pair fast path and the per-string path write the same JSON', async () => {
  const { JsonRecordSink } = await import('../../src/sinks/text/json-records.js');
  const { TextOutput } = await import('../../src/sinks/text/output.js');
  const { jsonBytes } = await import('../../src/sinks/text/json-bytes.js');
  const { Writable } = await import('node:stream');
  const rnd = prng(23);
  const pick = (): Buffer => {
    const n = Math.floor(rnd() * 12);
    const kind = rnd();
    // mostly plain ASCII, sometimes a quote, a backslash, a control byte or UTF-8
    return Buffer.from(
      Array.from({ length: n }, () =>
        kind < 0.7 ? 0x61 + Math.floor(rnd() * 26) : [0x22, 0x5c, 0x0a, 0x00, 0xc3, 0xa9, 0x41][Math.floor(rnd() * 7)]!,
      ),
    );
  };
  const entries = Array.from({ length: 2000 }, (_, i) => ({
    field: pick(),
    value: pick(),
    ...(i % 7 === 0 ? { expireAtMs: 1700000000000 + i } : {}),
  }));
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  const sink = new JsonRecordSink(new TextOutput(w, false), { framing: 'jsonl', strings: 'auto' });
  const header = {
    db: 0,
    key: Buffer.from('h'),
    type: 'hash' as const,
    rdbType: 4,
    encoding: 'hashtable',
    expireAtMs: null,
    offset: 0,
  };
  await sink.write([
    { kind: 'key-start', header },
    { kind: 'hash-entries', entries },
    { kind: 'key-end', header },
  ]);
  await sink.close();
  const value = entries
    .map((e) => `[${jsonBytes(e.field)},${jsonBytes(e.value)}${e.expireAtMs === undefined ? '' : `,${e.expireAtMs}`}]`)
    .join(',');
  const want = `{"db":0,"key":"h","type":"hash","encoding":"hashtable","value":[${value}]}\n`;
  assert.equal(Buffer.concat(chunks).toString('utf8'), want);
});
