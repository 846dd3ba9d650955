/**
 * Whole values of one key, as the RDB parser reports them (from a DUMP payload or an RDB file), and their
 * comparison, independent of encoding: list order, set and hash contents, zset members with scores compared
 * as doubles (exactly: Object.is, so -0 and 0 differ as Redis keeps them apart), streams with their metadata,
 * consumer groups, pending entries and consumers. Used for keys under the big-key threshold only, so a value
 * is in memory whole; bigger keys go through chunks.ts.
 */
import type {
  HashEntry,
  RdbEvent,
  RedisType,
  StreamEntry,
  StreamGroup,
  StreamId,
  StreamMeta,
  ZsetEntry,
} from '@shake/rdb';
import type { Detail, Finding } from './problems.js';

export interface KeyValue {
  type: RedisType;
  string: Buffer[];
  list: Buffer[];
  set: Buffer[];
  hash: HashEntry[];
  zset: ZsetEntry[];
  entries: StreamEntry[];
  meta: StreamMeta | null;
  groups: StreamGroup[];
  module: Buffer | null;
}

export interface CompareOptions {
  /** The target can hold hash field expiries (Redis 7.4+). */
  targetFieldTtl: boolean;
}

export function emptyValue(type: RedisType): KeyValue {
  return { type, string: [], list: [], set: [], hash: [], zset: [], entries: [], meta: null, groups: [], module: null };
}

/** Gathers the value events of one key (everything between key-start and key-end). */
export function addValueEvent(v: KeyValue, e: RdbEvent): void {
  switch (e.kind) {
    case 'string':
      v.string.push(e.value);
      break;
    case 'list-items':
      for (const x of e.items) v.list.push(x);
      break;
    case 'set-members':
      for (const x of e.members) v.set.push(x);
      break;
    case 'hash-entries':
      for (const x of e.entries) v.hash.push(x);
      break;
    case 'zset-entries':
      for (const x of e.entries) v.zset.push(x);
      break;
    case 'stream-entries':
      for (const x of e.entries) v.entries.push(x);
      break;
    case 'stream-meta':
      v.meta = e.meta;
      break;
    case 'stream-group':
      v.groups.push(e.group);
      break;
    case 'module':
      v.module = e.value.raw;
      break;
    default:
      break;
  }
}

/** The value of a parsed key: its key-start's type and the value events that follow. */
export function valueOfEvents(events: readonly RdbEvent[]): KeyValue {
  let v: KeyValue | null = null;
  for (const e of events) {
    if (e.kind === 'key-start') v = emptyValue(e.header.type);
    else if (v) addValueEvent(v, e);
  }
  if (!v) throw new Error('no key in the parsed value');
  return v;
}

export function idText(id: StreamId | null): string | null {
  return id === null ? null : `${id.ms}-${id.seq}`;
}

/** null when equal; else what differs first. The types are compared by the caller. */
export function compareValues(src: KeyValue, tgt: KeyValue, opts: CompareOptions): Finding | null {
  switch (src.type) {
    case 'string':
      return compareBytes(Buffer.concat(src.string), Buffer.concat(tgt.string));
    case 'list':
      return compareSequence(src.list, tgt.list, 0);
    case 'set':
      return compareSets(src.set, tgt.set);
    case 'zset':
      return compareZsets(src.zset, tgt.zset);
    case 'hash':
      return compareHashes(src.hash, tgt.hash, opts);
    case 'stream':
      return compareStreams(src, tgt);
    case 'module':
      return src.module && tgt.module && src.module.equals(tgt.module)
        ? null
        : value({ what: 'module value', detail: 'the serialized module values differ' });
  }
}

export function value(detail: Detail): Finding {
  return { problem: 'value', detail };
}

export function compareBytes(a: Buffer, b: Buffer, offset = 0): Finding | null {
  if (a.equals(b)) return null;
  let i = 0;
  const n = Math.min(a.length, b.length);
  while (i < n && a[i] === b[i]) i++;
  if (a.length !== b.length && offset === 0) {
    return value({ what: 'length', source: a.length, target: b.length, firstDifferenceAt: i });
  }
  return value({ what: 'bytes', firstDifferenceAt: offset + i });
}

/** Lists (and list chunks starting at `start`): element by element. */
export function compareSequence(a: readonly Buffer[], b: readonly Buffer[], start: number): Finding | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (!a[i]!.equals(b[i]!)) return value({ what: 'element', index: start + i, source: a[i]!, target: b[i]! });
  }
  if (a.length !== b.length) return value({ what: 'length', source: start + a.length, target: start + b.length });
  return null;
}

