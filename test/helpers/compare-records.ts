/**
 * THE record comparator of the tests: two record lists (records.ts shape), one usually from the fixtures'
 * expected.jsonl (read back from a real server), the other from our parser, decode's output or another
 * live server.
 *
 * Rules: same key set (db + key bytes); same type; values equal, where sets and hashes are compared
 * as sets/maps, zset scores numerically ("%.17g" vs shortest, "inf"; -0 equals 0); `encoding` is ignored
 * (OBJECT ENCODING names differ from RDB encodings); expire exact unless either side says `expire_approx`
 * (then within `approxMs`); stream delivery/seen/active times exact unless `times_approx` (record or
 * stream value), then within `approxMs`. A stream field the expected record does not have is not compared;
 * the options leave out what a test's path cannot carry (older servers' stream metadata, field TTLs, times).
 */
import type { KeyRecord, StreamGroupRecord, StreamRecord } from './records.js';
import { recordId } from './records.js';

export interface CompareOptions {
  /** Tolerance for approximate times (default 2000 ms). */
  approxMs?: number;
  /** Stop after this many differences (default 50). */
  maxDiffs?: number;
  /** Stream fields not compared (what an older source or target does not keep); entries_read and active_time_ms are the groups' and consumers'. */
  ignoreStreamFields?: (keyof StreamRecord | 'entries_read' | 'active_time_ms')[];
  /** Consumers' seen/active times not compared (a rebuilt stream's consumers were last seen at rebuild time). */
  ignoreConsumerTimes?: boolean;
  /** PEL delivery times not compared either (servers that only approximate them). */
  ignoreStreamTimes?: boolean;
  /** Hash field TTLs not compared (a target that cannot hold them). */
  ignoreFieldTtls?: boolean;
}

/** The stream metadata of RDB stream v2+ (7.0): not there to compare when either side is older. */
export const STREAM_V2_FIELDS: NonNullable<CompareOptions['ignoreStreamFields']> = [
  'first_id',
  'max_deleted_entry_id',
  'entries_added',
  'entries_read',
];

export function parseScoreText(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  const v = Number(s);
  return v === 0 ? 0 : v; // 7.0+ prints -0 as "0"
}

function printable(r: Pick<KeyRecord, 'db' | 'key_b64'>): string {
  const key = Buffer.from(r.key_b64, 'base64');
  const s = key.toString('utf8');
  const shown = /^[\x20-\x7e]*$/.test(s) ? JSON.stringify(s) : `b64:${r.key_b64}`;
  return `db${r.db} ${shown.length > 80 ? shown.slice(0, 80) + '…' : shown}`;
}

/**
 * For what redis-server 7.0 loaded from bytes our writer made: it keeps no consumer active times (7.2+) and no
 * field TTLs (7.4+); the stream v2 metadata only from RDB 10+ bytes (`streamV2`).
 */
export function loadedBy70(streamV2: boolean): CompareOptions {
  return { ignoreStreamFields: [...(streamV2 ? [] : STREAM_V2_FIELDS), 'active_time_ms'], ignoreFieldTtls: true };
}

/** Differences between `actual` and `expected` (empty when they match). */
export function compareRecords(actual: KeyRecord[], expected: KeyRecord[], opts: CompareOptions = {}): string[] {
  const o: Rules = {
    approxMs: opts.approxMs ?? 2000,
    ignore: new Set(opts.ignoreStreamFields ?? []),
    consumerTimes: !(opts.ignoreConsumerTimes || opts.ignoreStreamTimes),
    pelTimes: !opts.ignoreStreamTimes,
    fieldTtls: !opts.ignoreFieldTtls,
  };
  const maxDiffs = opts.maxDiffs ?? 50;
  const diffs: string[] = [];
  const act = new Map(actual.map((r) => [recordId(r), r]));
  const exp = new Map(expected.map((r) => [recordId(r), r]));
  if (act.size !== actual.length) diffs.push(`actual has duplicated keys (${actual.length - act.size})`);
  for (const [id, e] of exp) {
    if (diffs.length >= maxDiffs) break;
    const a = act.get(id);
    if (!a) {
      diffs.push(`${printable(e)}: missing (expected a ${e.type})`);
      continue;
    }
    compareOne(a, e, o, diffs);
  }
  for (const [id, a] of act) {
    if (diffs.length >= maxDiffs) break;
    if (!exp.has(id)) diffs.push(`${printable(a)}: unexpected ${a.type} key`);
  }
  return diffs;
}

