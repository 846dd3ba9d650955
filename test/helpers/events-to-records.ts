/**
 * Turns parser events into the fixtures' expected.jsonl record shape (see records.ts), so a parsed RDB
 * can be compared with what a live server returned (compare-records.ts). Also collects the header,
 * the AUX fields and the function libraries of the file.
 */
import type { RdbEvent, StreamEntry, StreamGroup, StreamId, StreamMeta, ZsetEntry, HashEntry } from '@shake/rdb';
import type { KeyRecord, StreamGroupRecord, StreamRecord } from './records.js';

export interface RdbSummary {
  header: { magic: string; version: number } | null;
  /** AUX fields, key and value decoded as UTF-8. */
  aux: Record<string, string>;
  functions: Buffer[];
  records: KeyRecord[];
  end: Extract<RdbEvent, { kind: 'end' }> | null;
}

const b64 = (b: Buffer): string => b.toString('base64');
export const idString = (id: StreamId): string => `${id.ms}-${id.seq}`;

/** A score as text: shortest round-trip form, "inf"/"-inf" for infinities (numeric comparison is what counts). */
export function formatScore(n: number): string {
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

interface KeyState {
  header: Extract<RdbEvent, { kind: 'key-start' }>['header'];
  items: Buffer[];
  zset: ZsetEntry[];
  hash: HashEntry[];
  string: Buffer | null;
  entries: StreamEntry[];
  meta: StreamMeta | null;
  groups: StreamGroup[];
  module: Buffer | null;
}

/** Accumulates events (any batching) into records. Holds whole values in memory: for tests only. */
export class RecordBuilder {
  private readonly summary: RdbSummary = { header: null, aux: {}, functions: [], records: [], end: null };
  private key: KeyState | null = null;

  add(events: Iterable<RdbEvent>): this {
    for (const ev of events) this.one(ev);
    return this;
  }

  private one(ev: RdbEvent): void {
    const k = this.key;
    switch (ev.kind) {
      case 'header':
        this.summary.header = { magic: ev.magic, version: ev.version };
        return;
      case 'aux':
        this.summary.aux[ev.key.toString('utf8')] = ev.value.toString('utf8');
        return;
      case 'function':
        this.summary.functions.push(ev.code);
        return;
      case 'end':
        this.summary.end = ev;
        return;
      case 'key-start':
        if (k) throw new Error('key-start inside a key');
        this.key = {
          header: ev.header,
          items: [],
          zset: [],
          hash: [],
          string: null,
          entries: [],
          meta: null,
          groups: [],
          module: null,
        };
        return;
      case 'key-end':
        if (!k) throw new Error('key-end outside a key');
        this.summary.records.push(toRecord(k));
        this.key = null;
        return;
      default:
        break;
    }
    if (!k) {
      if (ev.kind === 'select-db' || ev.kind === 'resize-db' || ev.kind === 'slot-info') return;
      if (ev.kind === 'function-pre-ga' || ev.kind === 'module-aux') return;
      throw new Error(`${ev.kind} outside a key`);
    }
    switch (ev.kind) {
      case 'string':
        k.string = ev.value;
        break;
      case 'list-items':
        for (const i of ev.items) k.items.push(i);
        break;
      case 'set-members':
        for (const m of ev.members) k.items.push(m);
        break;
      case 'zset-entries':
        for (const e of ev.entries) k.zset.push(e);
        break;
      case 'hash-entries':
        for (const e of ev.entries) k.hash.push(e);
        break;
      case 'stream-entries':
        for (const e of ev.entries) k.entries.push(e);
        break;
      case 'stream-meta':
        k.meta = ev.meta;
        break;
      case 'stream-group':
        k.groups.push(ev.group);
        break;
      case 'module':
        k.module = ev.value.raw;
        break;
      default:
        throw new Error(`unexpected ${ev.kind} inside a key`);
    }
  }

  finish(): RdbSummary {
    if (this.key) throw new Error('events ended inside a key');
    this.summary.records.sort(
      (a, b) => a.db - b.db || Buffer.compare(Buffer.from(a.key_b64, 'base64'), Buffer.from(b.key_b64, 'base64')),
    );
    return this.summary;
  }
}

export function eventsToRecords(events: Iterable<RdbEvent>): KeyRecord[] {
  return new RecordBuilder().add(events).finish().records;
}

function toRecord(k: KeyState): KeyRecord {
  const h = k.header;
  const rec: KeyRecord = {
    db: h.db,
    key_b64: b64(h.key),
    type: h.type,
    encoding: h.encoding,
    expire_at_ms: h.expireAtMs,
    value: { b64: '' },
  };
  switch (h.type) {
    case 'string':
      rec.value = { b64: b64(k.string ?? Buffer.alloc(0)) };
      break;
    case 'list':
      rec.value = k.items.map(b64);
      break;
    case 'set':
      rec.value = [...k.items].sort(Buffer.compare).map(b64);
      break;
    case 'zset':
      rec.value = [...k.zset]
        .sort((a, b) => (a.score === b.score ? Buffer.compare(a.member, b.member) : a.score < b.score ? -1 : 1))
        .map((e): [string, string] => [b64(e.member), formatScore(e.score)]);
      break;
    case 'hash': {
      const sorted = [...k.hash].sort((a, b) => Buffer.compare(a.field, b.field));
      rec.value = sorted.map((e): [string, string] => [b64(e.field), b64(e.value)]);
      const ttls = sorted.filter((e) => e.expireAtMs !== undefined && e.expireAtMs !== null);
      if (ttls.length > 0) rec.hash_field_expire_at_ms = ttls.map((e) => [b64(e.field), e.expireAtMs!]);
      break;
    }
    case 'stream':
      rec.value = streamRecord(k);
      break;
    default:
      rec.value = { b64: b64(k.module ?? Buffer.alloc(0)) };
  }
  return rec;
}

/** Stream consumer groups as the records hold them: sorted by name, ids as text, names in base64. */
export function groupRecords(groups: readonly StreamGroup[]): StreamGroupRecord[] {
  return [...groups]
    .sort((a, b) => Buffer.compare(a.name, b.name))
    .map((g) => ({
      name_b64: b64(g.name),
      last_delivered_id: idString(g.lastId),
      entries_read: g.entriesRead,
      pel: g.pel.map((p): [string, string, number, number] => [
        idString(p.id),
        p.consumer ? b64(p.consumer) : '',
        p.deliveryTimeMs,
        p.deliveryCount,
      ]),
      consumers: [...g.consumers]
        .sort((a, b) => Buffer.compare(a.name, b.name))
        .map((c) => ({
          name_b64: b64(c.name),
          seen_time_ms: c.seenTimeMs,
          active_time_ms: c.activeTimeMs,
          pel: c.pel.map(idString),
        })),
    }));
}

function streamRecord(k: KeyState): StreamRecord {
  const meta = k.meta;
  if (!meta) throw new Error('stream without stream-meta');
  const groups = groupRecords(k.groups);
  return {
    entries: k.entries.map((e): [string, [string, string][]] => [
      idString(e.id),
      e.fields.map(([f, v]): [string, string] => [b64(f), b64(v)]),
    ]),
    length: meta.length,
    last_id: idString(meta.lastId),
    first_id: meta.firstId ? idString(meta.firstId) : null,
    max_deleted_entry_id: meta.maxDeletedEntryId ? idString(meta.maxDeletedEntryId) : null,
    entries_added: meta.entriesAdded,
    groups,
  };
}
