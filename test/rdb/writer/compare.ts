/**
 * Compares records read back from a live server with the records a test meant to store.
 * Zset scores are compared as numbers (servers print them differently across versions: %.17g before 7.2,
 * shortest form after; 7.0+ prints -0 as "0", so -0 and 0 compare equal).
 */
import assert from 'node:assert/strict';
import type { KeyRecord, StreamRecord } from '../../helpers/records.js';

export interface CompareOptions {
  /** Compare first id / max deleted id / entries added / entries read (RDB stream v2+ targets). */
  streamMeta?: boolean;
  /** Compare hash field TTLs (hash_field_expire_at_ms). */
  fieldTtls?: boolean;
  /** Compare PEL delivery times and consumer seen times (default true; 5.0 fixtures only approximate them). */
  streamTimes?: boolean;
  /** Expiry tolerance for records marked expire_approx (fixtures from servers without PEXPIRETIME). */
  expireSlackMs?: number;
}

export function parseScore(s: string): number {
  if (s === 'inf' || s === '+inf') return Infinity;
  if (s === '-inf') return -Infinity;
  const v = Number(s);
  return v === 0 ? 0 : v;
}

function normalize(r: KeyRecord, opts: CompareOptions): unknown {
  let value: unknown = r.value;
  if (r.type === 'zset') {
    value = (r.value as [string, string][]).map(([m, s]) => [m, parseScore(s)]);
  } else if (r.type === 'stream') {
    const s = r.value as StreamRecord;
    value = {
      entries: s.entries,
      length: s.length,
      last_id: s.last_id,
      ...(opts.streamMeta
        ? { first_id: s.first_id, max_deleted_entry_id: s.max_deleted_entry_id, entries_added: s.entries_added }
        : {}),
      // active-time is 7.2+ only: the 7.0 server these tests load into never reports it.
      groups: s.groups.map((g) => ({
        ...g,
        entries_read: opts.streamMeta ? g.entries_read : undefined,
        pel: g.pel.map(([id, c, time, n]) => [id, c, opts.streamTimes === false ? 0 : time, n]),
        consumers: g.consumers.map((c) => ({
          name_b64: c.name_b64,
          seen_time_ms: opts.streamTimes === false ? 0 : c.seen_time_ms,
          pel: c.pel,
        })),
      })),
    };
  }
  return {
    db: r.db,
    key: Buffer.from(r.key_b64, 'base64').toString('latin1'),
    type: r.type,
    expire_at_ms: r.expire_at_ms,
    value,
    ...(opts.fieldTtls && r.hash_field_expire_at_ms ? { hfe: r.hash_field_expire_at_ms } : {}),
  };
}

export function assertSameRecords(actual: KeyRecord[], expected: KeyRecord[], opts: CompareOptions = {}): void {
  const byId = (r: KeyRecord): string => `${r.db}:${r.key_b64}`;
  const exp = new Map(expected.map((r) => [byId(r), r]));
  const act = new Map(actual.map((r) => [byId(r), r]));
  const missing = [...exp.keys()].filter((k) => !act.has(k));
  const extra = [...act.keys()].filter((k) => !exp.has(k));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, 'same key set');
  for (const [k, e] of exp) {
    const a = act.get(k)!;
    const slack = e.expire_approx ? (opts.expireSlackMs ?? 0) : 0;
    if (slack > 0 && a.expire_at_ms !== null && e.expire_at_ms !== null) {
      assert.ok(
        Math.abs(a.expire_at_ms - e.expire_at_ms) <= slack,
        `key ${k}: expiry ${a.expire_at_ms} vs ${e.expire_at_ms}`,
      );
      assert.deepEqual(normalize({ ...a, expire_at_ms: e.expire_at_ms }, opts), normalize(e, opts), `key ${k}`);
    } else {
      assert.deepEqual(normalize(a, opts), normalize(e, opts), `key ${k}`);
    }
  }
}
