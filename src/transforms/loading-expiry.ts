/**
 * Replayed commands get the expiry semantics of redis-server LOADING the same input (an AOF, with or without
 * an RDB preamble or base). In expire.c, checkAlreadyExpired() is false while the server loads (and on a
 * replica): an absolute expiry already in the past is SET, not executed as a DEL, and the key lives on until
 * loading ends, so a later PERSIST, SET, RENAME or PEXPIREAT in the file still finds it. A live target would
 * delete such a key at once (PEXPIREAT, SET ... PXAT, GETEX ... PXAT, RESTORE ... ABSTTL, HPEXPIREAT all do),
 * and whatever follows in the file would act on nothing: the key is lost. rdb.c likewise loads expired keys of
 * an AOF preamble/base (RDBFLAGS_AOF_PREAMBLE) instead of skipping them.
 *
 * So this transform replaces every absolute key expiry of the input that has passed, or passes within
 * `horizonMs` of `now` (it could pass while the replay runs, or by clock skew against the target), with a
 * deferred time far in the future that still holds the real one (DEFERRED_KEY_BASE + t). The target keeps it
 * like any TTL, through PERSIST, SET, RENAME, COPY, MOVE, SWAPDB, RESTORE, INCR ... (the server applies the
 * semantics; shake does not model them). Keys of an RDB preamble or base are treated alike; an RDB counts as
 * one when the input is a multi-part AOF (`allKeys`) or the RDB says so itself (AUX `aof-preamble` 1, written
 * by 4.0-6.2, or `aof-base` 1, 7.0+). Any other RDB is a snapshot: loading it, a master skips expired keys,
 * and so does the Redis sink. Conditional flags (NX/XX/GT/LT) of an expire command that touches a deferred
 * time are dropped: the source only logs an expire whose condition held, and a deferred time would invert
 * the comparison. Hash field expiries (HPEXPIREAT, 7.4+) that have passed get DEFERRED_FIELD_AT (field TTLs
 * are capped far lower, so that time holds no real one).
 *
 * shake remembers every key (and hash field) it deferred, and where RENAME/RENAMENX/COPY/MOVE/SWAPDB may carry
 * it (remembering too much is harmless, too little is not). When the input ends (finish()), one script per
 * remembered key runs on the target: a key whose TTL is still deferred gets its real expiry back, judged by
 * the target's own clock, or is deleted and counted as expired when that has passed (as redis-server's first
 * expire cycle after loading would); a key whose TTL was replaced or removed meanwhile is left as it is.
 * Deferred hash fields still carrying DEFERRED_FIELD_AT are deleted (HPEXPIRETIME, then HDEL).
 */
import { RespServerError, type RespValue } from '@shake/resp';
import type { Counters } from '../core/counters.js';
import type { CommandEntry, Entry, EntryBatch, Transform } from '../core/entry.js';

/**
 * A key's deferred expiry is DEFERRED_KEY_BASE + its real expiry (ms): ~142,000 years after 1970, beyond any
 * real TTL, and the real time can be read back exactly (PTTL - DEFERRED_KEY_BASE is what was left of it).
 */
export const DEFERRED_KEY_BASE = 2 ** 52;
/** Expiries this close to `now` (ms) are deferred too: they could pass while the replay runs, or by clock skew. */
export const DEFAULT_HORIZON_MS = 10 * 60_000;
/** Field TTLs are capped at 2^48-1 ms by Redis (EB_EXPIRE_TIME_MAX): the deferred field time sits just below. */
export const DEFERRED_FIELD_AT = 2 ** 48 - 2;
/** A PTTL above this is a deferred key time (real TTLs end at 9999-12-31, ~2.5e14 ms from 1970). */
const KEY_THRESHOLD_MS = 2 ** 51;
/** An HPEXPIRETIME above this (~year 10350) is a deferred field time. */
const FIELD_THRESHOLD_AT = 2 ** 48 - 2 ** 44;

