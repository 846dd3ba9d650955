/**
 * The JSON lines `shake decode` writes (docs/decode.md), read back as key events, so that
 * `shake decode x.rdb | jq ... | shake restore -` works. One record per line:
 *   {"db":0,"key":<bytes>,"type":"hash","encoding":"listpack","expire_at_ms":<ms>,"value":<value>}
 * where <bytes> is a JSON string (its UTF-8 bytes) or {"base64":"..."}; values: string <bytes>; list/set
 * [<bytes>...]; zset [[<bytes>,"<score>"]...]; hash [[<field>,<value>(,<field expire ms>)]...]; stream
 * {"entries":[["<id>",[[f,v]...]]...],"length","last_id","first_id","max_deleted_entry_id","entries_added",
 * "groups":[{"name","last_delivered_id","entries_read","pel":[["<id>",<consumer>,<ms>,<count>]],
 * "consumers":[{"name","seen_time_ms","active_time_ms","pel":["<id>"]}]}]}; module {"module","encver","raw_base64"}.
 * A {"function": <code>} record is a function library.
 *
 * The fixtures' `*.expected.jsonl` shape is read too (a record with "key_b64": every byte string is base64,
 * strings are {"b64"}, hash field TTLs in "hash_field_expire_at_ms"), so a record set read back from a live
 * server can be restored.
 *
 * Memory: one line at a time (the largest record bounds it); its elements go out in batches.
 */
import type { HashEntry, KeyHeader, RdbEvent, RedisType, StreamGroup, StreamId, ZsetEntry } from '@shake/rdb';
import type { Entry, EntryBatch } from '../core/entry.js';
import { parseScore } from '../rewrite/score.js';

export class JsonlError extends Error {
  override readonly name = 'JsonlError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

export interface JsonlSourceOptions {
  onBytes?: (n: number) => void;
  /** Elements per value event (default 1024). */
  batchSize?: number;
  /** Records per yielded batch (default 256). */
  recordsPerBatch?: number;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** rdbType given to keys read from JSON (the value encoder chooses its own encoding for the target). */
const RDB_TYPE_OF: Record<string, number> = { string: 0, list: 1, set: 2, zset: 5, hash: 4, stream: 21, module: 7 };

export async function* jsonlSource(
  chunks: AsyncIterable<Buffer>,
  opts: JsonlSourceOptions = {},
): AsyncGenerator<EntryBatch> {
  const reader = new RecordReader(opts.batchSize ?? 1024);
  const perBatch = opts.recordsPerBatch ?? 256;
  let parts: Buffer[] = [];
  let out: Entry[] = [];
  let records = 0;
  let lineNo = 0;
  const line = (buf: Buffer): void => {
    lineNo++;
    const text = buf.toString('utf8').trim();
    if (text === '' || text === '[' || text === ']') return;
    let rec: Json;
    try {
      rec = JSON.parse(text.endsWith(',') ? text.slice(0, -1) : text) as Json;
    } catch (err) {
      throw new JsonlError(`not JSON: ${(err as Error).message}`, lineNo);
    }
    reader.record(rec, lineNo, out);
    records++;
  };
  for await (const chunk of chunks) {
    opts.onBytes?.(chunk.length);
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      if (parts.length > 0) {
        parts.push(piece);
        line(Buffer.concat(parts));
        parts = [];
      } else {
        line(piece);
      }
      start = nl + 1;
      if (records >= perBatch) {
        yield out;
        out = [];
        records = 0;
      }
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  }
  if (parts.length > 0) line(Buffer.concat(parts));
  if (out.length > 0) yield out;
}

class RecordReader {
  /** Fixture format: every byte string base64. */
  private b64 = false;
  private lineNo = 0;

  constructor(private readonly batch: number) {}

