/**
 * decode --format resp: the commands that rebuild the data, for `redis-cli --pipe`. SELECT on each db
 * change; DEL before a collection is rebuilt; collections in commands of at most `batch` elements;
 * streams with explicit ids, XSETID, XGROUP CREATE / CREATECONSUMER and XCLAIM for the PEL; PEXPIREAT for
 * key TTLs and HPEXPIREAT for hash-field TTLs; FUNCTION LOAD for libraries; module values as RESTORE.
 * Every command is described in docs/decode.md.
 */
import { crc64, type HashEntry, type KeyHeader, type ModuleValue, type StreamGroup, type StreamMeta } from '@shake/rdb';
import type { Entry, EntryBatch, Sink } from '../../core/entry.js';
import { formatStreamId as streamIdText } from '../../rewrite/format.js';
import type { TextOutput } from './output.js';
import { RespWriter } from './resp-writer.js';
import { formatScore } from './score.js';

export interface RespSinkOptions {
  /** Most elements per RPUSH/SADD/ZADD/HSET (default 128). */
  batch?: number;
}

/** Name of the throw-away group used to create an empty stream (XGROUP CREATE ... MKSTREAM). */
const TMP_GROUP = '__shake_empty_stream__';

export class RespSink implements Sink {
  private readonly w = new RespWriter();
  private readonly batch: number;
  private db = Number.NaN;
  private rdbVersion = 0;
  private key: KeyHeader | null = null;
  private streamEntries = 0;

  constructor(
    private readonly out: TextOutput,
    opts: RespSinkOptions = {},
  ) {
    this.batch = Math.max(1, opts.batch ?? 128);
  }

  get commands(): number {
    return this.w.commands;
  }

  write(batch: EntryBatch): Promise<void> | undefined {
    for (const e of batch) this.event(e);
    return this.w.buf.length > 0 ? this.out.write(this.w.buf.take()) : undefined;
  }

  private event(e: Entry): void {
    const w = this.w;
    const key = this.key?.key;
    switch (e.kind) {
      case 'header':
        this.rdbVersion = e.version;
        return;
      case 'function':
        w.command('FUNCTION', 'LOAD', 'REPLACE', e.code);
        return;
      case 'function-pre-ga':
        w.command('FUNCTION', 'LOAD', 'REPLACE', e.code);
        return;
      case 'key-start':
        this.keyStart(e.header);
        return;
      case 'key-end':
        if (key && e.header.expireAtMs !== null) w.command('PEXPIREAT', key, String(e.header.expireAtMs));
        this.key = null;
        return;
    }
    if (!key) return;
    switch (e.kind) {
      case 'string':
        w.command('SET', key, e.value);
        return;
      case 'list-items':
        this.multi('RPUSH', key, e.items, 1, (b) => w.arg(b));
        return;
      case 'set-members':
        this.multi('SADD', key, e.members, 1, (b) => w.arg(b));
        return;
      case 'zset-entries':
        this.multi('ZADD', key, e.entries, 2, (z) => w.text(formatScore(z.score)).arg(z.member));
        return;
      case 'hash-entries':
        this.hashEntries(key, e.entries);
        return;
      case 'stream-entries':
        for (const entry of e.entries) {
          w.begin(3 + 2 * entry.fields.length)
            .text('XADD')
            .arg(key)
            .text(streamIdText(entry.id));
          for (const [f, v] of entry.fields) w.arg(f).arg(v);
          this.streamEntries++;
        }
        return;
      case 'stream-meta':
        this.streamMeta(key, e.meta);
        return;
      case 'stream-group':
        this.streamGroup(key, e.group);
        return;
      case 'module':
        w.command('RESTORE', key, '0', this.modulePayload(e.value), 'REPLACE');
        return;
    }
  }

  private keyStart(h: KeyHeader): void {
    this.key = h;
    this.streamEntries = 0;
    if (h.db >= 0 && h.db !== this.db) {
      this.w.command('SELECT', String(h.db));
      this.db = h.db;
    }
    // SET and RESTORE ... REPLACE overwrite; collections are rebuilt from scratch.
    if (h.type !== 'string' && h.type !== 'module') this.w.command('DEL', h.key);
  }

