/**
 * What `shake check` finds: one Difference per key (or function library) that is not the same on both sides,
 * with a problem kind and enough detail to act on. docs/check.md lists the kinds.
 */

/** The kinds of difference, in the order the summary lists them. */
export const PROBLEMS = [
  /** The key is on the source and not on the target. */
  'missing',
  /** The key is on the target and not on the source (the target scan; `extra = no` skips it). */
  'extra',
  /** Both hold the key with different types. */
  'type',
  /** Same type, different value (detail says which element, member, field, entry, group...). */
  'value',
  /** The key's expiry differs: moved, added on the target, or removed on the target. */
  'ttl',
  /** A hash field's expiry (Redis 7.4+) differs, and the target can hold field expiries. */
  'field-ttl',
  /** Source hash fields have expiries and the target cannot hold any (before Redis 7.4): reported, not a failure. */
  'field-ttl-unsupported',
  /** A function library differs (missing, extra, or other code). */
  'function',
] as const;

export type Problem = (typeof PROBLEMS)[number];

/** Problems that are reported but do not make the exit code 1 (what the target cannot represent). */
export const NOT_FAILURES: ReadonlySet<Problem> = new Set(['field-ttl-unsupported']);

/** Detail values are JSON-ready, with byte strings still as Buffers (the report writes them as decode does). */
export type DetailValue = string | number | boolean | null | Buffer | DetailValue[] | { [k: string]: DetailValue };
export type Detail = Record<string, DetailValue>;

export interface Difference {
  /** Source db (null for function libraries). */
  db: number | null;
  /** The key (null for function libraries). */
  key: Buffer | null;
  problem: Problem;
  detail: Detail;
}

/** A value difference found by a comparator: the problem and its detail (the key is added by the caller). */
export interface Finding {
  problem: Problem;
  detail: Detail;
}