function byBytes(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

/** The first member of `a` not in `b` (both sorted), or null. */
function firstMissing(a: readonly Buffer[], b: readonly Buffer[]): Buffer | null {
  let j = 0;
  for (const x of a) {
    while (j < b.length && Buffer.compare(b[j]!, x) < 0) j++;
    if (j >= b.length || !b[j]!.equals(x)) return x;
  }
  return null;
}

function compareSets(src: Buffer[], tgt: Buffer[]): Finding | null {
  if (src.length === tgt.length) {
    // Members are distinct: as many on both sides and every target member on the source is equal.
    const s = new Set<string>();
    for (const x of src) s.add(x.toString('latin1'));
    if (tgt.every((x) => s.has(x.toString('latin1')))) return null;
  }
  const a = [...src].sort(byBytes);
  const b = [...tgt].sort(byBytes);
  const missing = firstMissing(a, b);
  if (missing) return value({ what: 'member', member: missing, source: true, target: false });
  const extra = firstMissing(b, a);
  if (extra) return value({ what: 'member', member: extra, source: false, target: true });
  return null;
}

function keyed<T>(items: readonly T[], key: (t: T) => Buffer): Map<string, T> {
  const m = new Map<string, T>();
  for (const t of items) m.set(key(t).toString('latin1'), t);
  return m;
}

function compareZsets(src: ZsetEntry[], tgt: ZsetEntry[]): Finding | null {
  const t = keyed(tgt, (e) => e.member);
  for (const e of src) {
    const other = t.get(e.member.toString('latin1'));
    if (!other) return value({ what: 'member', member: e.member, source: e.score, target: null });
    if (!Object.is(other.score, e.score))
      return value({ what: 'score', member: e.member, source: e.score, target: other.score });
  }
  if (tgt.length !== src.length) {
    const s = keyed(src, (e) => e.member);
    const extra = tgt.find((e) => !s.has(e.member.toString('latin1')));
    if (extra) return value({ what: 'member', member: extra.member, source: null, target: extra.score });
  }
  return null;
}

function compareHashes(src: HashEntry[], tgt: HashEntry[], opts: CompareOptions): Finding | null {
  const t = keyed(tgt, (e) => e.field);
  for (const e of src) {
    const other = t.get(e.field.toString('latin1'));
    if (!other) return value({ what: 'field', field: e.field, source: e.value, target: null });
    if (!other.value.equals(e.value))
      return value({ what: 'field', field: e.field, source: e.value, target: other.value });
  }
  if (tgt.length !== src.length) {
    const s = keyed(src, (e) => e.field);
    const extra = tgt.find((e) => !s.has(e.field.toString('latin1')));
    if (extra) return value({ what: 'field', field: extra.field, source: null, target: extra.value });
  }
  return compareFieldTtls(src, t, opts);
}

/** Hash field expiries (7.4+): after the fields and values are known equal. */
export function compareFieldTtls(src: HashEntry[], tgt: Map<string, HashEntry>, opts: CompareOptions): Finding | null {
  let unsupported = 0;
  let first: HashEntry | null = null;
  for (const e of src) {
    const s = e.expireAtMs ?? null;
    const other = tgt.get(e.field.toString('latin1'));
    const t = other?.expireAtMs ?? null;
    if (!opts.targetFieldTtl) {
      if (s !== null) {
        unsupported++;
        first ??= e;
      }
      continue;
    }
    if (s !== t) return { problem: 'field-ttl', detail: { field: e.field, source: s, target: t } };
  }
  if (unsupported > 0 && first) {
    return {
      problem: 'field-ttl-unsupported',
      detail: { fields: unsupported, field: first.field, source: first.expireAtMs ?? null, target: null },
    };
  }
  return null;
}

function sameFields(a: [Buffer, Buffer][], b: [Buffer, Buffer][]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (!a[i]![0].equals(b[i]![0]) || !a[i]![1].equals(b[i]![1])) return false;
  }
  return true;
}

function sameId(a: StreamId | null, b: StreamId | null): boolean {
  return a === null || b === null ? a === b : a.ms === b.ms && a.seq === b.seq;
}

/** Stream entries (from position `start`): ids and field/value pairs. */
export function compareEntries(a: readonly StreamEntry[], b: readonly StreamEntry[], start: number): Finding | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!sameId(x.id, y.id))
      return value({ what: 'entry', index: start + i, source: idText(x.id), target: idText(y.id) });
    if (!sameFields(x.fields, y.fields)) return value({ what: 'entry', id: idText(x.id), detail: 'fields differ' });
  }
  if (a.length !== b.length) {
    const extra = a.length > b.length ? a[n]! : b[n]!;
    return value({ what: 'entry', id: idText(extra.id), source: a.length > b.length, target: b.length > a.length });
  }
  return null;
}

