/**
 * Turns `shake decode --format jsonl` records (docs/decode.md: strings are UTF-8 text or {"base64"})
 * into the fixtures' record shape (test/helpers/records.ts: everything base64, sets/hashes sorted by
 * bytes, zsets by score then member), so they can be compared with `<label>.expected.jsonl`.
 */
import { bytesFromJson } from '../../../src/sinks/text/json-bytes.js';
import { parseScore } from '../../../src/rewrite/score.js';
import type { KeyRecord, StreamGroupRecord, StreamRecord } from '../../helpers/records.js';

type J = unknown;
const b64 = (v: J): string => bytesFromJson(v).toString('base64');
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'base64'), Buffer.from(b, 'base64'));

export interface DecodedLine {
  db?: number;
  key?: J;
  type?: string;
  encoding?: string;
  expire_at_ms?: number;
  expire_at?: string;
  idle?: number;
  freq?: number;
  value?: J;
  function?: J;
}

export function parseDecodedJsonl(text: string): DecodedLine[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as DecodedLine);
}

export function toRecord(d: DecodedLine): KeyRecord {
  const rec: KeyRecord = {
    db: d.db ?? -1,
    key_b64: b64(d.key),
    type: d.type ?? '?',
    encoding: d.encoding,
    expire_at_ms: d.expire_at_ms ?? null,
    value: { b64: '' },
  };
  const v = d.value;
  switch (d.type) {
    case 'string':
      rec.value = { b64: b64(v) };
      break;
    case 'list':
      rec.value = (v as J[]).map(b64);
      break;
    case 'set':
      rec.value = (v as J[]).map(b64).sort(byBytes);
      break;
    case 'zset': {
      const pairs = (v as [J, string][]).map(([m, s]) => [b64(m), s] as [string, string]);
      pairs.sort((a, b) => parseScore(a[1]) - parseScore(b[1]) || byBytes(a[0], b[0]));
      rec.value = pairs;
      break;
    }
    case 'hash': {
      const rows = v as ([J, J] | [J, J, number])[];
      const pairs = rows.map((r) => [b64(r[0]), b64(r[1])] as [string, string]).sort((a, b) => byBytes(a[0], b[0]));
      rec.value = pairs;
      const ttl = rows
        .filter((r) => r.length === 3)
        .map((r) => [b64(r[0]), r[2] as number] as [string, number])
        .sort((a, b) => byBytes(a[0], b[0]));
      if (ttl.length > 0) rec.hash_field_expire_at_ms = ttl;
      break;
    }
    case 'stream':
      rec.value = streamRecord(v as Record<string, J>);
      break;
    default:
      rec.value = v as KeyRecord['value'];
  }
  return rec;
}

interface DecodedGroup {
  name: J;
  last_delivered_id: string;
  entries_read: number | null;
  pel: [string, J, number, number][];
  consumers: { name: J; seen_time_ms: number; active_time_ms: number | null; pel: string[] }[];
}

function streamRecord(v: Record<string, J>): StreamRecord {
  const entries = (v.entries as [string, [J, J][]][]).map(
    ([id, fields]) =>
      [id, fields.map(([f, x]) => [b64(f), b64(x)] as [string, string])] as [string, [string, string][]],
  );
  const groups: StreamGroupRecord[] = (v.groups as DecodedGroup[])
    .map((g) => ({
      name_b64: b64(g.name),
      last_delivered_id: g.last_delivered_id,
      entries_read: g.entries_read,
      pel: g.pel.map(([id, c, t, n]) => [id, c === null ? '' : b64(c), t, n] as [string, string, number, number]),
      consumers: g.consumers
        .map((c) => ({
          name_b64: b64(c.name),
          seen_time_ms: c.seen_time_ms,
          active_time_ms: c.active_time_ms,
          pel: c.pel,
        }))
        .sort((a, b) => byBytes(a.name_b64, b.name_b64)),
    }))
    .sort((a, b) => byBytes(a.name_b64, b.name_b64));
  return {
    entries,
    length: v.length as number,
    last_id: v.last_id as string,
    first_id: v.first_id as string | null,
    max_deleted_entry_id: v.max_deleted_entry_id as string | null,
    entries_added: v.entries_added as number | null,
    groups,
  };
}
