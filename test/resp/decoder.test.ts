import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespDecoder, RespError, RespServerError } from '@shake/resp';
import { assertAllSplits, recordingDecoder, type Event, type Plain } from './feed.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const bulk = (s: string): Plain => ({ bulk: s });
const reply = (p: Plain): Event => ['reply', p];

// Each case: wire bytes (from the RESP2/RESP3 specifications) and the value they stand for.
const CASES: Array<[string, Plain]> = [
  ['+OK\r\n', 'OK'],
  ['+hello world\r\n', 'hello world'],
  ['+\r\n', ''],
  ['-ERR unknown command\r\n', { error: 'ERR unknown command', code: 'ERR' }],
  ['-WRONGTYPE Operation against a key\r\n', { error: 'WRONGTYPE Operation against a key', code: 'WRONGTYPE' }],
  [':0\r\n', 0],
  [':-123\r\n', -123],
  [':+42\r\n', 42],
  [':9007199254740991\r\n', 9007199254740991],
  [':9007199254740993\r\n', 9007199254740993n],
  [':-9223372036854775808\r\n', -9223372036854775808n],
  [':1234567890123456\r\n', 1234567890123456],
  ['$5\r\nhello\r\n', bulk('hello')],
  ['$0\r\n\r\n', bulk('')],
  ['$-1\r\n', null],
  ['$8\r\na\r\nb\x00\xff\r\n\r\n', bulk('a\r\nb\x00\xff\r\n')],
  ['*0\r\n', []],
  ['*-1\r\n', null],
  ['*2\r\n$3\r\nfoo\r\n:1\r\n', [bulk('foo'), 1]],
  ['*3\r\n*1\r\n*0\r\n$-1\r\n*2\r\n+a\r\n-ERR x\r\n', [[[]], null, ['a', { error: 'ERR x', code: 'ERR' }]]],
  ['_\r\n', null],
  ['#t\r\n', true],
  ['#f\r\n', false],
  [',3.14\r\n', 3.14],
  [',-1.5e3\r\n', -1500],
  [',10\r\n', 10],
  [',inf\r\n', Infinity],
  [',-inf\r\n', -Infinity],
  [',nan\r\n', { nan: true }],
  ['(3492890328409238509324850943850943825024385\r\n', 3492890328409238509324850943850943825024385n],
  ['(-12\r\n', -12n],
  ['!21\r\nSYNTAX invalid syntax\r\n', { error: 'SYNTAX invalid syntax', code: 'SYNTAX' }],
  ['=15\r\ntxt:Some string\r\n', { verbatim: 'txt', text: 'Some string' }],
  [
    '%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n',
    {
      map: [
        ['first', 1],
        ['second', 2],
      ],
    },
  ],
  ['%0\r\n', { map: [] }],
  ['~3\r\n+a\r\n:1\r\n#f\r\n', ['a', 1, false]],
  ['*2\r\n>2\r\n+nested\r\n:1\r\n:2\r\n', [['nested', 1], 2]],
];

test('every RESP2/RESP3 type: whole, byte by byte, split at every boundary', () => {
  for (const [wire, value] of CASES) assertAllSplits(b(wire), [reply(value)]);
});

test('all cases back to back in one stream, under every split', () => {
  const wire = b(CASES.map(([w]) => w).join(''));
  assertAllSplits(
    wire,
    CASES.map(([, v]) => reply(v)),
  );
});

test('push goes to onPush, attributes to onAttribute (top level and nested)', () => {
  const wire = b(
    '>3\r\n+message\r\n+chan\r\n$5\r\nhello\r\n' +
      '|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n' +
      '*2\r\n:2039123\r\n:9543892\r\n' +
      '*3\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n:3\r\n',
  );
  assertAllSplits(wire, [
    ['push', ['message', 'chan', bulk('hello')]],
    [
      'attr',
      {
        map: [
          [
            'key-popularity',
            {
              map: [
                [bulk('a'), 0.1923],
                [bulk('b'), 0.0012],
              ],
            },
          ],
        ],
      },
    ],
    reply([2039123, 9543892]),
    ['attr', { map: [['ttl', 3600]] }],
    reply([1, 2, 3]),
  ]);
});

test('without onPush a push is an ordinary reply; mapAs pairs gives [key, value] arrays', () => {
  const events: Event[] = [];
  const d = new RespDecoder({
    onReply: (v) => events.push(['reply', v instanceof Array ? v.length : String(v)]),
    mapAs: 'pairs',
  });
  d.write(b('>2\r\n+a\r\n+b\r\n'));
  let pairs: unknown;
  const d2 = new RespDecoder({ onReply: (v) => (pairs = v), mapAs: 'pairs' });
  d2.write(b('%2\r\n+k\r\n:1\r\n+j\r\n:2\r\n'));
  assert.deepEqual(events, [['reply', 2]]);
  assert.deepEqual(pairs, [
    ['k', 1],
    ['j', 2],
  ]);
});

test('error replies are values with a code, never thrown', () => {
  const got: unknown[] = [];
  const d = new RespDecoder({ onReply: (v) => got.push(v) });
  d.write(b('-MOVED 3999 127.0.0.1:6381\r\n+OK\r\n'));
  assert.ok(got[0] instanceof RespServerError);
  assert.equal((got[0] as RespServerError).code, 'MOVED');
  assert.equal(got[1], 'OK');
});

test('bulk strings that fit in the chunk are zero-copy views of it', () => {
  const wire = b('*2\r\n$3\r\nfoo\r\n$3\r\nbar\r\n');
  let value: Buffer[] = [];
  const d = new RespDecoder({ onReply: (v) => (value = v as Buffer[]) });
  d.write(wire);
  assert.equal(value[0]!.buffer, wire.buffer);
  wire[8] = 0x46; // 'F'
  assert.equal(value[0]!.toString(), 'Foo');
});

