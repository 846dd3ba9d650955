/**
 * The key filter shared by decode, restore, rump and check: by db, key glob (Redis semantics), key regex,
 * exclusion globs and regex, type, and expiry. dropKeys() is the one transform that drops whole keys
 * (key-start .. key-end, however many batches the key spans), counting every dropped key under a reason;
 * non-key entries pass through. keyNamePredicate() is the same selection on a name alone (db + key), for
 * keys known before anything is read (rump's keys file, key events). commandSelector() is the same selection
 * on a write command of a replication stream (shake sync): by the keys it names, the dbs it touches and the
 * data type it works on.
 */
import { isValueEvent, redisTypeOfRdbType, type KeyHeader, type RedisType } from '@shake/rdb';
import { commandDataType, commandKeys } from '../redis/command-keys.js';
import type { Counters, SkipReason } from '../core/counters.js';
import type { Entry, EntryBatch, Transform } from '../core/entry.js';
import { compileGlob } from './glob.js';

/**
 * Which keys to take: the one key selection of every subcommand (decode, restore, rump, check; its flags are
 * cli/key-flags.ts). Pipeline options extend it; keySelectionOf() takes it out of them.
 */
export interface KeySelection {
  /** Keep only these databases. */
  dbs?: number[];
  /** Keep keys matching any of these Redis glob patterns (UTF-8). */
  keyGlobs?: string[];
  /** Keep keys whose UTF-8 reading (invalid bytes as U+FFFD) matches this regular expression. */
  keyRegex?: RegExp;
  /** Drop keys matching any of these globs, or this regex (after the above: an excluded key is 'filtered'). */
  excludeGlobs?: string[];
  excludeRegex?: RegExp;
  types?: RedisType[];
}

/** The selection's own fields of a larger options object. */
export function keySelectionOf(o: KeySelection): KeySelection {
  const { dbs, keyGlobs, keyRegex, excludeGlobs, excludeRegex, types } = o;
  return { dbs, keyGlobs, keyRegex, excludeGlobs, excludeRegex, types };
}

