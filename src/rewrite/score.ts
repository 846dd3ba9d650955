/**
 * A sorted-set score as text: the shortest string that reads back as the same double (JavaScript's
 * Number to String), with Redis's spellings for the special values: "inf", "-inf", "-0", "nan".
 * ZADD and strtod accept every form this returns. Restore (commands), decode's text formats and the tests
 * share these two functions; the byte-level writer for decode's hot path is writeScore in sinks/text/byte-builder.ts.
 */
import { parseScore as parseScoreBytes } from '@shake/rdb';

export function formatScore(score: number): string {
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  if (Number.isNaN(score)) return 'nan';
  if (score === 0 && Object.is(score, -0)) return '-0';
  return String(score);
}

/**
 * The inverse of formatScore, and any other spelling strtod takes ("+inf", "Infinity", "-nan", any case):
 * @shake/rdb's parser reads RDB score text with the same function, so every score text shake reads
 * (RDB, JSON lines, tests) is read one way.
 */
export function parseScore(s: string): number {
  return parseScoreBytes(Buffer.from(s, 'latin1'));
}
