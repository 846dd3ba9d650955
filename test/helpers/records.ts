/**
 * The record format of the fixtures' `*.expected.jsonl` (see ../shared/fixtures/README.md): one object
 * per key, every byte string base64. Tests turn both sides (our parser's events, or a live server read
 * back with SCAN/TYPE/...) into these records and compare them with compareRecords().
 */
export interface StreamGroupRecord {
  name_b64: string;
  last_delivered_id: string;
  entries_read: number | null;
  pel: [string, string, number, number][];
  consumers: { name_b64: string; seen_time_ms: number; active_time_ms?: number | null; pel: string[] }[];
}

export interface StreamRecord {
  entries: [string, [string, string][]][];
  length: number;
  last_id: string;
  first_id?: string | null;
  max_deleted_entry_id?: string | null;
  entries_added?: number | null;
  groups: StreamGroupRecord[];
}

export type RecordValue = { b64: string } | string[] | [string, string][] | StreamRecord;

export interface KeyRecord {
  db: number;
  key_b64: string;
  type: 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream' | string;
  encoding?: string;
  expire_at_ms: number | null;
  expire_approx?: boolean;
  times_approx?: boolean;
  value: RecordValue;
  hash_field_expire_at_ms?: [string, number][];
}

export function recordId(r: Pick<KeyRecord, 'db' | 'key_b64'>): string {
  return `${r.db}:${r.key_b64}`;
}

/**
 * The records as a server holds them at `nowMs`: a key whose expiry is at or before it is gone, and so is a
 * hash field whose TTL has passed (a hash left without fields is gone too). Tests judge expiries against a
 * clock they control with this, never against the date the fixture was written.
 */
export function aliveAt(records: readonly KeyRecord[], nowMs: number): KeyRecord[] {
  const out: KeyRecord[] = [];
  for (const r of records) {
    if (r.expire_at_ms !== null && r.expire_at_ms <= nowMs) continue;
    const fieldTtls = r.hash_field_expire_at_ms;
    if (r.type !== 'hash' || !fieldTtls?.some(([, t]) => t <= nowMs)) {
      out.push(r);
      continue;
    }
    const gone = new Set(fieldTtls.filter(([, t]) => t <= nowMs).map(([f]) => f));
    const value = (r.value as [string, string][]).filter(([f]) => !gone.has(f));
    if (value.length === 0) continue;
    const left = fieldTtls.filter(([f]) => !gone.has(f));
    const c: KeyRecord = { ...r, value };
    if (left.length > 0) c.hash_field_expire_at_ms = left;
    else delete c.hash_field_expire_at_ms;
    out.push(c);
  }
  return out;
}