/**
 * KEYS[1] the key; ARGV[1] '1' when the key itself got a deferred TTL; ARGV[2] shake's clock (ms), the same
 * `now` that judged the input's expiries; ARGV[3..] hash fields that got a deferred TTL. A key whose TTL is
 * still deferred gets its real expiry back, or is deleted when that is not after ARGV[2]. Where the target
 * has no PEXPIRETIME (before 7.0), what is left of the TTL is judged by the target's own clock instead
 * (PTTL - DEFERRED_KEY_BASE). Returns {1, 0} when the key was deleted, else {0, hash fields deleted}.
 */
export const SWEEP_SCRIPT = `local now = tonumber(ARGV[2])
if ARGV[1] == '1' then
  local at = redis.pcall('PEXPIRETIME', KEYS[1])
  if type(at) == 'number' then
    if at >= ${DEFERRED_KEY_BASE} then
      at = at - ${DEFERRED_KEY_BASE}
      if at <= now then
        redis.call('DEL', KEYS[1])
        return {1, 0}
      end
      redis.call('PEXPIREAT', KEYS[1], at)
    end
  else
    local t = redis.call('PTTL', KEYS[1])
    if t > ${KEY_THRESHOLD_MS} then
      local left = t - ${DEFERRED_KEY_BASE}
      if left <= 0 then
        redis.call('DEL', KEYS[1])
        return {1, 0}
      end
      redis.call('PEXPIRE', KEYS[1], left)
    end
  end
end
local n = 0
if #ARGV > 2 and redis.call('TYPE', KEYS[1]).ok == 'hash' then
  for i = 3, #ARGV do
    local t = redis.call('HPEXPIRETIME', KEYS[1], 'FIELDS', 1, ARGV[i])[1]
    if t > ${FIELD_THRESHOLD_AT} then
      redis.call('HDEL', KEYS[1], ARGV[i])
      n = n + 1
    end
  end
end
return {0, n}`;

const SCRIPT_ARG = Buffer.from(SWEEP_SCRIPT);

/**
 * KEYS[1] the key; ARGV[1] the command's expiry (ms); ARGV[2] where in the command its time stands (1-based);
 * ARGV[3] the deferred time; ARGV[4..] the command. Runs it with the deferred time when the target's clock
 * says the expiry has passed, else as it is.
 */
export const DECIDE_SCRIPT = `if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local argv = {}
for i = 4, #ARGV do argv[#argv + 1] = ARGV[i] end
if tonumber(ARGV[1]) <= now then argv[tonumber(ARGV[2])] = ARGV[3] end
return redis.call(unpack(argv))`;

const DECIDE_ARG = Buffer.from(DECIDE_SCRIPT);

export interface LoadingExpiryStats {
  /** Expiries still due but close, sent for the target to decide when it runs them (sync). */
  decidedOnTarget: number;
  /** Expiries in the input that had passed (or were about to) when replayed, written deferred. */
  deferredKeys: number;
  deferredFields: number;
  /** Keys deleted at the end because their final expiry had passed (also counted as skipped 'expired'). */
  expiredKeys: number;
  expiredFields: number;
}

interface Remembered {
  key: Buffer;
  ttl: boolean;
  fields: Map<string, Buffer> | null;
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const PEXPIREAT = b('PEXPIREAT');
const HPEXPIREAT = b('HPEXPIREAT');
const PXAT = b('PXAT');
const CONDITIONS = new Set(['nx', 'xx', 'gt', 'lt']);

function lower(a: Buffer | undefined): string {
  return a && a.length <= 16 ? a.toString('latin1').toLowerCase() : '';
}

function isPreambleAux(key: Buffer, value: Buffer): boolean {
  const k = key.toString('latin1');
  return (k === 'aof-preamble' || k === 'aof-base') && value.toString('latin1') === '1';
}

/** A plain decimal integer argument, else null (a malformed argument is left for the target to refuse). */
function intArg(a: Buffer | undefined): number | null {
  if (!a || a.length === 0 || a.length > 20) return null;
  const s = a.toString('latin1');
  return /^-?\d+$/.test(s) ? Number(s) : null;
}

export class LoadingExpiry implements Transform {
  readonly name = 'loading-expiry';
  readonly stats: LoadingExpiryStats = {
    decidedOnTarget: 0,
    deferredKeys: 0,
    deferredFields: 0,
    expiredKeys: 0,
    expiredFields: 0,
  };
  private readonly dbs = new Map<number, Map<string, Remembered>>();

