/**
 * Which key a replayed write command (AOF, replication stream) touches, for routing it to the cluster node
 * that owns the key's slot. Nearly every write command has its first key at argv[1]; the exceptions are the
 * script/function calls (numkeys at argv[2]), XGROUP and BITOP (key at argv[2]) and commands without keys, which either go to every master
 * (FLUSHDB, FLUSHALL, FUNCTION, SCRIPT) or to any one node.
 */

export type CommandRoute = { kind: 'key'; key: Buffer } | { kind: 'all-masters' } | { kind: 'any' };

const KEYLESS_TO_ALL = new Set(['flushdb', 'flushall', 'function', 'script']);
const KEYLESS = new Set(['multi', 'exec', 'discard', 'select', 'swapdb', 'ping', 'publish', 'spublish', 'echo']);
const NUMKEYS_AT_2 = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);
/** A subcommand or operation first, then the key: XGROUP CREATE <key> ..., BITOP AND <destkey> ... */
const KEY_AT_2 = new Set(['xgroup', 'bitop']);

export function commandName(argv: readonly Buffer[]): string {
  const a = argv[0];
  return a ? a.toString('latin1').toLowerCase() : '';
}

export function commandRoute(argv: readonly Buffer[], name = commandName(argv)): CommandRoute {
  if (KEYLESS_TO_ALL.has(name)) return { kind: 'all-masters' };
  if (KEYLESS.has(name)) return { kind: 'any' };
  if (NUMKEYS_AT_2.has(name)) {
    const n = Number((argv[2] ?? Buffer.alloc(0)).toString('latin1'));
    const key = argv[3];
    return n > 0 && key ? { kind: 'key', key } : { kind: 'any' };
  }
  const key = KEY_AT_2.has(name) ? argv[2] : argv[1];
  return key ? { kind: 'key', key } : { kind: 'any' };
}

/**
 * Every key of a write command, as argv indexes, for selecting commands by key (the key filter). `group` says
 * the keys are independent of each other, so the command can be cut to a subset of them: 1 for DEL / UNLINK /
 * TOUCH (one key each), 2 for MSET / MSETNX (key + value); 0 when the keys belong together (RENAME, SMOVE,
 * SUNIONSTORE dst src..., ...). Commands the master propagates in another form (LMPOP as LPOP, BLMOVE as
 * LMOVE, MIGRATE as DEL) need no entry.
 */
export interface CommandKeys {
  at: number[];
  group: 0 | 1 | 2;
}

const ALL_FROM_1_INDEPENDENT = new Set(['del', 'unlink', 'touch']);
const ALL_FROM_1 = new Set(['sinterstore', 'sunionstore', 'sdiffstore', 'pfmerge']);
const PAIRS_FROM_1 = new Set(['mset', 'msetnx']);
const KEYS_1_2 = new Set([
  'rename',
  'renamenx',
  'copy',
  'smove',
  'lmove',
  'blmove',
  'rpoplpush',
  'brpoplpush',
  'zrangestore',
  'geosearchstore',
]);
const DEST_THEN_NUMKEYS = new Set(['zunionstore', 'zinterstore', 'zdiffstore']);
/** Commands with an optional STORE / STOREDIST <key> argument. */
const STORE_ARG = new Set(['sort', 'georadius', 'georadiusbymember']);

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

export function commandKeys(argv: readonly Buffer[], name = commandName(argv)): CommandKeys {
  const n = argv.length;
  if (ALL_FROM_1_INDEPENDENT.has(name)) return { at: range(1, n), group: 1 };
  if (PAIRS_FROM_1.has(name)) return { at: range(1, n).filter((i) => i % 2 === 1), group: 2 };
  if (ALL_FROM_1.has(name)) return { at: range(1, n), group: 0 };
  if (KEYS_1_2.has(name)) return { at: range(1, Math.min(n, 3)), group: 0 };
  if (name === 'bitop') return { at: range(2, n), group: 0 };
  if (DEST_THEN_NUMKEYS.has(name) || NUMKEYS_AT_2.has(name)) {
    const count = Number((argv[2] ?? Buffer.alloc(0)).toString('latin1')) || 0;
    const keys = range(3, Math.min(n, 3 + count));
    return { at: NUMKEYS_AT_2.has(name) ? keys : [1, ...keys], group: 0 };
  }
  if (STORE_ARG.has(name)) {
    const at = [1];
    for (let i = 2; i + 1 < n; i++) {
      if (/^store(dist)?$/i.test((argv[i] as Buffer).toString('latin1'))) at.push(i + 1);
    }
    return { at, group: 0 };
  }
  const route = commandRoute(argv, name);
  if (route.kind !== 'key') return { at: [], group: 0 };
  return { at: [KEY_AT_2.has(name) ? 2 : 1], group: 0 };
}

/**
 * The data type a command works on (its group in Redis's command table; bitmaps and HyperLogLogs are strings,
 * geo sets are sorted sets), or null for the generic keyspace commands (DEL, EXPIRE, RENAME, COPY, RESTORE,
 * SORT ...) that act on a key of any type.
 */
export type CommandDataType = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream';

const TYPE_OF = new Map<string, CommandDataType>();
function typed(type: CommandDataType, names: string): void {
  for (const n of names.split(' ')) TYPE_OF.set(n, type);
}
typed(
  'string',
  'set setnx setex psetex getset getdel getex append incr decr incrby decrby incrbyfloat mset msetnx setrange ' +
    'setbit bitop bitfield pfadd pfmerge pfcount pfdebug',
);
typed(
  'list',
  'lpush rpush lpushx rpushx lpop rpop blpop brpop linsert lset lrem ltrim lmove blmove rpoplpush brpoplpush ' +
    'lmpop blmpop',
);
typed('set', 'sadd srem spop smove sinterstore sunionstore sdiffstore');
typed(
  'zset',
  'zadd zincrby zrem zremrangebyscore zremrangebyrank zremrangebylex zpopmin zpopmax bzpopmin bzpopmax ' +
    'zunionstore zinterstore zdiffstore zrangestore zmpop bzmpop geoadd georadius georadiusbymember geosearchstore',
);
typed(
  'hash',
  'hset hsetnx hmset hdel hincrby hincrbyfloat hexpire hpexpire hexpireat hpexpireat hpersist hgetdel hgetex hsetex',
);
typed('stream', 'xadd xtrim xdel xgroup xack xclaim xautoclaim xsetid xreadgroup');

export function commandDataType(name: string): CommandDataType | null {
  return TYPE_OF.get(name) ?? null;
}