export interface KeyFilterOptions extends KeySelection {
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

/**
 * What to do with one command of a stream under a key selection:
 * - `all`: every key it names is selected (or it names none: FLUSHALL, SCRIPT, FUNCTION, PUBLISH ...): apply it;
 * - `none`: no key it names is selected, or its type is left out, or it is a COPY of a selected key to a name
 *   or db outside the selection (nothing selected changes): not applied;
 * - `some`: DEL / UNLINK / TOUCH / MSET / MSETNX cut to their selected keys (`argv`); RENAME / RENAMENX / MOVE
 *   of a selected key to a name or db outside the selection become DEL of the key (it leaves the selection);
 * - `guarded`: with a type filter, RENAME / RENAMENX / COPY of a key the target may not hold (its type is left
 *   out): `argv` runs the command when the target has the source key, else deletes the destination (on the
 *   source it now holds a value of a type left out);
 * - `mixed`: keys inside and outside the selection that cannot be separated (RENAME / MOVE / COPY from a key
 *   left out into the selection, SUNIONSTORE, SMOVE, SWAPDB of a db left out, a script's keys): applied as it
 *   is; `key` is the first one outside the selection, for the report (what it writes may differ from the source).
 */
export type CommandVerdict =
  { keep: 'all' | 'none' } | { keep: 'some' | 'guarded'; argv: Buffer[] } | { keep: 'mixed'; key: Buffer | null };

export type CommandSelector = (db: number, argv: Buffer[], name: string) => CommandVerdict;

const ALL: CommandVerdict = { keep: 'all' };
const NONE: CommandVerdict = { keep: 'none' };
const GUARDED = new Set(['rename', 'renamenx', 'copy']);
/** RENAME / RENAMENX / COPY src dst ... when the target has src; else DEL dst. */
const GUARD_SCRIPT =
  "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call(ARGV[1], KEYS[1], KEYS[2], unpack(ARGV, 2)) end " +
  "return redis.call('DEL', KEYS[2])";

function intArg(b: Buffer | undefined): number {
  return b === undefined ? Number.NaN : Number(b.toString('latin1'));
}

/** The db named by COPY's DB option, else null. */
function copyDb(argv: Buffer[]): number | null {
  for (let i = 3; i + 1 < argv.length; i++) {
    if ((argv[i] as Buffer).toString('latin1').toLowerCase() === 'db') return intArg(argv[i + 1]);
  }
  return null;
}

/** The key selection of `opts` (dbs, globs, regex, exclusions, types) on stream commands; null: keep all. */
export function commandSelector(opts: KeyFilterOptions): CommandSelector | null {
  const names = keyNamePredicate(opts);
  const types = opts.types && opts.types.length > 0 ? new Set<string>(opts.types) : null;
  const dbs = opts.dbs && opts.dbs.length > 0 ? new Set(opts.dbs) : null;
  if (!names && !types) return null;
  const byType = (argv: Buffer[], name: string): CommandVerdict => {
    if (!types) return ALL;
    const t = commandDataType(name);
    if (t !== null) return types.has(t) ? ALL : NONE;
    if (name === 'restore' || name === 'restore-asking') {
      const id = argv[3]?.[0];
      const type = id === undefined ? undefined : redisTypeOfRdbType(id);
      return type !== undefined && !types.has(type) ? NONE : ALL;
    }
    if (GUARDED.has(name) && argv.length >= 3 && (name !== 'copy' || copyDb(argv) === null)) {
      const argvOut = [Buffer.from('EVAL'), Buffer.from(GUARD_SCRIPT), Buffer.from('2'), argv[1] as Buffer];
      argvOut.push(argv[2] as Buffer, argv[0] as Buffer, ...argv.slice(3));
      return { keep: 'guarded', argv: argvOut };
    }
    return ALL;
  };
  return (db, argv, name) => {
    if (name === 'flushdb') return dbs && !dbs.has(db) ? NONE : ALL;
    if (name === 'swapdb') {
      if (!dbs) return ALL;
      const a = dbs.has(intArg(argv[1]));
      const b = dbs.has(intArg(argv[2]));
      return a && b ? ALL : !a && !b ? NONE : { keep: 'mixed', key: null };
    }
    const spec = commandKeys(argv, name);
    if (spec.at.length === 0) return ALL;
    // (db, key) of each key; MOVE and COPY ... DB name a second db.
    const keyDb = (i: number): number => {
      if (name === 'move' && i === 1) return db;
      if (name === 'copy' && i === 2) return copyDb(argv) ?? db;
      return db;
    };
    const pairs = spec.at.map((i) => [keyDb(i), argv[i] as Buffer] as const);
    if (name === 'move') pairs.push([intArg(argv[2]), argv[1] as Buffer] as const);
    if (!names) return byType(argv, name);
    const kept = pairs.map(([d, k]) => names(d, k));
    const n = kept.filter(Boolean).length;
    if (n === kept.length) return byType(argv, name);
    if (n === 0) return NONE;
    const [src, dst] = [kept[0], kept[kept.length - 1]];
    // A key that leaves the selection: RENAME / MOVE of a selected key to an unselected name or db is its DEL
    // there; a COPY to an unselected place changes nothing selected.
    if (src && !dst && (name === 'rename' || name === 'renamenx' || name === 'move')) {
      return { keep: 'some', argv: [Buffer.from('DEL'), argv[1] as Buffer] };
    }
    if (src && !dst && name === 'copy') return NONE;
    if (spec.group > 0 && name !== 'move') {
      const out: Buffer[] = [argv[0] as Buffer];
      spec.at.forEach((at, j) => {
        if (kept[j]) for (let g = 0; g < spec.group; g++) out.push(argv[at + g] as Buffer);
      });
      const cut = byType(out, name);
      return cut.keep === 'all' ? { keep: 'some', argv: out } : cut;
    }
    return { keep: 'mixed', key: pairs[kept.indexOf(false)]?.[1] ?? null };
  };
}
