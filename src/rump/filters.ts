/**
 * rump's key selection, as restore's: dbs, SCAN MATCH glob, key globs and regex, exclusions, types.
 * - On names only (db + key), for keys named by events or by a keys file, before anything is read.
 * - As transforms on what was read: the shared key filter (types, globs, regex) and the exclusions, each
 *   dropped key counted as 'filtered'; with SCAN TYPE, a key whose DUMP shows another type was changed
 *   between SCAN and DUMP and is counted as 'type-changed'.
 */
import type { KeyHeader, RedisType } from '@shake/rdb';
import type { Counters } from '../core/counters.js';
import type { Entry, EntryBatch, Transform } from '../core/entry.js';
import { keyFilter } from '../transforms/filter.js';
import { compileGlob } from '../transforms/glob.js';

export interface RumpFilterOptions {
  dbs?: number[];
  /** SCAN MATCH glob. */
  match?: string;
  keyGlobs?: string[];
  keyRegex?: RegExp;
  excludeGlobs?: string[];
  excludeRegex?: RegExp;
  types?: RedisType[];
}

type GlobMatcher = (key: Buffer) => boolean;

function globs(list: string[] | undefined): GlobMatcher[] {
  return (list ?? []).map((g) => compileGlob(Buffer.from(g)));
}

function regexTest(re: RegExp, key: Buffer): boolean {
  re.lastIndex = 0;
  return re.test(key.toString('utf8'));
}

function excluded(opts: RumpFilterOptions, ex: GlobMatcher[], key: Buffer): boolean {
  if (ex.some((m) => m(key))) return true;
  return opts.excludeRegex !== undefined && regexTest(opts.excludeRegex, key);
}

/** A predicate on (db, key name) for keys that were not found by SCAN; null when everything passes. */
export function nameFilter(opts: RumpFilterOptions): ((db: number, key: Buffer) => boolean) | null {
  const dbs = opts.dbs && opts.dbs.length > 0 ? new Set(opts.dbs) : null;
  const match = opts.match !== undefined ? compileGlob(Buffer.from(opts.match)) : null;
  const keep = globs(opts.keyGlobs);
  const ex = globs(opts.excludeGlobs);
  const re = opts.keyRegex;
  if (!dbs && !match && keep.length === 0 && ex.length === 0 && !re && !opts.excludeRegex) return null;
  return (db, key) => {
    if (dbs && !dbs.has(db)) return false;
    if (match && !match(key)) return false;
    if (keep.length > 0 && !keep.some((m) => m(key))) return false;
    if (re && !regexTest(re, key)) return false;
    return !excluded(opts, ex, key);
  };
}

/** Transforms applied to every batch read (after the payload gate is not needed: they look at headers). */
export function readFilters(opts: RumpFilterOptions, counters: Counters, scanType: string | null): Transform[] {
  const out: Transform[] = [];
  if (scanType !== null) out.push(dropWhole('type-changed', (h) => h.type !== scanType, counters));
  const f = keyFilter({ keyGlobs: opts.keyGlobs, keyRegex: opts.keyRegex, types: opts.types }, counters);
  if (f) out.push(f);
  const ex = globs(opts.excludeGlobs);
  if (ex.length > 0 || opts.excludeRegex) {
    out.push(dropWhole('filtered', (h) => excluded(opts, ex, h.key), counters));
  }
  return out;
}

/** Drops whole keys (key-start .. key-end) the predicate picks, counting each under `reason`. */
function dropWhole(
  reason: 'filtered' | 'type-changed',
  drop: (h: KeyHeader) => boolean,
  counters: Counters,
): Transform {
  let dropping = false;
  return {
    name: `drop-${reason}`,
    apply(batch: EntryBatch): EntryBatch {
      let out: Entry[] | null = null;
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i] as Entry;
        if (e.kind === 'key-start') {
          dropping = drop(e.header);
          if (dropping) counters.skip(reason);
        }
        const skip = dropping && e.kind !== 'command' && !NON_KEY.has(e.kind);
        if (e.kind === 'key-end') dropping = false;
        if (skip && out === null) out = batch.slice(0, i);
        else if (!skip && out !== null) out.push(e);
      }
      return out ?? batch;
    },
  };
}

const NON_KEY: ReadonlySet<string> = new Set([
  'header',
  'aux',
  'select-db',
  'resize-db',
  'slot-info',
  'function',
  'function-pre-ga',
  'module-aux',
  'end',
]);