  record(rec: Json, lineNo: number, out: Entry[]): void {
    this.lineNo = lineNo;
    if (!isObj(rec)) throw this.err('a record must be a JSON object');
    if ('function' in rec) {
      out.push({ kind: 'function', code: this.bytes(rec.function, 'function'), offset: lineNo });
      return;
    }
    this.b64 = 'key_b64' in rec;
    const key = this.bytes((this.b64 ? rec.key_b64 : rec.key) ?? null, 'key');
    const type = rec.type;
    if (typeof type !== 'string' || !(type in RDB_TYPE_OF)) throw this.err(`unknown type ${JSON.stringify(type)}`);
    const db = typeof rec.db === 'number' ? rec.db : 0;
    const exp = rec.expire_at_ms;
    const header: KeyHeader = {
      db,
      key,
      type: type as RedisType,
      rdbType: RDB_TYPE_OF[type] as number,
      encoding: typeof rec.encoding === 'string' ? rec.encoding : '',
      expireAtMs: typeof exp === 'number' ? exp : null,
      offset: lineNo,
    };
    if (typeof rec.idle === 'number') header.idle = rec.idle;
    if (typeof rec.freq === 'number') header.freq = rec.freq;
    const v = rec.value ?? null;
    const start: Extract<RdbEvent, { kind: 'key-start' }> = { kind: 'key-start', header };
    out.push(start);
    switch (type) {
      case 'string':
        if (v !== null)
          out.push({ kind: 'string', value: this.bytes((this.b64 && isObj(v) ? v.b64 : v) ?? null, 'value') });
        break;
      case 'list':
      case 'set': {
        const items = this.array(v).map((x) => this.bytes(x, 'element'));
        start.length = items.length;
        for (let i = 0; i < items.length; i += this.batch) {
          const part = items.slice(i, i + this.batch);
          out.push(type === 'list' ? { kind: 'list-items', items: part } : { kind: 'set-members', members: part });
        }
        break;
      }
      case 'zset': {
        const entries: ZsetEntry[] = this.array(v).map((p) => {
          const pair = this.array(p);
          return { member: this.bytes(pair[0] ?? null, 'member'), score: scoreOf(pair[1] ?? null) };
        });
        start.length = entries.length;
        for (let i = 0; i < entries.length; i += this.batch) {
          out.push({ kind: 'zset-entries', entries: entries.slice(i, i + this.batch) });
        }
        break;
      }
      case 'hash':
        this.hash(header, start, v, rec, out);
        break;
      case 'stream':
        this.stream(v, start, out);
        break;
      case 'module': {
        if (!isObj(v) || typeof v.raw_base64 !== 'string') throw this.err('a module value needs "raw_base64"');
        const raw = Buffer.from(v.raw_base64, 'base64');
        out.push({
          kind: 'module',
          value: {
            moduleId: 0n,
            name: typeof v.module === 'string' ? v.module : '',
            encver: typeof v.encver === 'number' ? v.encver : 0,
            raw,
          },
        });
        break;
      }
    }
    out.push({ kind: 'key-end', header });
  }

  private hash(header: KeyHeader, start: { length?: number }, v: Json, rec: Obj, out: Entry[]): void {
    const ttls = new Map<string, number>();
    if (this.b64 && Array.isArray(rec.hash_field_expire_at_ms)) {
      for (const p of rec.hash_field_expire_at_ms) {
        const pair = this.array(p);
        if (typeof pair[0] === 'string' && typeof pair[1] === 'number') ttls.set(pair[0], pair[1]);
      }
    }
    let anyTtl = false;
    const entries: HashEntry[] = this.array(v).map((p) => {
      const t = this.array(p);
      const e: HashEntry = { field: this.bytes(t[0] ?? null, 'field'), value: this.bytes(t[1] ?? null, 'value') };
      const ttl = typeof t[2] === 'number' ? t[2] : typeof t[0] === 'string' ? ttls.get(t[0]) : undefined;
      if (ttl !== undefined) {
        e.expireAtMs = ttl;
        anyTtl = true;
      }
      return e;
    });
    if (anyTtl) header.rdbType = 24;
    start.length = entries.length;
    for (let i = 0; i < entries.length; i += this.batch) {
      out.push({ kind: 'hash-entries', entries: entries.slice(i, i + this.batch) });
    }
  }