test('streaming: a top-level bulk above the threshold comes in pieces; nested and small ones do not', () => {
  const big = 'x'.repeat(50) + '\r\n' + 'y'.repeat(48);
  const wire = b(`$100\r\n${big}\r\n$3\r\nabc\r\n*1\r\n$20\r\n${'z'.repeat(20)}\r\n:7\r\n`);
  const make = (ev: Event[]) => recordingDecoder(ev, { bulkStreamThreshold: 10 }).decoder;
  assertAllSplits(
    wire,
    [
      ['bulk-start', 100],
      ['bulk-chunk', big],
      ['bulk-end'],
      reply(bulk('abc')),
      reply([bulk('z'.repeat(20))]),
      reply(7),
    ],
    make,
  );
});

test('streaming bulk: the pieces are views and no piece is empty', () => {
  const payload = Buffer.alloc(1000, 7);
  const wire = Buffer.concat([b('$1000\r\n'), payload, b('\r\n')]);
  const pieces: Buffer[] = [];
  const d = new RespDecoder({ onReply: () => {}, bulkStreamThreshold: 0, onBulkChunk: (p) => pieces.push(p) });
  for (let i = 0; i < wire.length; i += 97) d.write(wire.subarray(i, i + 97));
  assert.ok(pieces.every((p) => p.length > 0 && p.buffer === wire.buffer));
  assert.deepEqual(Buffer.concat(pieces), payload);
});

test('skipNewlines: keepalive empty lines between replies are skipped and counted in offset', () => {
  const wire = b('\n\n\r\n+FULLRESYNC abc 0\r\n\n:1\r\n');
  const make = (ev: Event[]) => recordingDecoder(ev, { skipNewlines: true }).decoder;
  assertAllSplits(wire, [reply('FULLRESYNC abc 0'), reply(1)], make);
  assert.throws(() => new RespDecoder({ onReply: () => {} }).write(b('\r\n')), RespError);
});

test('offset is the end of the last complete reply, also inside onReply', () => {
  const offsets: number[] = [];
  const d: RespDecoder = new RespDecoder({ onReply: () => offsets.push(d.offset) });
  d.write(b('+OK\r\n:1'));
  assert.equal(d.offset, 5);
  d.write(b('2\r\n*2\r\n:1\r\n'));
  assert.equal(d.offset, 10);
  assert.equal(d.idle, false);
  d.write(b(':2\r\n'));
  assert.deepEqual(offsets, [5, 10, 22]);
  assert.equal(d.bytesReceived, 22);
});

test('deep nesting is bounded by maxNesting, and a huge allowed depth does not recurse', () => {
  assert.throws(
    () => new RespDecoder({ onReply: () => {} }).write(b('*1\r\n'.repeat(129) + ':1\r\n')),
    (e: unknown) => e instanceof RespError && /maxNesting/.test(e.message) && e.offset === 128 * 4,
  );
  const depth = 200_000;
  let got: unknown;
  const d = new RespDecoder({ onReply: (v) => (got = v), maxNesting: Infinity });
  d.write(b('*1\r\n'.repeat(depth) + ':1\r\n'));
  let level = 0;
  let cur = got;
  while (Array.isArray(cur)) {
    cur = cur[0];
    level++;
  }
  assert.equal(level, depth);
  assert.equal(cur, 1);
});

test('limits: bulk length, aggregate length, line length', () => {
  const mk = () => new RespDecoder({ onReply: () => {}, maxBulkLength: 10, maxArrayLength: 3, maxLineLength: 8 });
  assert.throws(() => mk().write(b('$11\r\n')), /maxBulkLength/);
  assert.throws(() => mk().write(b('*4\r\n')), /maxArrayLength/);
  assert.throws(() => mk().write(b('%2\r\n')), /maxArrayLength/);
  assert.throws(() => mk().write(b('+123456789012')), /maxLineLength/);
  const d = mk();
  d.write(b('+1234'));
  assert.throws(() => d.write(b('5678901\r\n')), /maxLineLength/);
  mk().write(b('+12345678\r\n'));
});

test('protocol violations throw RespError with the offset and the offending byte', () => {
  const bad: Array<[string, number, number | undefined]> = [
    ['+OK\r\n?x\r\n', 5, 0x3f],
    ['+OK\n', 2, 0x4b],
    [':12a\r\n', 3, 0x61],
    ['$3\r\nabcX\r\n', 7, 0x58],
    ['$3\r\nabc\rX', 8, 0x58],
    ['*1\r\n#x\r\n', 5, 0x78],
    ['$-2\r\n', 1, 0x2d],
    ['!-1\r\n', 1, 0x2d],
    ['$?\r\n', 1, 0x3f],
    ['_x\r\n', 1, 0x78],
    ['\r\n', 0, 0x0d],
  ];
  for (const [wire, offset, byte] of bad) {
    for (const split of [0, 1, 3]) {
      const d = new RespDecoder({ onReply: () => {} });
      const w = b(wire);
      assert.throws(
        () => {
          if (split > 0 && split < w.length) {
            d.write(w.subarray(0, split));
            d.write(w.subarray(split));
          } else d.write(w);
        },
        (e: unknown) => e instanceof RespError && e.offset === offset && e.byte === byte,
        `${JSON.stringify(wire)} split ${split}`,
      );
      assert.throws(() => d.write(b('+OK\r\n')), RespError, 'a failed decoder stays failed');
    }
  }
});
