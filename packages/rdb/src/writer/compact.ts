/**
 * The compact encodings the value encoder picks for small values: one quicklist-2 listpack node for a
 * short list, an intset for a small all-integer set (the limits are Redis's defaults), and the min-expire
 * stored before a field-TTL hash.
 */
import { parseCanonicalInt } from '../encodings/index.js';
import type { HashEntry } from '../types.js';

const LIST_LISTPACK_MAX_ENTRIES = 128;
const LIST_LISTPACK_MAX_BYTES = 8 * 1024;
/** set-max-intset-entries default. */
const INTSET_MAX_ENTRIES = 512;

/** Small enough for one quicklist-2 listpack node (list-max-listpack-size -2: 8 KiB; 128 entries)? */
export function fitsListpackNode(items: readonly Buffer[]): boolean {
  if (items.length === 0 || items.length > LIST_LISTPACK_MAX_ENTRIES) return false;
  let bytes = 0;
  for (const it of items) bytes += it.length + 11;
  return bytes <= LIST_LISTPACK_MAX_BYTES;
}

/** The members as sorted int64s when the set can be an intset (all canonical integers, at most 512), else null. */
export function intsetValues(members: readonly Buffer[]): bigint[] | null {
  if (members.length === 0 || members.length > INTSET_MAX_ENTRIES) return null;
  const values: bigint[] = [];
  for (const m of members) {
    const v = parseCanonicalInt(m);
    if (v === null) return null;
    values.push(v);
  }
  values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 1; i < values.length; i++) if (values[i] === values[i - 1]) return null;
  return values;
}

/** The smallest field expiry (0 when no field has one): the base of type 24's relative field TTLs. */
export function minFieldExpire(entries: HashEntry[]): number {
  let min = Infinity;
  for (const e of entries) if (e.expireAtMs != null && e.expireAtMs < min) min = e.expireAtMs;
  return min === Infinity ? 0 : min;
}