  private stream(v: Json, start: { length?: number }, out: Entry[]): void {
    if (!isObj(v)) throw this.err('a stream value must be an object');
    const entries = this.array(v.entries ?? []).map((e) => {
      const t = this.array(e);
      const fields = this.array(t[1] ?? []).map((fv): [Buffer, Buffer] => {
        const pair = this.array(fv);
        return [this.bytes(pair[0] ?? null, 'field'), this.bytes(pair[1] ?? null, 'value')];
      });
      return { id: this.id(t[0] ?? null), fields };
    });
    for (let i = 0; i < entries.length; i += this.batch) {
      out.push({ kind: 'stream-entries', entries: entries.slice(i, i + this.batch) });
    }
    const optId = (x: Json | undefined): StreamId | null => (typeof x === 'string' ? this.id(x) : null);
    out.push({
      kind: 'stream-meta',
      meta: {
        length: typeof v.length === 'number' ? v.length : entries.length,
        lastId: v.last_id === undefined ? (entries[entries.length - 1]?.id ?? { ms: 0n, seq: 0n }) : this.id(v.last_id),
        firstId: optId(v.first_id),
        maxDeletedEntryId: optId(v.max_deleted_entry_id),
        entriesAdded: typeof v.entries_added === 'number' ? v.entries_added : null,
      },
    });
    start.length = entries.length;
    for (const g of this.array(v.groups ?? [])) out.push({ kind: 'stream-group', group: this.group(g) });
  }

  private group(g: Json): StreamGroup {
    if (!isObj(g)) throw this.err('a stream group must be an object');
    const name = (o: Obj): Buffer => this.bytes(this.b64 ? (o.name_b64 ?? null) : (o.name ?? null), 'name');
    const consumers = this.array(g.consumers ?? []).map((c) => {
      if (!isObj(c)) throw this.err('a consumer must be an object');
      return {
        name: name(c),
        seenTimeMs: typeof c.seen_time_ms === 'number' ? c.seen_time_ms : 0,
        activeTimeMs: typeof c.active_time_ms === 'number' ? c.active_time_ms : null,
        pel: this.array(c.pel ?? []).map((x) => this.id(x)),
      };
    });
    const pel = this.array(g.pel ?? []).map((p) => {
      const t = this.array(p);
      return {
        id: this.id(t[0] ?? null),
        consumer: t[1] === null || t[1] === undefined ? null : this.bytes(t[1], 'consumer'),
        deliveryTimeMs: typeof t[2] === 'number' ? t[2] : 0,
        deliveryCount: typeof t[3] === 'number' ? t[3] : 0,
      };
    });
    return {
      name: name(g),
      lastId: this.id(g.last_delivered_id ?? null),
      entriesRead: typeof g.entries_read === 'number' ? g.entries_read : null,
      pel,
      consumers,
    };
  }

  private id(x: Json): StreamId {
    const m = typeof x === 'string' ? /^(\d+)-(\d+)$/.exec(x) : null;
    if (!m) throw this.err(`bad stream id ${JSON.stringify(x)}`);
    return { ms: BigInt(m[1] as string), seq: BigInt(m[2] as string) };
  }

  private array(v: Json): Json[] {
    if (!Array.isArray(v)) throw this.err(`expected an array, found ${JSON.stringify(v)?.slice(0, 40)}`);
    return v;
  }

  /** A byte string: JSON string (UTF-8; base64 in fixture records) or {"base64": ...} / {"b64": ...}. */
  private bytes(v: Json, what: string): Buffer {
    if (typeof v === 'string') return Buffer.from(v, this.b64 ? 'base64' : 'utf8');
    if (isObj(v)) {
      const b = v.base64 ?? v.b64;
      if (typeof b === 'string') return Buffer.from(b, 'base64');
    }
    throw this.err(`${what}: expected a string or {"base64":...}, found ${JSON.stringify(v)?.slice(0, 40)}`);
  }

  private err(message: string): JsonlError {
    return new JsonlError(message, this.lineNo);
  }
}

function isObj(v: Json | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scoreOf(s: Json): number {
  if (typeof s === 'number') return s;
  return typeof s === 'string' ? parseScore(s) : NaN;
}
