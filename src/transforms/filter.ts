/**
 * The key filter shared by decode, restore and rump: by db, key glob (Redis semantics), key regex,
 * exclusion globs and regex, type, and expiry. dropKeys() is the one transform that drops whole keys
 * (key-start .. key-end, however many batches the key spans), counting every dropped key under a reason;
 * non-key entries pass through. keyNamePredicate() is the same selection on a name alone (db + key), for
 * keys known before anything is read (rump's keys file, key events).
 */
import { isValueEvent, type KeyHeader, type RedisType } from '@shake/rdb';
import type { Counters, SkipReason } from '../core/counters.js';
import type { Entry, EntryBatch, Transform } from '../core/entry.js';
import { compileGlob } from './glob.js';

export interface KeyFilterOptions {
  /** Keep only these databases. */
  dbs?: readonly number[];
  /** Keep keys matching any of these Redis glob patterns (bytes; a string is taken as UTF-8). */
  keyGlobs?: readonly (string | Buffer)[];
  /** Keep keys whose UTF-8 reading (invalid bytes as U+FFFD) matches this regular expression. */
  keyRegex?: RegExp;
  /** Drop keys matching any of these globs, or this regex (after the above: an excluded key is 'filtered'). */
  excludeGlobs?: readonly (string | Buffer)[];
  excludeRegex?: RegExp;
  types?: readonly RedisType[];
  /** Drop keys whose expiry is at or before `now`. */
  dropExpired?: boolean;
  /** Reference time for dropExpired (default: when the filter is created). */
  nowMs?: number;
}

export type KeyFilterReason = 'filtered' | 'expired';

/** A predicate on key headers: null to keep the key, else the reason to drop it. */
export type KeyPredicate<R extends SkipReason = KeyFilterReason> = (h: KeyHeader) => R | null;

type Globs = ((key: Buffer) => boolean)[] | null;

function compileGlobs(list: readonly (string | Buffer)[] | undefined): Globs {
  return list && list.length > 0 ? list.map((g) => compileGlob(Buffer.from(g))) : null;
}

function regexMatches(re: RegExp, key: Buffer): boolean {
  re.lastIndex = 0;
  return re.test(key.toString('utf8'));
}

/** The selection by db and name only (no type, no expiry): true to keep; null when everything passes. */
export function keyNamePredicate(opts: KeyFilterOptions): ((db: number, key: Buffer) => boolean) | null {
  const dbs = opts.dbs && opts.dbs.length > 0 ? new Set(opts.dbs) : null;
  const globs = compileGlobs(opts.keyGlobs);
  const regex = opts.keyRegex ?? null;
  const excludes = compileGlobs(opts.excludeGlobs);
  const excludeRegex = opts.excludeRegex ?? null;
  if (!dbs && !globs && !regex && !excludes && !excludeRegex) return null;
  return (db, key) => {
    if (dbs && !dbs.has(db)) return false;
    if (globs && !globs.some((m) => m(key))) return false;
    if (regex && !regexMatches(regex, key)) return false;
    if (excludes && excludes.some((m) => m(key))) return false;
    return !(excludeRegex && regexMatches(excludeRegex, key));
  };
}

export function keyPredicate(opts: KeyFilterOptions): KeyPredicate | null {
  const names = keyNamePredicate(opts);
  const types = opts.types && opts.types.length > 0 ? new Set<string>(opts.types) : null;
  const now = opts.nowMs ?? Date.now();
  const dropExpired = opts.dropExpired === true;
  if (!names && !types && !dropExpired) return null;
  return (h) => {
    if (types && !types.has(h.type)) return 'filtered';
    if (names && !names(h.db, h.key)) return 'filtered';
    if (dropExpired && h.expireAtMs !== null && h.expireAtMs <= now) return 'expired';
    return null;
  };
}

/** A transform that drops whole keys the predicate rejects, counting them in `counters`. */
export function keyFilter(opts: KeyFilterOptions, counters: Counters): Transform | null {
  const pred = keyPredicate(opts);
  return pred ? dropKeys('key-filter', pred, counters) : null;
}

/** Drops whole keys (key-start .. key-end) `pred` gives a reason for, counting each under that reason. */
export function dropKeys<R extends SkipReason>(name: string, pred: KeyPredicate<R>, counters: Counters): Transform {
  let dropping = false;
  return {
    name,
    apply(batch: EntryBatch): EntryBatch {
      let out: Entry[] | null = null;
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i] as Entry;
        let drop = dropping;
        if (e.kind === 'key-start') {
          const reason = pred(e.header);
          dropping = drop = reason !== null;
          if (reason !== null) counters.skip(reason);
        } else if (e.kind === 'key-end') {
          dropping = false;
        } else if (!isValueEvent(e)) {
          drop = false;
        }
        if (drop && out === null) out = batch.slice(0, i);
        else if (!drop && out !== null) out.push(e);
      }
      return out ?? batch;
    },
  };
}
