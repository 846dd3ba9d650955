/**
 * rump's key selection, as restore's: dbs, SCAN MATCH glob, key globs and regex, exclusions, types.
 * - On names only (db + key), for keys named by events or by a keys file, before anything is read.
 * - As transforms on what was read: the shared key filter (types, globs, regex) and the exclusions, each
 *   dropped key counted as 'filtered'; with SCAN TYPE, a key whose DUMP shows another type was changed
 *   between SCAN and DUMP and is counted as 'type-changed'.
 */
import type { Counters } from '../core/counters.js';
import type { Transform } from '../core/entry.js';
import { dropKeys, keyFilter, keyNamePredicate, type KeySelection } from '../transforms/filter.js';
import { compileGlob } from '../transforms/glob.js';

export interface RumpFilterOptions extends KeySelection {
  /** SCAN MATCH glob. */
  match?: string;
}

/** A predicate on (db, key name) for keys that were not found by SCAN; null when everything passes. */
export function nameFilter(opts: RumpFilterOptions): ((db: number, key: Buffer) => boolean) | null {
  const match = opts.match !== undefined ? compileGlob(Buffer.from(opts.match)) : null;
  const names = keyNamePredicate(opts);
  if (!match) return names;
  return (db, key) => match(key) && (names === null || names(db, key));
}

/** Transforms applied to every batch read (they look at key headers only). */
export function readFilters(opts: RumpFilterOptions, counters: Counters, scanType: string | null): Transform[] {
  const out: Transform[] = [];
  if (scanType !== null) {
    out.push(dropKeys('drop-type-changed', (h) => (h.type !== scanType ? 'type-changed' : null), counters));
  }
  // The dbs were chosen by what is read; the same options carry the filter's own names for the rest.
  const f = keyFilter({ ...opts, dbs: undefined }, counters);
  if (f) out.push(f);
  return out;
}
