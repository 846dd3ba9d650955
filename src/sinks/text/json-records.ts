/**
 * decode's JSON formats: `jsonl` (one object per line) and `json` (one array, streamed). The record
 * shape is the contract documented in docs/decode.md (restore reads it back). A key's value is written
 * batch by batch as its events arrive, so a 10-million-field hash is never held whole; each batch
 * becomes one string and one write.
 */
import type { HashEntry, KeyHeader, ModuleValue, StreamGroup, StreamId, StreamMeta } from '@shake/rdb';
import type { Entry, EntryBatch, Sink } from '../../core/entry.js';
import { jsonBytes, type StringMode } from './json-bytes.js';
import { formatScore } from './score.js';
import type { TextOutput } from './output.js';

export interface JsonRecordSinkOptions {
  /** jsonl: one record per line; json: a single array. */
  framing: 'jsonl' | 'json';
  strings: StringMode;
}

export function streamIdText(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** ISO 8601 text of a unix ms time, or null when Date cannot represent it. */
export function isoTime(ms: number): string | null {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
}

export class JsonRecordSink implements Sink {
  private readonly mode: StringMode;
  private readonly json: boolean;
  /** Records written so far (for the `,` between records in json framing). */
  private records = 0;
  private key: KeyHeader | null = null;
  /** Elements written into the current value (for the `,` between them). */
  private elements = 0;
  private streamMetaWritten = false;
  private scalarWritten = false;
  private groups = 0;

  constructor(
    private readonly out: TextOutput,
    opts: JsonRecordSinkOptions,
  ) {
    this.mode = opts.strings;
    this.json = opts.framing === 'json';
    if (this.json) this.out.write('[');
  }

  private b(buf: Buffer): string {
    return jsonBytes(buf, this.mode);
  }

  write(batch: EntryBatch): Promise<void> | undefined {
    let s = '';
    for (const e of batch) s += this.event(e);
    return this.out.write(s);
  }

  private recordStart(): string {
    const sep = this.json ? (this.records === 0 ? '\n' : ',\n') : '';
    this.records++;
    return sep;
  }

  private recordEnd(): string {
    return this.json ? '}' : '}\n';
  }

  private event(e: Entry): string {
    switch (e.kind) {
      case 'key-start':
        return this.keyStart(e.header);
      case 'string':
        this.scalarWritten = true;
        return this.b(e.value);
      case 'list-items':
      case 'set-members':
        return this.items(e.kind === 'list-items' ? e.items : e.members);
      case 'zset-entries': {
        let s = '';
        for (const z of e.entries) s += `${this.sep()}[${this.b(z.member)},"${formatScore(z.score)}"]`;
        return s;
      }
      case 'hash-entries':
        return this.hashEntries(e.entries);
      case 'stream-entries': {
        let s = '';
        for (const entry of e.entries) {
          let f = '';
          for (let i = 0; i < entry.fields.length; i++) {
            const [k, v] = entry.fields[i] as [Buffer, Buffer];
            f += `${i === 0 ? '' : ','}[${this.b(k)},${this.b(v)}]`;
          }
          s += `${this.sep()}["${streamIdText(entry.id)}",[${f}]]`;
        }
        return s;
      }
      case 'stream-meta':
        return this.streamMeta(e.meta);
      case 'stream-group':
        return this.streamGroup(e.group);
      case 'module':
        this.scalarWritten = true;
        return this.moduleValue(e.value);
      case 'key-end':
        return this.keyEnd();
      case 'function':
        return `${this.recordStart()}{"function":${this.b(e.code)}${this.recordEnd()}`;
      case 'function-pre-ga': {
        const desc = e.description ? `,"description":${this.b(e.description)}` : '';
        return `${this.recordStart()}{"function":${this.b(e.code)},"name":${this.b(e.name)},"engine":${this.b(e.engine)}${desc}${this.recordEnd()}`;
      }
      default:
        return '';
    }
  }

  private sep(): string {
    return this.elements++ === 0 ? '' : ',';
  }

  private items(items: Buffer[]): string {
    let s = '';
    for (const it of items) s += `${this.elements++ === 0 ? '' : ','}${this.b(it)}`;
    return s;
  }

  private hashEntries(entries: HashEntry[]): string {
    let s = '';
    for (const h of entries) {
      const ttl = h.expireAtMs === undefined || h.expireAtMs === null ? '' : `,${h.expireAtMs}`;
      s += `${this.sep()}[${this.b(h.field)},${this.b(h.value)}${ttl}]`;
    }
    return s;
  }

  private keyStart(h: KeyHeader): string {
    this.key = h;
    this.elements = 0;
    this.streamMetaWritten = false;
    this.scalarWritten = false;
    this.groups = 0;
    let s = `${this.recordStart()}{"db":${h.db},"key":${this.b(h.key)},"type":"${h.type}","encoding":"${h.encoding}"`;
    if (h.expireAtMs !== null) {
      const iso = isoTime(h.expireAtMs);
      s += `,"expire_at_ms":${h.expireAtMs}${iso ? `,"expire_at":"${iso}"` : ''}`;
    }
    if (h.idle !== undefined) s += `,"idle":${h.idle}`;
    if (h.freq !== undefined) s += `,"freq":${h.freq}`;
    s += ',"value":';
    switch (h.type) {
      case 'list':
      case 'set':
      case 'zset':
      case 'hash':
        return `${s}[`;
      case 'stream':
        return `${s}{"entries":[`;
      default:
        return s;
    }
  }

  private streamMeta(m: StreamMeta): string {
    this.streamMetaWritten = true;
    const id = (x: StreamId | null) => (x ? `"${streamIdText(x)}"` : 'null');
    return (
      `],"length":${m.length},"last_id":"${streamIdText(m.lastId)}","first_id":${id(m.firstId)}` +
      `,"max_deleted_entry_id":${id(m.maxDeletedEntryId)},"entries_added":${m.entriesAdded ?? 'null'},"groups":[`
    );
  }

  private streamGroup(g: StreamGroup): string {
    let pel = '';
    for (let i = 0; i < g.pel.length; i++) {
      const p = g.pel[i];
      if (!p) continue;
      const owner = p.consumer ? this.b(p.consumer) : 'null';
      pel += `${i === 0 ? '' : ','}["${streamIdText(p.id)}",${owner},${p.deliveryTimeMs},${p.deliveryCount}]`;
    }
    let consumers = '';
    for (let i = 0; i < g.consumers.length; i++) {
      const c = g.consumers[i];
      if (!c) continue;
      const ids = c.pel.map((x) => `"${streamIdText(x)}"`).join(',');
      consumers +=
        `${i === 0 ? '' : ','}{"name":${this.b(c.name)},"seen_time_ms":${c.seenTimeMs}` +
        `,"active_time_ms":${c.activeTimeMs ?? 'null'},"pel":[${ids}]}`;
    }
    return (
      `${this.groups++ === 0 ? '' : ','}{"name":${this.b(g.name)},"last_delivered_id":"${streamIdText(g.lastId)}"` +
      `,"entries_read":${g.entriesRead ?? 'null'},"pel":[${pel}],"consumers":[${consumers}]}`
    );
  }

  private moduleValue(m: ModuleValue): string {
    return `{"module":${JSON.stringify(m.name)},"encver":${m.encver},"raw_base64":"${m.raw.toString('base64')}"}`;
  }

  private keyEnd(): string {
    const h = this.key;
    this.key = null;
    if (!h) return '';
    let close: string;
    switch (h.type) {
      case 'list':
      case 'set':
      case 'zset':
      case 'hash':
        close = ']';
        break;
      case 'stream':
        close = this.streamMetaWritten ? ']}' : '],"groups":[]}';
        break;
      default:
        // a string or module value arrives as one event; null if the parser gave none
        close = this.scalarWritten ? '' : 'null';
    }
    return `${close}${this.recordEnd()}`;
  }

  async close(): Promise<void> {
    if (this.json) await this.out.write(this.records === 0 ? ']\n' : '\n]\n');
    await this.out.end();
  }

  /** After an error: terminate nothing, flush what was written. */
  async abort(): Promise<void> {
    await this.out.end().catch(() => {});
  }
}
