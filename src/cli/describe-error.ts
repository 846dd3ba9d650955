/**
 * Turns any error into the one line a user sees: RdbError/RespError with their byte offsets, config
 * errors as written, system errors (ENOENT, ECONNREFUSED, ...) with their message. No stack here.
 */
import { RdbError } from '@shake/rdb';
import { RespError } from '@shake/resp';
import { ConfigError } from '../config/errors.js';

export function describeError(err: unknown): string {
  if (err instanceof RdbError) return `bad RDB: ${err.describe()}`;
  if (err instanceof RespError) {
    const byte = err.byte === undefined ? '' : ` (byte 0x${err.byte.toString(16).padStart(2, '0')})`;
    return `bad RESP: ${err.message} at byte ${err.offset}${byte}`;
  }
  if (err instanceof ConfigError) return `config: ${err.message}`;
  if (err instanceof Error) return hint(oneLine(err.message || err.name));
  return oneLine(String(err));
}

/** oclif's own parse errors, in the words of this tool. */
function hint(line: string): string {
  const pw = /Nonexistent flags?: --(source-|target-)?pass(word)?\b/.exec(line);
  if (pw) {
    const side = pw[1] === 'source-' ? 'SOURCE' : pw[1] === 'target-' ? 'TARGET' : '<SOURCE|TARGET>';
    return (
      `${line}: a password is not a flag; set SHAKE_${side}_PASSWORD or password in [source]/[target] of the ` +
      'config file (redis://user:password@host works too, but shows in the process list)'
    );
  }
  const missing = /Missing required flag:? ?(\w[\w-]*)/.exec(line);
  if (missing) return `missing --${missing[1]} (see --help)`;
  return line;
}

function oneLine(s: string): string {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^See more help with/.test(l))
    .join(' ');
}