/** Throws an Error listing the differences, if any. */
export function assertRecordsMatch(actual: KeyRecord[], expected: KeyRecord[], opts?: CompareOptions): void {
  const diffs = compareRecords(actual, expected, opts);
  if (diffs.length > 0) throw new Error(`${diffs.length} record difference(s):\n  ${diffs.join('\n  ')}`);
}

function near(a: number | null | undefined, b: number | null | undefined, approx: boolean, ms: number): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  return approx ? Math.abs(a - b) <= ms : a === b;
}

interface Rules {
  approxMs: number;
  ignore: Set<string>;
  consumerTimes: boolean;
  pelTimes: boolean;
  fieldTtls: boolean;
}

function compareOne(a: KeyRecord, e: KeyRecord, o: Rules, diffs: string[]): void {
  const approxMs = o.approxMs;
  const where = printable(e);
  if (a.type !== e.type) {
    diffs.push(`${where}: type ${a.type}, expected ${e.type}`);
    return;
  }
  const approxExpire = Boolean(a.expire_approx || e.expire_approx);
  if (!near(a.expire_at_ms, e.expire_at_ms, approxExpire, approxMs)) {
    diffs.push(`${where}: expire_at_ms ${a.expire_at_ms}, expected ${e.expire_at_ms}`);
  }
  const problem = compareValue(a, e, o);
  if (problem) diffs.push(`${where}: ${problem}`);
}

function compareValue(a: KeyRecord, e: KeyRecord, o: Rules): string | null {
  switch (e.type) {
    case 'string': {
      const av = (a.value as { b64: string }).b64;
      const ev = (e.value as { b64: string }).b64;
      return av === ev ? null : `string value differs (${av.length} vs ${ev.length} base64 chars)`;
    }
    case 'list':
      return sameList(a.value as string[], e.value as string[], false);
    case 'set':
      return sameList(a.value as string[], e.value as string[], true);
    case 'zset':
      return sameZset(a.value as [string, string][], e.value as [string, string][]);
    case 'hash':
      return (
        sameMap(a.value as [string, string][], e.value as [string, string][], 'field') ??
        (!o.fieldTtls
          ? null
          : sameMap(
              (a.hash_field_expire_at_ms ?? []).map(([f, t]) => [f, String(t)]),
              (e.hash_field_expire_at_ms ?? []).map(([f, t]) => [f, String(t)]),
              'field TTL',
            ))
      );
    case 'stream':
      return sameStream(a, e, o);
    default:
      return JSON.stringify(a.value) === JSON.stringify(e.value) ? null : 'value differs';
  }
}

function sameList(a: string[], e: string[], asSet: boolean): string | null {
  if (a.length !== e.length) return `${a.length} elements, expected ${e.length}`;
  const x = asSet ? [...a].sort() : a;
  const y = asSet ? [...e].sort() : e;
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) return `element ${i} differs: ${x[i]} vs expected ${y[i]}`;
  }
  return null;
}

function sameMap(a: [string, string][], e: [string, string][], what: string): string | null {
  const am = new Map(a);
  const em = new Map(e);
  if (am.size !== em.size) return `${am.size} ${what}s, expected ${em.size}`;
  for (const [k, v] of em) {
    if (!am.has(k)) return `${what} ${k} missing`;
    if (am.get(k) !== v) return `${what} ${k}: ${am.get(k)} vs expected ${v}`;
  }
  return null;
}

function sameZset(a: [string, string][], e: [string, string][]): string | null {
  const am = new Map(a.map(([m, s]) => [m, parseScoreText(s)]));
  if (am.size !== e.length) return `${am.size} members, expected ${e.length}`;
  for (const [m, s] of e) {
    const mine = am.get(m);
    if (mine === undefined) return `member ${m} missing`;
    const want = parseScoreText(s);
    if (!(mine === want || (Number.isNaN(mine) && Number.isNaN(want)))) {
      return `member ${m} score ${mine}, expected ${s}`;
    }
  }
  return null;
}

