import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bulkByteLength,
  commandByteLength,
  decimalLength,
  decodeCommands,
  encodeCommand,
  encodeCommandToBuffer,
  RespServerError,
  VerbatimString,
  writeArrayHeader,
  writeBulkHeader,
  writeCommand,
  writeDecimal,
  writeDecimalBulk,
} from '@shake/resp';
import { startRedis } from '../harness/redis-server.js';
import { exchange } from './live.js';

const binary = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0x24, 0x2a, 0x80, 0x0a]);

test('encodeCommand: header text with strings merged in, Buffers passed through untouched', () => {
  const value = Buffer.from('payload');
  const pieces = encodeCommand(['SET', 'k€y', value]);
  assert.deepEqual(pieces.slice(0, 1), ['*3\r\n$3\r\nSET\r\n$5\r\nk€y\r\n$7\r\n']);
  assert.equal(pieces[1], value, 'the Buffer itself, not a copy');
  assert.equal(pieces[2], '\r\n');
  const whole = Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  assert.deepEqual(whole, encodeCommandToBuffer(['SET', 'k€y', value]));
  assert.equal(commandByteLength(['SET', 'k€y', value]), whole.length);
  assert.equal(commandByteLength([]), 4);
  assert.deepEqual(encodeCommandToBuffer([]), Buffer.from('*0\r\n'));
});