  /** `CMD key a b c ...` in commands of at most `batch` elements of `width` arguments each. */
  private multi<T>(cmd: string, key: Buffer, items: readonly T[], width: number, put: (x: T) => void): void {
    for (let i = 0; i < items.length; i += this.batch) {
      const end = Math.min(items.length, i + this.batch);
      this.w
        .begin(2 + (end - i) * width)
        .text(cmd)
        .arg(key);
      for (let j = i; j < end; j++) put(items[j] as T);
    }
  }

  private hashEntries(key: Buffer, entries: HashEntry[]): void {
    this.multi('HSET', key, entries, 2, (h) => this.w.arg(h.field).arg(h.value));
    let ttls: Map<number, Buffer[]> | null = null;
    for (const h of entries) {
      if (h.expireAtMs === undefined || h.expireAtMs === null) continue;
      ttls ??= new Map();
      const fields = ttls.get(h.expireAtMs);
      if (fields) fields.push(h.field);
      else ttls.set(h.expireAtMs, [h.field]);
    }
    if (!ttls) return;
    for (const [ms, fields] of ttls) {
      for (let i = 0; i < fields.length; i += this.batch) {
        const part = fields.slice(i, i + this.batch);
        this.w
          .begin(5 + part.length)
          .text('HPEXPIREAT')
          .arg(key)
          .text(String(ms))
          .text('FIELDS');
        this.w.text(String(part.length));
        for (const f of part) this.w.arg(f);
      }
    }
  }

  private streamMeta(key: Buffer, m: StreamMeta): void {
    const w = this.w;
    if (this.streamEntries === 0) {
      // An empty stream cannot be made with XADD: create it through a throw-away group.
      w.command('XGROUP', 'CREATE', key, TMP_GROUP, '0', 'MKSTREAM');
      w.command('XGROUP', 'DESTROY', key, TMP_GROUP);
    }
    const last = streamIdText(m.lastId);
    if (m.entriesAdded !== null && m.maxDeletedEntryId !== null) {
      w.command(
        'XSETID',
        key,
        last,
        'ENTRIESADDED',
        String(m.entriesAdded),
        'MAXDELETEDID',
        streamIdText(m.maxDeletedEntryId),
      );
    } else {
      w.command('XSETID', key, last);
    }
  }

  private streamGroup(key: Buffer, g: StreamGroup): void {
    const w = this.w;
    const last = streamIdText(g.lastId);
    if (g.entriesRead !== null) w.command('XGROUP', 'CREATE', key, g.name, last, 'ENTRIESREAD', String(g.entriesRead));
    else w.command('XGROUP', 'CREATE', key, g.name, last);
    for (const c of g.consumers) w.command('XGROUP', 'CREATECONSUMER', key, g.name, c.name);
    for (const p of g.pel) {
      if (!p.consumer) continue;
      w.command(
        'XCLAIM',
        key,
        g.name,
        p.consumer,
        '0',
        streamIdText(p.id),
        'TIME',
        String(p.deliveryTimeMs),
        'RETRYCOUNT',
        String(p.deliveryCount),
        'FORCE',
        'JUSTID',
      );
    }
  }

  /** A DUMP payload for RESTORE: type byte, the value as the RDB holds it, RDB version (LE16), CRC64 (LE). */
  private modulePayload(m: ModuleValue): Buffer {
    const type = this.key?.rdbType ?? 7;
    const body = Buffer.allocUnsafe(1 + m.raw.length + 2 + 8);
    body[0] = type;
    m.raw.copy(body, 1);
    body.writeUInt16LE(this.rdbVersion || 9, 1 + m.raw.length);
    const crc = crc64(body.subarray(0, 1 + m.raw.length + 2));
    body.writeBigUInt64LE(crc, 1 + m.raw.length + 2);
    return body;
  }

  async close(): Promise<void> {
    await this.out.end();
  }

  async abort(): Promise<void> {
    await this.out.end().catch(() => {});
  }
}
