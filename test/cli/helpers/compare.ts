/**
 * Compares records in the fixtures' shape: ours (from decode, or a live server read back) against
 * `<label>.expected.jsonl`. Returns human-readable differences (empty = equal). Scores are compared as
 * numbers (the servers print them differently by version); expiry within 2 s when the fixture says it
 * is approximate; stream times within 2 s when `times_approx`; `encoding` is ignored (OBJECT ENCODING
 * is not the RDB encoding).
 */
import { parseScore } from '../../../src/rewrite/score.js';
import { recordId, type KeyRecord, type StreamRecord } from '../../helpers/records.js';

export interface CompareOptions {
  /** Ignore expire_at_ms differences up to this many ms (default: 0, or 2000 for expire_approx records). */
  expireToleranceMs?: number;
  /** Ignore stream consumers' seen/active times (a rebuilt stream's consumers were last seen at rebuild time). */
  ignoreConsumerTimes?: boolean;
  /** Ignore these stream fields (e.g. ones an older source did not record); 'entries_read' for groups. */
  ignoreStreamFields?: (keyof StreamRecord | 'entries_read')[];
  /** Skip records for which this returns true (on the expected side). */
  skip?: (r: KeyRecord) => boolean;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function compareRecords(ours: KeyRecord[], expected: KeyRecord[], opts: CompareOptions = {}): string[] {
  const diffs: string[] = [];
  const mine = new Map(ours.map((r) => [recordId(r), r]));
  const wanted = expected.filter((r) => !opts.skip?.(r));
  const wantedIds = new Set(wanted.map(recordId));
  for (const r of ours) {
    if (!wantedIds.has(recordId(r)) && !expected.some((e) => recordId(e) === recordId(r) && opts.skip?.(e))) {
      diffs.push(`unexpected key ${recordId(r)}`);
    }
  }
  for (const e of wanted) {
    const id = recordId(e);
    const o = mine.get(id);
    if (!o) {
      diffs.push(`missing key ${id}`);
      continue;
    }
    if (o.type !== e.type) diffs.push(`${id}: type ${o.type} != ${e.type}`);
    const tol = opts.expireToleranceMs ?? (e.expire_approx ? 2000 : 0);
    if ((o.expire_at_ms === null) !== (e.expire_at_ms === null)) {
      diffs.push(`${id}: expire_at_ms ${o.expire_at_ms} != ${e.expire_at_ms}`);
    } else if (o.expire_at_ms !== null && e.expire_at_ms !== null && Math.abs(o.expire_at_ms - e.expire_at_ms) > tol) {
      diffs.push(`${id}: expire_at_ms ${o.expire_at_ms} != ${e.expire_at_ms}`);
    }
    if (!same(o.hash_field_expire_at_ms ?? [], e.hash_field_expire_at_ms ?? [])) {
      diffs.push(
        `${id}: hash_field_expire_at_ms ${JSON.stringify(o.hash_field_expire_at_ms)} != ${JSON.stringify(e.hash_field_expire_at_ms)}`,
      );
    }
    diffs.push(...compareValue(id, o, e, opts));
  }
  return diffs;
}

function compareValue(id: string, o: KeyRecord, e: KeyRecord, opts: CompareOptions): string[] {
  if (e.type === 'zset') {
    const a = o.value as [string, string][];
    const b = e.value as [string, string][];
    if (a.length !== b.length) return [`${id}: zset length ${a.length} != ${b.length}`];
    for (let i = 0; i < a.length; i++) {
      const [am, as] = a[i] as [string, string];
      const [bm, bs] = b[i] as [string, string];
      // numeric equality: -0 == 0 (7.0+ prints -0 as 0), "inf" vs "inf"
      if (am !== bm || parseScore(as) !== parseScore(bs)) return [`${id}: zset[${i}] ${am}=${as} != ${bm}=${bs}`];
    }
    return [];
  }
  if (e.type === 'stream') return compareStream(id, o.value as StreamRecord, e.value as StreamRecord, e, opts);
  return same(o.value, e.value)
    ? []
    : [`${id}: value differs: ${JSON.stringify(o.value).slice(0, 200)} != ${JSON.stringify(e.value).slice(0, 200)}`];
}

function near(a: number | null | undefined, b: number | null | undefined, tol: number): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return a === b || (a ?? null) === (b ?? null);
  return Math.abs(a - b) <= tol;
}

function compareStream(id: string, o: StreamRecord, e: StreamRecord, rec: KeyRecord, opts: CompareOptions): string[] {
  const diffs: string[] = [];
  const ignore = new Set<string>(opts.ignoreStreamFields ?? []);
  if (!same(o.entries, e.entries)) diffs.push(`${id}: stream entries differ`);
  for (const k of ['length', 'last_id', 'first_id', 'max_deleted_entry_id', 'entries_added'] as const) {
    if (ignore.has(k) || e[k] === undefined) continue;
    if (!same(o[k] ?? null, e[k] ?? null))
      diffs.push(`${id}: stream ${k} ${JSON.stringify(o[k])} != ${JSON.stringify(e[k])}`);
  }
  if (ignore.has('groups')) return diffs;
  // times_approx sits on the record or inside the stream value (5.0 fixtures)
  const tol = rec.times_approx || (e as StreamRecord & { times_approx?: boolean }).times_approx ? 2000 : 0;
  if (o.groups.length !== e.groups.length) return [...diffs, `${id}: ${o.groups.length} groups != ${e.groups.length}`];
  e.groups.forEach((eg, i) => {
    const og = o.groups[i];
    if (!og) return;
    const gid = `${id} group ${eg.name_b64}`;
    if (og.name_b64 !== eg.name_b64 || og.last_delivered_id !== eg.last_delivered_id)
      diffs.push(`${gid}: name/last id differ`);
    if (!ignore.has('entries_read') && (og.entries_read ?? null) !== (eg.entries_read ?? null)) {
      diffs.push(`${gid}: entries_read ${og.entries_read} != ${eg.entries_read}`);
    }
    if (og.pel.length !== eg.pel.length)
      diffs.push(`${gid}: pel ${JSON.stringify(og.pel)} != ${JSON.stringify(eg.pel)}`);
    else
      eg.pel.forEach((ep, j) => {
        const op = og.pel[j] as [string, string, number, number];
        const timeOk = near(op[2], ep[2], tol);
        if (op[0] !== ep[0] || op[1] !== ep[1] || op[3] !== ep[3] || !timeOk)
          diffs.push(`${gid}: pel[${j}] ${JSON.stringify(op)} != ${JSON.stringify(ep)}`);
      });
    if (og.consumers.length !== eg.consumers.length) diffs.push(`${gid}: consumers differ`);
    else
      eg.consumers.forEach((ec, j) => {
        const oc = og.consumers[j];
        if (!oc) return;
        if (oc.name_b64 !== ec.name_b64 || !same(oc.pel, ec.pel)) diffs.push(`${gid}: consumer ${ec.name_b64} differs`);
        if (opts.ignoreConsumerTimes) return;
        if (!near(oc.seen_time_ms, ec.seen_time_ms, tol))
          diffs.push(`${gid}: consumer ${ec.name_b64} seen ${oc.seen_time_ms} != ${ec.seen_time_ms}`);
        if (ec.active_time_ms !== undefined && !near(oc.active_time_ms, ec.active_time_ms, tol)) {
          diffs.push(`${gid}: consumer ${ec.name_b64} active ${oc.active_time_ms} != ${ec.active_time_ms}`);
        }
      });
  });
  return diffs;
}