test('encoder vs a live redis-server: binary keys and values round-trip, pipelined', async () => {
  const server = await startRedis();
  const client = server.client();
  try {
    const big = Buffer.alloc(100_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const cmds: Array<Array<string | Buffer>> = [
      ['SET', binary, binary],
      ['SET', 'ключ', 'значение'],
      ['SET', Buffer.from('big'), big],
      ['RPUSH', 'list', binary, '', Buffer.alloc(0), 'x'],
    ];
    const pieces = [
      ...encodeCommand(cmds[0]!),
      encodeCommandToBuffer(cmds[1]!),
      ...encodeCommand(cmds[2]!),
      ...encodeCommand(cmds[3]!),
      ...encodeCommand(['GET', binary]),
      ...encodeCommand(['LRANGE', 'list', '0', '-1']),
      ...encodeCommand(['GET', 'ключ']),
      ...encodeCommand(['GET', 'big']),
    ];
    const { replies } = await exchange(server.port, pieces, 8);
    assert.deepEqual(replies.slice(0, 4), ['OK', 'OK', 'OK', 4]);
    assert.deepEqual(replies[4], binary);
    assert.deepEqual(replies[5], [binary, Buffer.alloc(0), Buffer.alloc(0), Buffer.from('x')]);
    assert.equal((replies[6] as Buffer).toString(), 'значение');
    assert.ok((replies[7] as Buffer).equals(big));
    // and what an independent client reads back agrees
    assert.deepEqual(await client.getBuffer(binary), binary);
    assert.ok((await client.getBuffer('big'))?.equals(big));
    assert.equal(await client.get('ключ'), 'значение');
  } finally {
    client.disconnect();
    await server.stop();
  }
});

test('decoder vs a live redis-server: every RESP3 type from DEBUG PROTOCOL (debug.c)', async () => {
  const server = await startRedis({ config: { 'enable-debug-command': 'yes' } });
  try {
    const types = ['string', 'integer', 'double', 'bignum', 'null', 'array', 'set', 'map', 'attrib', 'push'];
    const more = ['true', 'false', 'verbatim'];
    const pieces = [
      ...encodeCommand(['HELLO', '3']),
      ...[...types, ...more].flatMap((t) => encodeCommand(['DEBUG', 'PROTOCOL', t])),
      ...encodeCommand(['NOSUCHCOMMAND']),
    ];
    // every type is one reply, except push which is a push then a reply
    const { replies, pushes, attributes } = await exchange(server.port, pieces, 1 + types.length + more.length + 1);
    const hello = replies[0] as Map<unknown, unknown>;
    assert.ok(hello instanceof Map);
    const proto = [...hello].find(([k]) => String(k) === 'proto');
    assert.equal(proto?.[1], 3);
    const [, str, int, dbl, bignum, nul, arr, set, map, attrib, afterPush, t, f, verbatim, err] = replies;
    assert.equal(String(str), 'Hello World');
    assert.equal(int, 12345);
    assert.equal(dbl, 3.141);
    assert.equal(bignum, 1234567999999999999999999999999999999n);
    assert.equal(nul, null);
    assert.deepEqual(arr, [0, 1, 2]);
    assert.deepEqual(set, [0, 1, 2]);
    assert.deepEqual(
      map,
      new Map<unknown, unknown>([
        [0, false],
        [1, true],
        [2, false],
      ]),
    );
    assert.equal(String(attrib), 'Some real reply following the attribute');
    assert.equal(attributes.length, 1);
    const [[akey, aval]] = [...(attributes[0] as Map<Buffer, unknown[]>)] as [[Buffer, unknown[]]];
    assert.equal(akey.toString(), 'key-popularity');
    assert.equal(String(aval[0]), 'key:123');
    assert.equal(aval[1], 90);
    assert.equal(pushes.length, 1);
    assert.equal(String(pushes[0]![0]), 'server-cpu-usage');
    assert.equal(pushes[0]![1], 42);
    assert.equal(String(afterPush), 'Some real reply following the push reply');
    assert.equal(t, true);
    assert.equal(f, false);
    assert.ok(verbatim instanceof VerbatimString);
    assert.equal(verbatim.format, 'txt');
    assert.equal(verbatim.toString(), 'This is a verbatim\nstring');
    assert.ok(err instanceof RespServerError);
    assert.equal(err.code, 'ERR');
  } finally {
    await server.stop();
  }
});

test('writeCommand fast paths (short ASCII, short Buffers) agree with the RESP spec at every size boundary', () => {
  const spec = (argv: Array<string | Buffer>): Buffer => {
    const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
    for (const a of argv) {
      const bytes = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
      parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
    }
    return Buffer.concat(parts);
  };
  const args: Array<string | Buffer> = [];
  for (const n of [0, 1, 9, 10, 63, 64, 65, 100, 1000]) {
    args.push('a'.repeat(n), 'é'.repeat(n), 'a'.repeat(Math.max(0, n - 1)) + '€', Buffer.alloc(n, 0xfe));
  }
  for (let i = 0; i < args.length; i++) {
    const argv = args.slice(i, i + 3);
    const expected = spec(argv);
    assert.deepEqual(encodeCommandToBuffer(argv), expected);
    assert.equal(commandByteLength(argv), expected.length);
    const target = Buffer.alloc(expected.length + 10, 0x58);
    assert.equal(writeCommand(target, 5, argv), 5 + expected.length);
    assert.deepEqual(target.subarray(5, 5 + expected.length), expected);
    const pieces = encodeCommand(argv).map((p) => (typeof p === 'string' ? Buffer.from(p) : p));
    assert.deepEqual(Buffer.concat(pieces), expected);
  }
});

test('writeArrayHeader / writeBulkHeader / writeDecimalBulk write what encodeCommand writes; decodeCommands reads it back', () => {
  for (const n of [0, 1, 9, 10, 99, 100, 65535, 1_733_000_000_000, Number.MAX_SAFE_INTEGER]) {
    const out = Buffer.alloc(64);
    let p = writeArrayHeader(out, 0, 2);
    p = writeBulkHeader(out, p, 3);
    p += out.write('TTL', p);
    out[p++] = 0x0d;
    out[p++] = 0x0a;
    p = writeDecimalBulk(out, p, n);
    const expected = encodeCommandToBuffer(['TTL', String(n)]);
    assert.deepEqual(out.subarray(0, p), expected, String(n));
    assert.equal(bulkByteLength(decimalLength(n)), expected.length - 4 - 9, String(n));
    assert.deepEqual(
      decodeCommands(Buffer.concat([expected, expected])).map((a) => a.map(String)),
      [
        ['TTL', String(n)],
        ['TTL', String(n)],
      ],
    );
  }
  assert.throws(() => decodeCommands(Buffer.from('*2\r\n$3\r\nTTL\r\n')), /truncated/);
  assert.throws(() => decodeCommands(Buffer.from(':1\r\n')), /not a command/);
});

test('writeDecimal / decimalLength agree with String(n) at every power-of-ten boundary and on random safe integers', () => {
  const values = [0x7fffffff, 0x80000000, Number.MAX_SAFE_INTEGER];
  for (let d = 0; d <= 16; d++) for (const v of [10 ** d - 1, 10 ** d, 10 ** d + 1]) values.push(v);
  for (let i = 0; i < 20_000; i++) values.push(Math.floor(Math.random() * 10 ** (i % 16)));
  const out = Buffer.alloc(32);
  for (const v of values.filter((x) => x >= 0 && x <= Number.MAX_SAFE_INTEGER)) {
    const end = writeDecimal(out, 3, v);
    assert.equal(out.toString('latin1', 3, end), String(v));
    assert.equal(decimalLength(v), String(v).length, String(v));
  }
});