/**
 * Length, last id, max deleted id and entries added (each where both sides state it: an RDB before 7.0
 * holds no max deleted id nor entries added).
 */
export function compareStreamMeta(a: StreamMeta | null, b: StreamMeta | null): Finding | null {
  if (!a || !b) return null;
  if (a.length !== b.length) return value({ what: 'stream length', source: a.length, target: b.length });
  if (!sameId(a.lastId, b.lastId))
    return value({ what: 'last id', source: idText(a.lastId), target: idText(b.lastId) });
  if (a.maxDeletedEntryId && b.maxDeletedEntryId && !sameId(a.maxDeletedEntryId, b.maxDeletedEntryId)) {
    return value({
      what: 'max deleted id',
      source: idText(a.maxDeletedEntryId),
      target: idText(b.maxDeletedEntryId),
    });
  }
  if (a.entriesAdded !== null && b.entriesAdded !== null && a.entriesAdded !== b.entriesAdded) {
    return value({ what: 'entries added', source: a.entriesAdded, target: b.entriesAdded });
  }
  return null;
}

/** Consumer groups: last-delivered id, entries-read, pending entries (id, consumer, delivery count), consumers. */
export function compareGroups(src: StreamGroup[], tgt: StreamGroup[]): Finding | null {
  const t = keyed(tgt, (g) => g.name);
  for (const g of src) {
    const o = t.get(g.name.toString('latin1'));
    const group = g.name;
    if (!o) return value({ what: 'group', group, source: true, target: false });
    if (!sameId(g.lastId, o.lastId)) {
      return value({ what: 'group last-delivered id', group, source: idText(g.lastId), target: idText(o.lastId) });
    }
    if (g.entriesRead !== null && o.entriesRead !== null && g.entriesRead !== o.entriesRead) {
      return value({ what: 'group entries-read', group, source: g.entriesRead, target: o.entriesRead });
    }
    const pel = comparePel(g, o);
    if (pel) return pel;
    const consumers = keyed(o.consumers, (c) => c.name);
    for (const c of g.consumers) {
      const oc = consumers.get(c.name.toString('latin1'));
      if (!oc) return value({ what: 'consumer', group, consumer: c.name, source: true, target: false });
      if (oc.pel.length !== c.pel.length) {
        return value({
          what: 'consumer pending',
          group,
          consumer: c.name,
          source: c.pel.length,
          target: oc.pel.length,
        });
      }
    }
    if (o.consumers.length !== g.consumers.length) {
      const s = keyed(g.consumers, (c) => c.name);
      const extra = o.consumers.find((c) => !s.has(c.name.toString('latin1')));
      if (extra) return value({ what: 'consumer', group, consumer: extra.name, source: false, target: true });
    }
  }
  if (tgt.length !== src.length) {
    const s = keyed(src, (g) => g.name);
    const extra = tgt.find((g) => !s.has(g.name.toString('latin1')));
    if (extra) return value({ what: 'group', group: extra.name, source: false, target: true });
  }
  return null;
}

function comparePel(g: StreamGroup, o: StreamGroup): Finding | null {
  const t = new Map(o.pel.map((p) => [idText(p.id)!, p]));
  const group = g.name;
  for (const p of g.pel) {
    const id = idText(p.id)!;
    const q = t.get(id);
    if (!q) return value({ what: 'pending entry', group, id, source: true, target: false });
    if (!bytesEq(p.consumer, q.consumer)) {
      return value({ what: 'pending entry consumer', group, id, source: p.consumer, target: q.consumer });
    }
    if (p.deliveryCount !== q.deliveryCount) {
      return value({
        what: 'pending entry delivery count',
        group,
        id,
        source: p.deliveryCount,
        target: q.deliveryCount,
      });
    }
  }
  if (o.pel.length !== g.pel.length) {
    const s = new Set(g.pel.map((p) => idText(p.id)!));
    const extra = o.pel.find((p) => !s.has(idText(p.id)!));
    if (extra) return value({ what: 'pending entry', group, id: idText(extra.id), source: false, target: true });
  }
  return null;
}

function bytesEq(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

function compareStreams(src: KeyValue, tgt: KeyValue): Finding | null {
  return (
    compareEntries(src.entries, tgt.entries, 0) ??
    compareStreamMeta(src.meta, tgt.meta) ??
    compareGroups(src.groups, tgt.groups)
  );
}
