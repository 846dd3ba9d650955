/**
 * A sorted-set score as text: the shortest string that reads back as the same double (JavaScript's
 * Number to String), with Redis's spellings for the special values: "inf", "-inf", "-0", "nan".
 * ZADD and strtod accept every form this returns.
 */
import type { ByteBuilder } from './byte-builder.js';

export function formatScore(score: number): string {
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  if (Number.isNaN(score)) return 'nan';
  if (score === 0 && Object.is(score, -0)) return '-0';
  return String(score);
}

const cache = new Map<number, string>();
const CACHE_MAX = 4096;

/** Appends formatScore(score) to `out`: integers digit by digit, other values through a small cache. */
export function writeScore(out: ByteBuilder, score: number): void {
  if (score === 0) {
    out.ascii(Object.is(score, -0) ? '-0' : '0');
    return;
  }
  if (Number.isSafeInteger(score)) {
    out.int(score);
    return;
  }
  let s = cache.get(score);
  if (s === undefined) {
    s = formatScore(score);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(score, s);
  }
  out.ascii(s);
}

/** The inverse of formatScore. */
export function parseScore(s: string): number {
  switch (s) {
    case 'inf':
    case '+inf':
      return Infinity;
    case '-inf':
      return -Infinity;
    case 'nan':
      return NaN;
    default:
      return Number(s);
  }
}
