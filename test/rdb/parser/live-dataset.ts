/**
 * A deterministic dataset covering every encoding Redis 7.0 saves: written into a live server by the
 * live parser test, which then SAVEs and compares our parse of dump.rdb with what the server returns.
 */
import type { Redis } from 'ioredis';
import { INT_EDGES } from '../../helpers/int-edges.js';
import { prng } from './util.js';

type Cmd = (string | number | Buffer)[];

export async function fillDataset(c: Redis): Promise<void> {
  const rnd = prng(20240607);
  const word = (n: number): string =>
    Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz'[Math.floor(rnd() * 26)]).join('');
  const bin = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  const cmds: Cmd[] = [];

  // Strings: int encodings at their boundaries, raw, LZF-compressible, binary, empty, int-looking non-ints.
  for (const v of INT_EDGES) {
    cmds.push(['SET', `str:int:${v}`, String(v)]);
  }
  for (const v of ['007', '+5', ' 3', '-0', '9223372036854775808', '1e3']) cmds.push(['SET', `str:notint:${v}`, v]);
  cmds.push(['SET', 'str:empty', '']);
  cmds.push(['SET', 'str:raw', word(40)]);
  cmds.push(['SET', 'str:lzf', 'abc'.repeat(4000)]);
  cmds.push(['SET', 'str:random', bin(20000)]);
  cmds.push(['SET', bin(30), 'binary key']);
  cmds.push(['SET', 'k'.repeat(3000), 'long compressible key']);
  cmds.push(['SET', 'str:ttl', 'x', 'PXAT', 4102444800123]);

  // Lists: small (one listpack node), many nodes with compress depth 1 (LZF nodes), PLAIN nodes.
  cmds.push(['RPUSH', 'list:small', 'a', '1', '-5', '1000000', word(10)]);
  const big: string[] = [];
  for (let i = 0; i < 3000; i++) big.push(i % 3 === 0 ? String(i * 7) : `item:${i}:${'z'.repeat(i % 50)}`);
  for (let i = 0; i < big.length; i += 500) cmds.push(['RPUSH', 'list:big', ...big.slice(i, i + 500)]);
  cmds.push(['RPUSH', 'list:ttl', 'a', 'b']);
  cmds.push(['PEXPIREAT', 'list:ttl', 4102444800999]);

  // Sets: intsets of 16/32/64-bit members, hashtable sets (many ints, strings, long members).
  cmds.push(['SADD', 'set:int16', 1, 2, 3, -32000, 32000]);
  cmds.push(['SADD', 'set:int32', 1, 70000, -2000000000]);
  cmds.push(['SADD', 'set:int64', 1, '9223372036854775807', '-9223372036854775808', 5000000000]);
  cmds.push(['SADD', 'set:strings', ...Array.from({ length: 20 }, (_, i) => `m${i}`)]);
  cmds.push(['SADD', 'set:manyints', ...Array.from({ length: 700 }, (_, i) => i * 3)]);
  cmds.push(['SADD', 'set:long', 'x'.repeat(100), 'y', bin(70)]);

  // Sorted sets: listpack and skiplist, special scores.
  cmds.push(['ZADD', 'zset:small', 1, 'a', 2.5, 'b', -3, 'c', '+inf', 'd', '-inf', 'e', 0.1, 'f']);
  const zargs: (string | number)[] = [];
  for (let i = 0; i < 400; i++) zargs.push(i % 7 === 0 ? 1.5 : (rnd() - 0.5) * 1e6, `member:${i}`);
  zargs.push('inf', 'top', '-inf', 'bottom', '1e300', 'huge', '5e-324', 'tiny', '9007199254740993', 'twopow');
  cmds.push(['ZADD', 'zset:big', ...zargs]);
  cmds.push(['ZADD', 'zset:longmember', 1, 'q'.repeat(200)]);

  // Hashes: listpack (with int values and empty field/value), hashtable by count and by value size.
  cmds.push(['HSET', 'hash:small', 'a', '1', 'b', 'two', '', 'empty-field', 'empty-value', '', 'n', '-42']);
  const hargs: string[] = [];
  for (let i = 0; i < 1500; i++) hargs.push(`field:${i}`, i % 2 ? String(i * 11) : word(1 + (i % 30)));
  cmds.push(['HSET', 'hash:big', ...hargs]);
  cmds.push(['HSET', 'hash:longvalue', 'f', 'v'.repeat(300)]);

  // Databases.
  cmds.push(['SELECT', 3], ['SET', 'str:raw', 'in db 3'], ['HSET', 'hash:small', 'x', 'y'], ['SELECT', 0]);

  for (let i = 0; i < cmds.length; i += 50) {
    const p = c.pipeline();
    for (const [name, ...args] of cmds.slice(i, i + 50)) p.call(String(name), ...args);
    const res = await p.exec();
    for (const [err] of res ?? []) if (err) throw err;
  }

  // PLAIN quicklist nodes: elements above the packed threshold.
  await c.call('DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '100');
  await c.call('RPUSH', 'list:plain', 'small', 'p'.repeat(500), 'also small', bin(1000));

  await fillStreams(c, word);
  await c.call(
    'FUNCTION',
    'LOAD',
    "#!lua name=livelib\nredis.register_function('live_echo', function(keys, args) return args[1] end)",
  );
}

async function fillStreams(c: Redis, word: (n: number) => string): Promise<void> {
  const x = (...args: (string | number)[]): Promise<unknown> => c.call(String(args[0]), ...args.slice(1));
  // Same fields (SAMEFIELDS entries), then varying fields; several listpack nodes.
  for (let i = 1; i <= 250; i++) {
    if (i % 10 === 0) await x('XADD', 'stream:main', `${1700000000000 + i}-0`, 'other', word(5), 'more', i);
    else await x('XADD', 'stream:main', `${1700000000000 + i}-0`, 'sensor', 'temp', 'value', i);
  }
  await x('XDEL', 'stream:main', '1700000000003-0', '1700000000120-0');
  await x('XGROUP', 'CREATE', 'stream:main', 'readers', '0');
  await x('XREADGROUP', 'GROUP', 'readers', 'alice', 'COUNT', 5, 'STREAMS', 'stream:main', '>');
  await x('XREADGROUP', 'GROUP', 'readers', 'bob', 'COUNT', 3, 'STREAMS', 'stream:main', '>');
  await x('XCLAIM', 'stream:main', 'readers', 'bob', 0, '1700000000001-0', 'TIME', 1700000123456, 'RETRYCOUNT', 3);
  await x('XGROUP', 'CREATECONSUMER', 'stream:main', 'readers', 'idle-carol');
  await x('XGROUP', 'CREATE', 'stream:main', 'latecomers', '$');
  // Everything deleted, a group left.
  await x('XADD', 'stream:emptied', '5-1', 'a', 'b');
  await x('XGROUP', 'CREATE', 'stream:emptied', 'g', '0');
  await x('XDEL', 'stream:emptied', '5-1');
  // Trimmed, and with a moved last id.
  for (let i = 0; i < 50; i++) await x('XADD', 'stream:trimmed', '*', 'n', i);
  await x('XTRIM', 'stream:trimmed', 'MAXLEN', 10);
  await x('XADD', 'stream:setid', '10-5', 'k', 'v');
  await x('XSETID', 'stream:setid', '99-9');
}
