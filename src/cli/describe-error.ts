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
  if (err instanceof Error) return oneLine(err.message || err.name);
  return oneLine(String(err));
}

function oneLine(s: string): string {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^See more help with/.test(l))
    .join(' ');
}
