/**
 * Building blocks of the writer test samples: a sample is a key's value events (what the writer takes)
 * plus the record a server should hold after loading it, built from the same input, never from output.
 */
import type { HashEntry, KeyHeader, RedisType, StreamEntry, StreamGroup, StreamId, ValueEvent } from '@shake/rdb';
import type { KeyRecord, StreamRecord } from '../../helpers/records.js';
import { groupRecords } from '../../helpers/events-to-records.js';
import { prng } from '../../helpers/prng.js';

export interface Sample {
  header: KeyHeader;
  events: ValueEvent[];
  expected: KeyRecord;
  /** Element count (for the "count known" variant of collections). */
  count?: number;
}

const b64 = (b: Buffer): string => b.toString('base64');
export const buf = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s) : s);
export const idText = (id: StreamId): string => `${id.ms}-${id.seq}`;

export { prng };

export function header(type: RedisType, key: string | Buffer, expireAtMs: number | null = null, db = 0): KeyHeader {
  return { db, key: buf(key), type, rdbType: -1, encoding: '', expireAtMs, offset: 0 };
}

export function record(h: KeyHeader, value: KeyRecord['value']): KeyRecord {
  return { db: h.db, key_b64: b64(h.key), type: h.type, expire_at_ms: h.expireAtMs, value };
}

export function stringSample(key: string | Buffer, value: Buffer, expireAtMs: number | null = null, db = 0): Sample {
  const h = header('string', key, expireAtMs, db);
  return { header: h, events: [{ kind: 'string', value }], expected: record(h, { b64: b64(value) }) };
}

/** Splits `items` into events of `batch` elements, like the parser's batches. */
export function batches<T>(items: T[], batch: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += batch) out.push(items.slice(i, i + batch));
  return out.length > 0 ? out : [[]];
}

export function listSample(key: string, items: Buffer[], expireAtMs: number | null = null, db = 0): Sample {
  const h = header('list', key, expireAtMs, db);
  return {
    header: h,
    events: batches(items, 100).map((b) => ({ kind: 'list-items', items: b })),
    expected: record(h, items.map(b64)),
    count: items.length,
  };
}

export function setSample(key: string, members: Buffer[], expireAtMs: number | null = null, db = 0): Sample {
  const h = header('set', key, expireAtMs, db);
  const sorted = [...members].sort(Buffer.compare);
  return {
    header: h,
    events: batches(members, 100).map((b) => ({ kind: 'set-members', members: b })),
    expected: record(h, sorted.map(b64)),
    count: members.length,
  };
}

/** Zset records hold scores as numbers printed with String(); tests compare scores numerically. */
export function zsetSample(key: string, entries: [Buffer, number][], expireAtMs: number | null = null, db = 0): Sample {
  const h = header('zset', key, expireAtMs, db);
  const sorted = [...entries].sort((a, b) => a[1] - b[1] || Buffer.compare(a[0], b[0]));
  return {
    header: h,
    events: batches(entries, 100).map((b) => ({
      kind: 'zset-entries',
      entries: b.map(([member, score]) => ({ member, score })),
    })),
    expected: record(
      h,
      sorted.map(([m, s]): [string, string] => [b64(m), String(s)]),
    ),
    count: entries.length,
  };
}

export function hashSample(key: string, entries: HashEntry[], expireAtMs: number | null = null, db = 0): Sample {
  const h = header('hash', key, expireAtMs, db);
  const sorted = [...entries].sort((a, b) => Buffer.compare(a.field, b.field));
  return {
    header: h,
    events: batches(entries, 100).map((b) => ({ kind: 'hash-entries', entries: b })),
    expected: record(
      h,
      sorted.map((e): [string, string] => [b64(e.field), b64(e.value)]),
    ),
    count: entries.length,
  };
}

export interface StreamInput {
  entries: StreamEntry[];
  lastId?: StreamId;
  maxDeletedEntryId?: StreamId | null;
  entriesAdded?: number | null;
  firstId?: StreamId | null;
  groups?: StreamGroup[];
}

export function streamSample(key: string, s: StreamInput, expireAtMs: number | null = null, db = 0): Sample {
  const h = header('stream', key, expireAtMs, db);
  const last = s.lastId ?? s.entries.at(-1)?.id ?? { ms: 0n, seq: 0n };
  const first = s.firstId !== undefined ? s.firstId : (s.entries[0]?.id ?? { ms: 0n, seq: 0n });
  const groups = s.groups ?? [];
  const events: ValueEvent[] = batches(s.entries, 50).map((b) => ({ kind: 'stream-entries', entries: b }));
  events.push({
    kind: 'stream-meta',
    meta: {
      length: s.entries.length,
      lastId: last,
      firstId: first,
      maxDeletedEntryId: s.maxDeletedEntryId ?? { ms: 0n, seq: 0n },
      entriesAdded: s.entriesAdded ?? s.entries.length,
    },
  });
  for (const g of groups) events.push({ kind: 'stream-group', group: g });
  const value: StreamRecord = {
    entries: s.entries.map((e): [string, [string, string][]] => [
      idText(e.id),
      e.fields.map(([f, v]): [string, string] => [b64(f), b64(v)]),
    ]),
    length: s.entries.length,
    last_id: idText(last),
    first_id: first ? idText(first) : '0-0',
    max_deleted_entry_id: idText(s.maxDeletedEntryId ?? { ms: 0n, seq: 0n }),
    entries_added: s.entriesAdded ?? s.entries.length,
    groups: groupRecords(groups),
  };
  return { header: h, events, expected: record(h, value) };
}

export const id = (ms: number | bigint, seq: number | bigint = 0): StreamId => ({ ms: BigInt(ms), seq: BigInt(seq) });
export const FUTURE = 4102444800000; // 2100-01-01

export function deterministicBytes(n: number, seed: number): Buffer {
  const r = prng(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}