  /** The current RDB part is an AOF preamble or base (its expired keys are loaded, then swept). */
  private preamble: boolean;

  constructor(
    private readonly counters: Counters,
    private readonly now: () => number = Date.now,
    /** Every RDB part is an AOF base (a multi-part AOF's manifest says so), whatever its AUX fields. */
    private readonly allKeys = false,
    private readonly horizonMs = DEFAULT_HORIZON_MS,
    /**
     * Expiries due within this many ms after the horizon are decided by the target when it runs the command
     * (a script reads its TIME), not when shake builds the batch: a stalled target must not run a command
     * after its time and delete the key (sync). 0: off.
     */
    private readonly targetDecidesMs = 0,
  ) {
    this.preamble = allKeys;
  }

  apply(batch: EntryBatch): EntryBatch {
    let out: Entry[] | null = null;
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as Entry;
      if (e.kind === 'header') this.preamble = this.allKeys;
      else if (e.kind === 'aux' && isPreambleAux(e.key, e.value)) this.preamble = true;
      const r = e.kind === 'command' ? this.command(e) : e.kind === 'key-start' ? this.keyStart(e) : e;
      if (r !== e && out === null) out = batch.slice(0, i);
      if (out !== null) out.push(r);
    }
    return out ?? batch;
  }

  /** One sweep script per remembered key (see the file comment). */
  finish(): EntryBatch {
    return this.sweep().map(({ db, argv }) => ({ kind: 'command', db, argv, onReply: (r) => this.swept(r) }));
  }

  /**
   * The sweep as (source db, argv) pairs, forgetting what it covers; each reply goes to swept(). For callers
   * that send commands themselves (sync at its cut-over point).
   */
  sweep(): { db: number; argv: Buffer[] }[] {
    const out: { db: number; argv: Buffer[] }[] = [];
    const now = b(String(this.now()));
    for (const [db, keys] of this.dbs) {
      for (const r of keys.values()) {
        const argv = [b('EVAL'), SCRIPT_ARG, b('1'), r.key, b(r.ttl ? '1' : '0'), now];
        if (r.fields) for (const f of r.fields.values()) argv.push(f);
        out.push({ db, argv });
      }
    }
    this.dbs.clear();
    return out;
  }

  /** Keys (and fields) deferred and not yet swept or deleted. */
  get remembered(): number {
    let n = 0;
    for (const keys of this.dbs.values()) n += keys.size;
    return n;
  }

  /** One command of source db `db`, rewritten where an expiry must be deferred (the same array otherwise). */
  rewrite(db: number, argv: Buffer[]): Buffer[] {
    return this.command({ kind: 'command', db, argv }).argv;
  }

  swept(reply: RespValue): void {
    if (reply instanceof RespServerError || !Array.isArray(reply)) return;
    const [key, fields] = reply;
    if (key === 1) {
      this.stats.expiredKeys++;
      this.counters.skip('expired');
    }
    if (typeof fields === 'number') this.stats.expiredFields += fields;
  }

  /** A key expiry (ms) that must not reach the target as it is; the deferred time to write instead. */
  private deferredAt(t: number): number | null {
    return t <= this.now() + this.horizonMs ? DEFERRED_KEY_BASE + Math.max(t, 0) : null;
  }

  /**
   * A command whose expiry `t` (ms, at argv[timeAt]) is still due but close: the target decides when it runs it
   * (DECIDE_SCRIPT). Null when it is not that close (or the option is off).
   */
  private decidedOnTarget(
    e: CommandEntry,
    key: Buffer,
    t: number,
    argv: Buffer[],
    timeAt: number,
  ): CommandEntry | null {
    if (this.targetDecidesMs <= 0 || t > this.now() + this.horizonMs + this.targetDecidesMs) return null;
    this.remember(e.db, key).ttl = true;
    this.stats.decidedOnTarget++;
    const head = [b('EVAL'), DECIDE_ARG, b('1'), key, b(String(t)), b(String(timeAt + 1))];
    return { ...e, argv: [...head, b(String(DEFERRED_KEY_BASE + t)), ...argv] };
  }

