/**
 * decode's JSON formats: `jsonl` (one object per line) and `json` (one array, streamed). The record
 * shape is the contract documented in docs/decode.md (restore reads it back). A key's value is written
 * batch by batch as its events arrive, so a 10-million-field hash is never held whole. Each batch is
 * built as bytes in one ByteBuilder (plain ASCII byte strings copied as they are, no string per
 * element) and handed to the output in one write.
 */
import type { HashEntry, KeyHeader, ModuleValue, StreamEntry, StreamGroup, StreamId, StreamMeta } from '@shake/rdb';
import type { Entry, EntryBatch, Sink } from '../../core/entry.js';
import { ByteBuilder, writeScore } from './byte-builder.js';
import { isoTime, writeIsoTime } from './iso-time.js';
import { isPrintableUtf8, type StringMode } from './json-bytes.js';
import type { TextOutput } from './output.js';

export { isoTime };

export interface JsonRecordSinkOptions {
  /** jsonl: one record per line; json: a single array. */
  framing: 'jsonl' | 'json';
  strings: StringMode;
}

export function streamIdText(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** What a record says of a type and encoding, as bytes. */
interface TypeText {
  type: string;
  encoding: string;
  /** `,"type":"<type>","encoding":"<encoding>"` */
  text: Buffer;
  /** `,"value":` and what opens the value: `[` for collections, `{"entries":[` for streams */
  value: Buffer;
  /** text + value, for keys with no expiry, idle or freq */
  withValue: Buffer;
}

function typeTextOf(type: string, encoding: string): TypeText {
  const text = `,"type":${JSON.stringify(type)},"encoding":${JSON.stringify(encoding)}`;
  let opener = '';
  if (type === 'list' || type === 'set' || type === 'zset' || type === 'hash') opener = '[';
  else if (type === 'stream') opener = '{"entries":[';
  const value = `,"value":${opener}`;
  return { type, encoding, text: Buffer.from(text), value: Buffer.from(value), withValue: Buffer.from(text + value) };
}

const COMMA = 0x2c;
/** Bytes gathered before a write: small batches (a slice of small keys) share one write. */
const FLUSH_AT = 128 * 1024;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const NEWLINE = 0x0a;

export class JsonRecordSink implements Sink {
  private readonly o = new ByteBuilder();
  /** strings: auto (plain ASCII copied as is; the common case, tried first). */
  private readonly auto: boolean;
  private readonly json: boolean;
  /** Records written so far (for the `,` between records in json framing). */
  private records = 0;
  private key: KeyHeader | null = null;
  /** Elements written into the current value (for the `,` between them). */
  private elements = 0;
  private streamMetaWritten = false;
  private scalarWritten = false;
  private groups = 0;
  private readonly typeTexts = new Map<string, Map<string, TypeText>>();
  private lastTypeText: TypeText | null = null;
  private dbText = Buffer.alloc(0);
  private dbTextOf = Number.NaN;

  constructor(
    private readonly out: TextOutput,
    opts: JsonRecordSinkOptions,
  ) {
    this.auto = opts.strings === 'auto';
    this.json = opts.framing === 'json';
    if (this.json) this.out.write('[');
  }

  /** A byte string as JSON (see json-bytes.ts): plain ASCII copied as is, else escaped UTF-8, else base64. */
  private b(buf: Buffer): void {
    const o = this.o;
    if (this.auto) {
      if (o.jsonPlainString(buf)) return;
      if (isPrintableUtf8(buf)) {
        o.utf8(JSON.stringify(buf.toString('utf8')));
        return;
      }
    }
    o.ascii('{"base64":"').base64(buf).ascii('"}');
  }

  write(batch: EntryBatch): Promise<void> | undefined {
    for (const e of batch) this.event(e);
    return this.o.length >= FLUSH_AT ? this.out.write(this.o.take()) : undefined;
  }

  private recordStart(): void {
    if (this.json) this.o.ascii(this.records === 0 ? '\n' : ',\n');
    this.records++;
  }

  private recordEnd(): void {
    this.o.byte(0x7d);
    if (!this.json) this.o.byte(NEWLINE);
  }

  /** `,` before every element but the first of the current value. */
  private sep(): void {
    if (this.elements++ > 0) this.o.byte(COMMA);
  }

  private event(e: Entry): void {
    const o = this.o;
    switch (e.kind) {
      case 'key-start':
        this.keyStart(e.header);
        return;
      case 'key-end':
        this.keyEnd();
        return;
      case 'string':
        this.scalarWritten = true;
        this.b(e.value);
        return;
      case 'list-items':
        for (const it of e.items) {
          this.sep();
          this.b(it);
        }
        return;
      case 'set-members':
        for (const it of e.members) {
          this.sep();
          this.b(it);
        }
        return;
      case 'zset-entries':
        for (const z of e.entries) {
          this.sep();
          o.byte(OPEN);
          this.b(z.member);
          o.byte(COMMA).byte(0x22);
          writeScore(o, z.score);
          o.byte(0x22).byte(CLOSE);
        }
        return;
      case 'hash-entries':
        this.hashEntries(e.entries);
        return;
      case 'stream-entries':
        this.streamEntries(e.entries);
        return;
      case 'stream-meta':
        this.streamMeta(e.meta);
        return;
      case 'stream-group':
        this.streamGroup(e.group);
        return;
      case 'module':
        this.scalarWritten = true;
        this.moduleValue(e.value);
        return;
      case 'function':
        this.recordStart();
        o.ascii('{"function":');
        this.b(e.code);
        this.recordEnd();
        return;
      case 'function-pre-ga':
        this.recordStart();
        o.ascii('{"function":');
        this.b(e.code);
        o.ascii(',"name":');
        this.b(e.name);
        o.ascii(',"engine":');
        this.b(e.engine);
        if (e.description) {
          o.ascii(',"description":');
          this.b(e.description);
        }
        this.recordEnd();
        return;
      default:
        return;
    }
  }

  private hashEntries(entries: HashEntry[]): void {
    const o = this.o;
    for (const h of entries) {
      const sep = this.elements++ > 0 ? COMMA : 0;
      if (!this.auto || !o.jsonPlainPair(sep, h.field, h.value)) {
        if (sep !== 0) o.byte(sep);
        o.byte(OPEN);
        this.b(h.field);
        o.byte(COMMA);
        this.b(h.value);
      }
      if (h.expireAtMs !== undefined && h.expireAtMs !== null) o.byte(COMMA).int(h.expireAtMs);
      o.byte(CLOSE);
    }
  }

  private streamEntries(entries: StreamEntry[]): void {
    const o = this.o;
    for (const entry of entries) {
      this.sep();
      o.ascii(`["${streamIdText(entry.id)}",[`);
      for (let i = 0; i < entry.fields.length; i++) {
        const [k, v] = entry.fields[i] as [Buffer, Buffer];
        if (i > 0) o.byte(COMMA);
        o.byte(0x5b);
        this.b(k);
        o.byte(COMMA);
        this.b(v);
        o.byte(0x5d);
      }
      o.ascii(']]');
    }
  }

  /** The texts of a type and encoding, built once per pair (the last pair is checked first). */
  private typeText(h: KeyHeader): TypeText {
    const last = this.lastTypeText;
    if (last && last.type === h.type && last.encoding === h.encoding) return last;
    let byEncoding = this.typeTexts.get(h.type);
    if (!byEncoding) this.typeTexts.set(h.type, (byEncoding = new Map()));
    let t = byEncoding.get(h.encoding);
    if (!t) {
      t = typeTextOf(h.type, h.encoding);
      byEncoding.set(h.encoding, t);
    }
    this.lastTypeText = t;
    return t;
  }

  private keyStart(h: KeyHeader): void {
    const o = this.o;
    this.key = h;
    this.elements = 0;
    this.streamMetaWritten = false;
    this.scalarWritten = false;
    this.groups = 0;
    this.recordStart();
    if (h.db !== this.dbTextOf) {
      this.dbText = Buffer.from(`{"db":${h.db},"key":`);
      this.dbTextOf = h.db;
    }
    o.bytes(this.dbText);
    this.b(h.key);
    const t = this.typeText(h);
    if (h.expireAtMs === null && h.idle === undefined && h.freq === undefined) {
      o.bytes(t.withValue);
      return;
    }
    o.bytes(t.text);
    if (h.expireAtMs !== null) {
      o.ascii(',"expire_at_ms":').int(h.expireAtMs);
      const at = o.length;
      o.ascii(',"expire_at":"');
      if (writeIsoTime(o, h.expireAtMs)) o.byte(0x22);
      else o.truncate(at);
    }
    if (h.idle !== undefined) o.ascii(',"idle":').int(h.idle);
    if (h.freq !== undefined) o.ascii(',"freq":').int(h.freq);
    o.bytes(t.value);
  }

  private streamMeta(m: StreamMeta): void {
    this.streamMetaWritten = true;
    const id = (x: StreamId | null) => (x ? `"${streamIdText(x)}"` : 'null');
    this.o.ascii(
      `],"length":${m.length},"last_id":"${streamIdText(m.lastId)}","first_id":${id(m.firstId)}` +
        `,"max_deleted_entry_id":${id(m.maxDeletedEntryId)},"entries_added":${m.entriesAdded ?? 'null'},"groups":[`,
    );
  }

  private streamGroup(g: StreamGroup): void {
    const o = this.o;
    if (this.groups++ > 0) o.byte(COMMA);
    o.ascii('{"name":');
    this.b(g.name);
    o.ascii(`,"last_delivered_id":"${streamIdText(g.lastId)}","entries_read":${g.entriesRead ?? 'null'},"pel":[`);
    g.pel.forEach((p, i) => {
      o.ascii(`${i === 0 ? '' : ','}["${streamIdText(p.id)}",`);
      if (p.consumer) this.b(p.consumer);
      else o.ascii('null');
      o.ascii(`,${p.deliveryTimeMs},${p.deliveryCount}]`);
    });
    o.ascii('],"consumers":[');
    g.consumers.forEach((c, i) => {
      o.ascii(i === 0 ? '{"name":' : ',{"name":');
      this.b(c.name);
      const ids = c.pel.map((x) => `"${streamIdText(x)}"`).join(',');
      o.ascii(`,"seen_time_ms":${c.seenTimeMs},"active_time_ms":${c.activeTimeMs ?? 'null'},"pel":[${ids}]}`);
    });
    o.ascii(']}');
  }

  private moduleValue(m: ModuleValue): void {
    this.o.utf8(`{"module":${JSON.stringify(m.name)},"encver":${m.encver},"raw_base64":"`);
    this.o.ascii(`${m.raw.toString('base64')}"}`);
  }

  private keyEnd(): void {
    const h = this.key;
    this.key = null;
    if (!h) return;
    switch (h.type) {
      case 'list':
      case 'set':
      case 'zset':
      case 'hash':
        this.o.byte(0x5d);
        break;
      case 'stream':
        this.o.ascii(this.streamMetaWritten ? ']}' : '],"groups":[]}');
        break;
      default:
        // a string or module value arrives as one event; null if the parser gave none
        if (!this.scalarWritten) this.o.ascii('null');
    }
    this.recordEnd();
  }

  async close(): Promise<void> {
    if (this.o.length > 0) await this.out.write(this.o.take());
    if (this.json) await this.out.write(this.records === 0 ? ']\n' : '\n]\n');
    await this.out.end();
  }

  /** After an error: flush what was written, terminate nothing. */
  async abort(): Promise<void> {
    if (this.o.length > 0) this.out.write(this.o.take());
    await this.out.end().catch(() => {});
  }
}
