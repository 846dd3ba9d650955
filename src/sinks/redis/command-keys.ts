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
