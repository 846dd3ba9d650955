/**
 * The key filter shared by decode, restore and rump: by db, key glob (Redis semantics), key regex,
 * type, and expiry. It drops whole keys (key-start .. key-end, however many batches the key spans) and
 * counts every dropped key under a reason ('filtered' or 'expired'). Non-key entries pass through.
 */
import { isValueEvent, type KeyHeader, type RedisType } from '@shake/rdb';
import type { Counters } from '../core/counters.js';
import type { Entry, EntryBatch, Transform } from '../core/entry.js';
import { compileGlob } from './glob.js';

export interface KeyFilterOptions {
  /** Keep only these databases. */
  dbs?: readonly number[];
  /** Keep keys matching any of these Redis glob patterns (bytes; a string is taken as UTF-8). */
  keyGlobs?: readonly (string | Buffer)[];
  /** Keep keys whose UTF-8 reading (invalid bytes as U+FFFD) matches this regular expression. */
  keyRegex?: RegExp;
  types?: readonly RedisType[];
  /** Drop keys whose expiry is at or before `now`. */
  dropExpired?: boolean;
  /** Reference time for dropExpired (default: when the filter is created). */
  nowMs?: number;
}

export type KeyFilterReason = 'filtered' | 'expired';

/** A predicate on key headers: null to keep the key, else the reason to drop it. */
export type KeyPredicate = (h: KeyHeader) => KeyFilterReason | null;

export function keyPredicate(opts: KeyFilterOptions): KeyPredicate | null {
  const dbs = opts.dbs && opts.dbs.length > 0 ? new Set(opts.dbs) : null;
  const globs =
    opts.keyGlobs && opts.keyGlobs.length > 0 ? opts.keyGlobs.map((g) => compileGlob(Buffer.from(g))) : null;
  const regex = opts.keyRegex ?? null;
  const types = opts.types && opts.types.length > 0 ? new Set<string>(opts.types) : null;
  const now = opts.nowMs ?? Date.now();
  const dropExpired = opts.dropExpired === true;
  if (!dbs && !globs && !regex && !types && !dropExpired) return null;
  return (h) => {
    if (dbs && !dbs.has(h.db)) return 'filtered';
    if (types && !types.has(h.type)) return 'filtered';
    if (globs && !globs.some((m) => m(h.key))) return 'filtered';
    if (regex) {
      regex.lastIndex = 0;
      if (!regex.test(h.key.toString('utf8'))) return 'filtered';
    }
    if (dropExpired && h.expireAtMs !== null && h.expireAtMs <= now) return 'expired';
    return null;
  };
}

/** A transform that drops whole keys the predicate rejects, counting them in `counters`. */
export function keyFilter(opts: KeyFilterOptions, counters: Counters): Transform | null {
  const pred = keyPredicate(opts);
  if (!pred) return null;
  let dropping = false;
  return {
    name: 'key-filter',
    apply(batch: EntryBatch): EntryBatch {
      let out: Entry[] | null = null;
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i] as Entry;
        let drop = dropping;
        if (e.kind === 'key-start') {
          const reason = pred(e.header);
          dropping = drop = reason !== null;
          if (reason) counters.skip(reason);
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