  private keyStart(e: Extract<Entry, { kind: 'key-start' }>): Entry {
    const at = e.header.expireAtMs;
    const deferred = this.preamble && at !== null ? this.deferredAt(at) : null;
    if (deferred === null) return e;
    this.remember(e.header.db, e.header.key).ttl = true;
    this.stats.deferredKeys++;
    return { ...e, header: { ...e.header, expireAtMs: deferred } };
  }

  private command(e: CommandEntry): CommandEntry {
    const argv = e.argv;
    switch (lower(argv[0])) {
      case 'pexpireat':
      case 'expireat':
        return this.expireAt(e, lower(argv[0]) === 'expireat' ? 1000 : 1);
      case 'pexpire':
      case 'expire':
        return this.tracked(e.db, argv[1]) ? this.withoutConditions(e, 3, argv.length) : e;
      case 'hpexpireat':
      case 'hexpireat':
        return this.fieldExpireAt(e, lower(argv[0]) === 'hexpireat' ? 1000 : 1);
      case 'set':
      case 'getex':
        return this.setAt(e);
      case 'restore':
        return this.restoreAt(e);
      case 'rename':
      case 'renamenx':
        this.carry(e.db, argv[1], e.db, argv[2]);
        return e;
      case 'copy': {
        const at = argv.findIndex((a, i) => i > 2 && lower(a) === 'db');
        const to = at > 0 ? intArg(argv[at + 1]) : e.db;
        this.carry(e.db, argv[1], to ?? e.db, argv[2]);
        return e;
      }
      case 'move': {
        const to = intArg(argv[2]);
        if (to !== null) this.carry(e.db, argv[1], to, argv[1]);
        return e;
      }
      case 'swapdb': {
        const x = intArg(argv[1]);
        const y = intArg(argv[2]);
        if (x !== null && y !== null) this.swapDbs(x, y);
        return e;
      }
      // Gone keys need no sweep (this keeps what a never-ending stream remembers bounded).
      case 'del':
      case 'unlink':
        for (const k of argv.slice(1)) this.dbs.get(e.db)?.delete(k.toString('latin1'));
        return e;
      case 'flushdb':
        this.dbs.delete(e.db);
        return e;
      case 'flushall':
        this.dbs.clear();
        return e;
      default:
        return e;
    }
  }

  /** PEXPIREAT key ms [cond] / EXPIREAT key s [cond]. */
  private expireAt(e: CommandEntry, unit: number): CommandEntry {
    const t = intArg(e.argv[2]);
    const key = e.argv[1];
    if (t === null || !key) return e;
    const deferred = this.deferredAt(t * unit);
    if (deferred === null) {
      const near = this.decidedOnTarget(e, key, t * unit, [PEXPIREAT, key, b(String(t * unit))], 2);
      if (near) return near;
      return this.tracked(e.db, key) ? this.withoutConditions(e, 3, e.argv.length) : e;
    }
    this.remember(e.db, key).ttl = true;
    this.stats.deferredKeys++;
    return { ...e, argv: [PEXPIREAT, key, b(String(deferred))] };
  }

  /** HPEXPIREAT key ms [cond] FIELDS n field... / HEXPIREAT key s ... (7.4+). */
  private fieldExpireAt(e: CommandEntry, unit: number): CommandEntry {
    const argv = e.argv;
    const t = intArg(argv[2]);
    const key = argv[1];
    const fieldsAt = argv.findIndex((a, i) => i > 2 && lower(a) === 'fields');
    if (t === null || !key || fieldsAt < 0) return e;
    if (t * unit > this.now()) {
      return this.tracked(e.db, key) ? this.withoutConditions(e, 3, fieldsAt) : e;
    }
    const r = this.remember(e.db, key);
    r.fields ??= new Map();
    for (const f of argv.slice(fieldsAt + 2)) {
      r.fields.set(f.toString('latin1'), f);
      this.stats.deferredFields++;
    }
    return { ...e, argv: [HPEXPIREAT, key, b(String(DEFERRED_FIELD_AT)), ...argv.slice(fieldsAt)] };
  }