function sameStream(a: KeyRecord, e: KeyRecord, o: Rules): string | null {
  const av = a.value as StreamRecord & { times_approx?: boolean };
  const ev = e.value as StreamRecord & { times_approx?: boolean };
  const approx = Boolean(a.times_approx || e.times_approx || av.times_approx || ev.times_approx);
  if (JSON.stringify(av.entries) !== JSON.stringify(ev.entries)) {
    return `stream entries differ (${av.entries.length} vs expected ${ev.entries.length})`;
  }
  for (const f of ['length', 'last_id', 'first_id', 'max_deleted_entry_id', 'entries_added'] as const) {
    if (o.ignore.has(f) || ev[f] === undefined) continue;
    if ((av[f] ?? null) !== (ev[f] ?? null)) return `stream ${f} ${av[f]}, expected ${ev[f]}`;
  }
  if (o.ignore.has('groups')) return null;
  const ag = [...av.groups].sort(byName);
  const eg = [...ev.groups].sort(byName);
  if (ag.length !== eg.length) return `${ag.length} groups, expected ${eg.length}`;
  for (let i = 0; i < eg.length; i++) {
    const p = sameGroup(ag[i]!, eg[i]!, approx, o);
    if (p) return `group ${eg[i]!.name_b64}: ${p}`;
  }
  return null;
}

const byName = (x: { name_b64: string }, y: { name_b64: string }): number =>
  Buffer.compare(Buffer.from(x.name_b64, 'base64'), Buffer.from(y.name_b64, 'base64'));

function sameGroup(a: StreamGroupRecord, e: StreamGroupRecord, approx: boolean, o: Rules): string | null {
  const ms = o.approxMs;
  if (a.name_b64 !== e.name_b64) return `name ${a.name_b64}`;
  if (a.last_delivered_id !== e.last_delivered_id)
    return `last id ${a.last_delivered_id}, expected ${e.last_delivered_id}`;
  if (!o.ignore.has('entries_read') && e.entries_read !== undefined && (a.entries_read ?? null) !== e.entries_read) {
    return `entries_read ${a.entries_read}, expected ${e.entries_read}`;
  }
  if (a.pel.length !== e.pel.length) return `${a.pel.length} pending, expected ${e.pel.length}`;
  const apel = [...a.pel].sort(byId);
  const epel = [...e.pel].sort(byId);
  for (let i = 0; i < epel.length; i++) {
    const [id, consumer, time, count] = apel[i]!;
    const [eid, econsumer, etime, ecount] = epel[i]!;
    if (id !== eid || consumer !== econsumer || count !== ecount || (o.pelTimes && !near(time, etime, approx, ms))) {
      return `pending ${i}: ${JSON.stringify(apel[i])}, expected ${JSON.stringify(epel[i])}`;
    }
  }
  const ac = [...a.consumers].sort(byName);
  const ec = [...e.consumers].sort(byName);
  if (ac.length !== ec.length) return `${ac.length} consumers, expected ${ec.length}`;
  for (let i = 0; i < ec.length; i++) {
    const x = ac[i]!;
    const y = ec[i]!;
    const ok =
      x.name_b64 === y.name_b64 &&
      (!o.consumerTimes || near(x.seen_time_ms, y.seen_time_ms, approx, ms)) &&
      (!o.consumerTimes ||
        o.ignore.has('active_time_ms') ||
        y.active_time_ms === undefined ||
        near(x.active_time_ms, y.active_time_ms, approx, ms)) &&
      JSON.stringify([...x.pel].sort(compareIds)) === JSON.stringify([...y.pel].sort(compareIds));
    if (!ok) return `consumer ${i}: ${JSON.stringify(x)}, expected ${JSON.stringify(y)}`;
  }
  return null;
}

function compareIds(x: string, y: string): number {
  const [xm, xs] = x.split('-').map(BigInt) as [bigint, bigint];
  const [ym, ys] = y.split('-').map(BigInt) as [bigint, bigint];
  return xm === ym ? (xs < ys ? -1 : xs > ys ? 1 : 0) : xm < ym ? -1 : 1;
}

const byId = (x: [string, ...unknown[]], y: [string, ...unknown[]]): number => compareIds(x[0], y[0]);
