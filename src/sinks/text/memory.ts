/**
 * decode --format memory: redis-rdb-tools' memory report as CSV
 * (database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry), one row per key,
 * sizes from memory-model.ts. With `top`, only the N biggest keys, biggest first (a bounded min-heap).
 */
import type { KeyHeader } from '@shake/rdb';
import type { Entry, EntryBatch, Sink } from '../../core/entry.js';
import { isPrintableUtf8 } from './json-bytes.js';
import { isoTime } from './json-records.js';
import * as M from './memory-model.js';
import type { TextOutput } from './output.js';
import { formatScore } from '../../rewrite/score.js';

export const MEMORY_CSV_HEADER = 'database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry\n';

/** rdbtools' type names. */
const TYPE_NAMES: Record<string, string> = { zset: 'sortedset' };

export interface MemoryRow {
  db: number;
  type: string;
  key: Buffer;
  size: number;
  encoding: string;
  elements: number;
  largest: number;
  expireAtMs: number | null;
}

/**
 * A key as a CSV field: printable UTF-8 without line breaks as text (quoted when it has `,` or `"` or
 * starts with `base64:`), anything else as `base64:<...>` — so every row is one line.
 */
export function csvKey(key: Buffer): string {
  if (!isPrintableUtf8(key) || key.includes(0x0a) || key.includes(0x0d)) return `base64:${key.toString('base64')}`;
  const s = key.toString('utf8');
  if (/[",]/.test(s) || s.startsWith('base64:')) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

export function csvRow(r: MemoryRow): string {
  const expiry = r.expireAtMs === null ? '' : (isoTime(r.expireAtMs) ?? String(r.expireAtMs));
  const type = TYPE_NAMES[r.type] ?? r.type;
  return `${r.db},${type},${csvKey(r.key)},${Math.round(r.size)},${r.encoding},${r.elements},${r.largest},${expiry}\n`;
}

/** Accumulates the estimate of one key from its events. */
class KeyEstimate {
  size: number;
  elements = 0;
  largest = 0;
  /** Bytes of compact (listpack/ziplist) entries so far. */
  private packed = 0;
  /** quicklist nodes so far and bytes in the current node. */
  private nodes = 0;
  private nodeBytes = 0;
  private intWidth = 2;
  private streamPel = 0;
  private streamExtra = 0;

  constructor(readonly h: KeyHeader) {
    this.size = M.topLevelObjectOverhead(h.key, h.expireAtMs !== null);
  }

  private grow(b: Buffer): void {
    if (b.length > this.largest) this.largest = b.length;
  }

  private get ziplistFamily(): boolean {
    return this.h.encoding === 'ziplist' || this.h.encoding === 'zipmap' || this.h.encoding === 'quicklist';
  }

  private packedEntry(b: Buffer): number {
    return this.ziplistFamily ? M.ziplistEntrySize(b) : M.listpackEntrySize(b);
  }

  private listItem(b: Buffer): void {
    const e = this.packedEntry(b);
    if (this.nodes === 0 || this.nodeBytes + e > M.QUICKLIST_NODE_BYTES) {
      this.nodes++;
      this.nodeBytes = e;
    } else {
      this.nodeBytes += e;
    }
    this.packed += e;
  }

  event(e: Entry): void {
    const enc = this.h.encoding;
    switch (e.kind) {
      case 'string':
        this.size += M.sizeofString(e.value);
        this.elements = e.value.length;
        this.largest = e.value.length;
        return;
      case 'list-items':
        for (const b of e.items) {
          this.grow(b);
          this.listItem(b);
        }
        this.elements += e.items.length;
        return;
      case 'set-members':
        for (const b of e.members) {
          this.grow(b);
          if (enc === 'intset') {
            this.intWidth = Math.max(this.intWidth, M.intsetWidth(b));
          } else if (enc === 'listpack') {
            this.packed += M.listpackEntrySize(b);
          } else {
            this.size += M.sizeofString(b) + M.dictEntryOverhead();
          }
        }
        this.elements += e.members.length;
        return;
      case 'zset-entries':
        for (const z of e.entries) {
          this.grow(z.member);
          if (enc === 'skiplist') {
            this.size += 8 + M.sizeofString(z.member) + M.skiplistEntryOverhead();
          } else {
            this.packed += this.packedEntry(z.member) + this.packedEntry(Buffer.from(formatScore(z.score)));
          }
        }
        this.elements += e.entries.length;
        return;
      case 'hash-entries':
        for (const f of e.entries) {
          this.grow(f.field);
          this.grow(f.value);
          if (enc === 'hashtable' || enc === 'metadata') {
            this.size += M.sizeofString(f.field) + M.sizeofString(f.value) + M.dictEntryOverhead();
            if (f.expireAtMs) this.size += 8;
          } else {
            this.packed += this.packedEntry(f.field) + this.packedEntry(f.value);
            if (enc === 'listpackex') this.packed += 9;
          }
        }
        this.elements += e.entries.length;
        return;
      case 'stream-entries':
        for (const s of e.entries) {
          let bytes = 4; // id deltas, flags, field count, lp-count
          for (const [f, v] of s.fields) {
            bytes += M.listpackEntrySize(f) + M.listpackEntrySize(v);
            this.grow(f);
            this.grow(v);
          }
          this.packed += bytes;
        }
        this.elements += e.entries.length;
        return;
      case 'stream-group':
        this.streamExtra += M.STREAM_CG + M.streamRadixTreeSize(e.group.pel.length);
        this.streamExtra += e.group.pel.length * M.STREAM_NACK;
        for (const c of e.group.consumers) {
          this.streamExtra += M.STREAM_CONSUMER + M.sizeofString(c.name) + M.streamRadixTreeSize(c.pel.length);
        }
        this.streamPel += e.group.pel.length;
        return;
      case 'module':
        this.size += 8 + 1 + e.value.raw.length;
        this.elements = 1;
        this.largest = e.value.raw.length;
        return;
      default:
        return;
    }
  }

  finish(): MemoryRow {
    const h = this.h;
    const n = this.elements;
    let size = this.size;
    switch (h.type) {
      case 'list':
        size +=
          M.quicklistOverhead(this.nodes) + this.nodes * (this.ziplistFamily ? M.ZIPLIST_HEADER : M.LISTPACK_HEADER);
        size += this.packed;
        break;
      case 'set':
        if (h.encoding === 'intset') size += M.jemallocSize(M.intsetSize(n, this.intWidth));
        else if (h.encoding === 'listpack') size += M.jemallocSize(M.LISTPACK_HEADER + this.packed);
        else size += M.hashtableOverhead(n);
        break;
      case 'zset':
        if (h.encoding === 'skiplist') size += M.skiplistOverhead(n);
        else size += M.jemallocSize((this.ziplistFamily ? M.ZIPLIST_HEADER : M.LISTPACK_HEADER) + this.packed);
        break;
      case 'hash':
        if (h.encoding === 'hashtable' || h.encoding === 'metadata') size += M.hashtableOverhead(n);
        else size += M.jemallocSize((this.ziplistFamily ? M.ZIPLIST_HEADER : M.LISTPACK_HEADER) + this.packed);
        break;
      case 'stream': {
        const nodes = Math.max(1, Math.ceil(n / 100));
        size += M.STREAM_STRUCT + M.streamRadixTreeSize(nodes) + nodes * M.LISTPACK_HEADER + this.packed;
        size += this.streamExtra;
        break;
      }
      default:
        break;
    }
    return {
      db: h.db,
      type: h.type,
      key: h.key,
      size: Math.round(size),
      encoding: h.encoding,
      elements: n,
      largest: this.largest,
      expireAtMs: h.expireAtMs,
    };
  }
}

/** A min-heap of rows by size, holding at most `limit`: the N biggest keys. */
class TopRows {
  private readonly heap: MemoryRow[] = [];
  constructor(private readonly limit: number) {}

  add(r: MemoryRow): void {
    const h = this.heap;
    if (h.length < this.limit) {
      h.push(r);
      let i = h.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if ((h[p] as MemoryRow).size <= (h[i] as MemoryRow).size) break;
        [h[p], h[i]] = [h[i] as MemoryRow, h[p] as MemoryRow];
        i = p;
      }
    } else if (this.limit > 0 && r.size > (h[0] as MemoryRow).size) {
      h[0] = r;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const rr = l + 1;
        let m = i;
        if (l < h.length && (h[l] as MemoryRow).size < (h[m] as MemoryRow).size) m = l;
        if (rr < h.length && (h[rr] as MemoryRow).size < (h[m] as MemoryRow).size) m = rr;
        if (m === i) break;
        [h[m], h[i]] = [h[i] as MemoryRow, h[m] as MemoryRow];
        i = m;
      }
    }
  }

  /** Biggest first. */
  sorted(): MemoryRow[] {
    return [...this.heap].sort((a, b) => b.size - a.size);
  }
}

export interface MemorySinkOptions {
  /** Only the N biggest keys (0 or undefined: every key, in file order). */
  top?: number;
}

export class MemorySink implements Sink {
  private current: KeyEstimate | null = null;
  private readonly top: TopRows | null;

  constructor(
    private readonly out: TextOutput,
    opts: MemorySinkOptions = {},
  ) {
    this.top = opts.top ? new TopRows(opts.top) : null;
    this.out.write(MEMORY_CSV_HEADER);
  }

  write(batch: EntryBatch): Promise<void> | undefined {
    let s = '';
    for (const e of batch) {
      if (e.kind === 'key-start') {
        this.current = new KeyEstimate(e.header);
      } else if (e.kind === 'key-end') {
        if (!this.current) continue;
        const row = this.current.finish();
        // keys kept by --top do not pin the parser's chunk
        if (this.top) this.top.add({ ...row, key: Buffer.from(row.key) });
        else s += csvRow(row);
        this.current = null;
      } else if (this.current) {
        this.current.event(e);
      }
    }
    return s.length > 0 ? this.out.write(s) : undefined;
  }

  async close(): Promise<void> {
    if (this.top) {
      let s = '';
      for (const r of this.top.sorted()) s += csvRow(r);
      await this.out.write(s);
    }
    await this.out.end();
  }

  async abort(): Promise<void> {
    await this.out.end().catch(() => {});
  }
}