  /** SET key value ... PXAT ms | EXAT s ..., GETEX key PXAT ms | EXAT s. */
  private setAt(e: CommandEntry): CommandEntry {
    const argv = e.argv;
    const from = lower(argv[0]) === 'set' ? 3 : 2;
    for (let i = from; i < argv.length - 1; i++) {
      const opt = lower(argv[i]);
      if (opt !== 'pxat' && opt !== 'exat') continue;
      const t = intArg(argv[i + 1]);
      const ms = t === null ? null : t * (opt === 'exat' ? 1000 : 1);
      const deferred = ms === null ? null : this.deferredAt(ms);
      const key = argv[1] as Buffer;
      if (ms !== null && deferred === null) {
        const pxat = argv.slice();
        pxat[i] = PXAT;
        pxat[i + 1] = b(String(ms));
        return this.decidedOnTarget(e, key, ms, pxat, i + 1) ?? e;
      }
      if (deferred === null) return e;
      this.remember(e.db, key).ttl = true;
      this.stats.deferredKeys++;
      const next = argv.slice();
      next[i] = PXAT;
      next[i + 1] = b(String(deferred));
      return { ...e, argv: next };
    }
    return e;
  }

  /** RESTORE key ttl payload ... ABSTTL. */
  private restoreAt(e: CommandEntry): CommandEntry {
    const argv = e.argv;
    const t = intArg(argv[2]);
    if (t === null || t <= 0 || !argv.some((a, i) => i > 3 && lower(a) === 'absttl')) return e;
    const deferred = this.deferredAt(t);
    if (deferred === null) return this.decidedOnTarget(e, argv[1] as Buffer, t, argv, 2) ?? e;
    this.remember(e.db, argv[1] as Buffer).ttl = true;
    this.stats.deferredKeys++;
    const next = argv.slice();
    next[2] = b(String(deferred));
    return { ...e, argv: next };
  }

  /** The same command without NX/XX/GT/LT between argv[from] and argv[to]. */
  private withoutConditions(e: CommandEntry, from: number, to: number): CommandEntry {
    const argv = e.argv;
    let drop = false;
    for (let i = from; i < to; i++) if (CONDITIONS.has(lower(argv[i]))) drop = true;
    if (!drop) return e;
    return { ...e, argv: argv.filter((a, i) => i < from || i >= to || !CONDITIONS.has(lower(a))) };
  }

  private tracked(db: number, key: Buffer | undefined): boolean {
    return key !== undefined && this.dbs.get(db)?.has(key.toString('latin1')) === true;
  }

  private remember(db: number, key: Buffer): Remembered {
    let keys = this.dbs.get(db);
    if (!keys) this.dbs.set(db, (keys = new Map()));
    const id = key.toString('latin1');
    let r = keys.get(id);
    if (!r) keys.set(id, (r = { key, ttl: false, fields: null }));
    return r;
  }

  /** What `key` in `db` was remembered for may now also be true of `to` in `toDb`. */
  private carry(db: number, key: Buffer | undefined, toDb: number, to: Buffer | undefined): void {
    if (!key || !to) return;
    const r = this.dbs.get(db)?.get(key.toString('latin1'));
    if (!r) return;
    const d = this.remember(toDb, to);
    d.ttl ||= r.ttl;
    if (r.fields) {
      d.fields ??= new Map();
      for (const [id, f] of r.fields) d.fields.set(id, f);
    }
  }

  /** After SWAPDB either db may hold what either remembered. */
  private swapDbs(x: number, y: number): void {
    const a = this.dbs.get(x);
    const c = this.dbs.get(y);
    for (const r of a?.values() ?? []) this.carry(x, r.key, y, r.key);
    for (const r of c?.values() ?? []) this.carry(y, r.key, x, r.key);
  }
}
