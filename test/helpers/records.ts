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
