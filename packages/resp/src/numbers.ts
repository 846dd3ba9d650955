/** Parsers for the numeric lines of RESP (`:`, `$`/`*` lengths, `,` doubles, `(` big numbers), straight from bytes. */
import { RespError } from './errors.js';

const ZERO = 0x30;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOUBLE_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const BIG_RE = /^[+-]?\d+$/;

/**
 * A length line (`$`, `*`, `%`, ...): `-1` or decimal digits. `abs` is the stream offset of `buf[start]`.
 * Returns -1 for the RESP2 null.
 */
export function parseLength(buf: Buffer, start: number, end: number, abs: number, what: string): number {
  if (end - start === 2 && buf[start] === MINUS && buf[start + 1] === ZERO + 1) return -1;
  if (end === start) throw new RespError(`empty ${what} length`, abs);
  if (end - start > 15) throw new RespError(`${what} length has too many digits`, abs);
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - ZERO;
    if (d < 0 || d > 9) throw new RespError(`bad digit in ${what} length`, abs + (i - start), buf[i]);
    n = n * 10 + d;
  }
  return n;
}

/** A `:` integer: a number, or a bigint when it is beyond Number.MAX_SAFE_INTEGER. */
export function parseInteger(buf: Buffer, start: number, end: number, abs: number): number | bigint {
  let i = start;
  let negative = false;
  if (buf[i] === MINUS) {
    negative = true;
    i++;
  } else if (buf[i] === PLUS) {
    i++;
  }
  if (i === end) throw new RespError('integer without digits', abs + (i - start));
  if (end - i > 15) {
    const text = buf.toString('latin1', start, end);
    if (!BIG_RE.test(text)) throw new RespError(`bad integer ${JSON.stringify(text)}`, abs);
    const big = BigInt(text);
    if (big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(big);
    return big;
  }
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i]! - ZERO;
    if (d < 0 || d > 9) throw new RespError('bad digit in integer', abs + (i - start), buf[i]);
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

/** A `,` double: decimal/exponent notation, `inf`, `-inf`, `nan` (any case). */
export function parseDouble(buf: Buffer, start: number, end: number, abs: number): number {
  const text = buf.toString('latin1', start, end);
  switch (text.toLowerCase()) {
    case 'inf':
    case '+inf':
      return Infinity;
    case '-inf':
      return -Infinity;
    case 'nan':
    case '-nan':
      return NaN;
  }
  if (!DOUBLE_RE.test(text)) throw new RespError(`bad double ${JSON.stringify(text)}`, abs);
  return Number(text);
}

/** A `(` big number: always a bigint. */
export function parseBigNumber(buf: Buffer, start: number, end: number, abs: number): bigint {
  const text = buf.toString('latin1', start, end);
  if (!BIG_RE.test(text)) throw new RespError(`bad big number ${JSON.stringify(text)}`, abs);
  return BigInt(text);
}
