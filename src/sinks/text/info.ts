/**
 * decode --info: a summary of an RDB instead of its keys: header, AUX fields, keys per db / type /
 * encoding, keys with a TTL and keys already expired, function libraries, module AUX records, and the
 * checksum status. Human text, or one JSON object (`--info --format json`).
 */
import type { Entry, EntryBatch, Sink } from '../../core/entry.js';
import { isPrintableUtf8 } from './json-bytes.js';
import type { TextOutput } from './output.js';

export interface RdbInfo {
  magic: string | null;
  rdb_version: number | null;
  bytes: number | null;
  aux: Record<string, string>;
  keys: number;
  expires: number;
  expired: number;
  dbs: Record<
    string,
    { keys: number; expires: number; expired: number; resize_db?: { keys: number; expires: number } }
  >;
  types: Record<string, number>;
  encodings: Record<string, number>;
  functions: string[];
  module_aux: string[];
  slot_info: number;
  checksum: { status: 'ok' | 'absent' | 'mismatch' | 'unknown'; stored?: string; computed?: string };
}

function text(b: Buffer): string {
  return isPrintableUtf8(b) ? b.toString('utf8') : `base64:${b.toString('base64')}`;
}

/** The library name from the code's shebang line (`#!lua name=mylib`). */
export function libraryName(code: Buffer): string {
  const first = code.subarray(0, Math.min(code.length, 512)).toString('utf8').split('\n')[0] ?? '';
  const m = /\bname=(\S+)/.exec(first);
  return m?.[1] ?? '(unnamed)';
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

export class InfoSink implements Sink {
  readonly info: RdbInfo = {
    magic: null,
    rdb_version: null,
    bytes: null,
    aux: {},
    keys: 0,
    expires: 0,
    expired: 0,
    dbs: {},
    types: {},
    encodings: {},
    functions: [],
    module_aux: [],
    slot_info: 0,
    checksum: { status: 'unknown' },
  };
  private readonly now: number;
  private currentDb = 0;

  constructor(
    private readonly out: TextOutput,
    private readonly opts: { json: boolean; nowMs?: number; totalBytes?: () => number | null },
  ) {
    this.now = opts.nowMs ?? Date.now();
  }

  private db(n: number) {
    return (this.info.dbs[String(n)] ??= { keys: 0, expires: 0, expired: 0 });
  }

  write(batch: EntryBatch): void {
    for (const e of batch) this.event(e);
  }

  private event(e: Entry): void {
    const info = this.info;
    switch (e.kind) {
      case 'header':
        info.magic = e.magic;
        info.rdb_version = e.version;
        return;
      case 'aux':
        info.aux[text(e.key)] = text(e.value);
        return;
      case 'select-db':
        this.currentDb = e.db;
        this.db(e.db);
        return;
      case 'resize-db':
        // a hint about the db selected just before it
        this.db(this.currentDb).resize_db = { keys: e.dbSize, expires: e.expiresSize };
        return;
      case 'slot-info':
        info.slot_info++;
        return;
      case 'function':
        info.functions.push(libraryName(e.code));
        return;
      case 'function-pre-ga':
        info.functions.push(text(e.name));
        return;
      case 'module-aux':
        info.module_aux.push(e.module.name);
        return;
      case 'key-start': {
        const h = e.header;
        const d = this.db(h.db);
        info.keys++;
        d.keys++;
        if (h.expireAtMs !== null) {
          info.expires++;
          d.expires++;
          if (h.expireAtMs <= this.now) {
            info.expired++;
            d.expired++;
          }
        }
        bump(info.types, h.type);
        bump(info.encodings, `${h.type}/${h.encoding}`);
        return;
      }
      case 'end':
        if (!e.checksum) info.checksum = { status: 'absent' };
        else {
          const hex = (x: bigint) => `0x${x.toString(16).padStart(16, '0')}`;
          info.checksum = {
            status: e.checksum.stored === e.checksum.computed ? 'ok' : 'mismatch',
            stored: hex(e.checksum.stored),
            computed: hex(e.checksum.computed),
          };
        }
        return;
      default:
        return;
    }
  }

  render(): string {
    const i = this.info;
    i.bytes = this.opts.totalBytes?.() ?? null;
    if (this.opts.json) return `${JSON.stringify(i, null, 2)}\n`;
    const lines: string[] = [];
    lines.push(
      `format: ${i.magic ?? '?'} version ${i.rdb_version ?? '?'}${i.bytes === null ? '' : `, ${i.bytes} bytes`}`,
    );
    const aux = Object.entries(i.aux);
    if (aux.length > 0) {
      lines.push('aux:');
      for (const [k, v] of aux) lines.push(`  ${k} = ${v}`);
    }
    lines.push(`keys: ${i.keys} (with TTL ${i.expires}, already expired ${i.expired})`);
    const dbs = Object.entries(i.dbs).sort((a, b) => Number(a[0]) - Number(b[0]));
    for (const [n, d] of dbs) {
      const hint = d.resize_db ? ` [resize-db hint: ${d.resize_db.keys} keys, ${d.resize_db.expires} with TTL]` : '';
      lines.push(`  db ${n}: ${d.keys} keys, ${d.expires} with TTL, ${d.expired} expired${hint}`);
    }
    const table = (title: string, m: Record<string, number>) => {
      const rows = Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      if (rows.length === 0) return;
      lines.push(`${title}:`);
      for (const [k, v] of rows) lines.push(`  ${k} ${v}`);
    };
    table('types', i.types);
    table('encodings', i.encodings);
    lines.push(`functions: ${i.functions.length}${i.functions.length ? ` (${i.functions.join(', ')})` : ''}`);
    if (i.module_aux.length > 0) lines.push(`module aux: ${i.module_aux.join(', ')}`);
    if (i.slot_info > 0) lines.push(`slot-info records: ${i.slot_info}`);
    const c = i.checksum;
    lines.push(`checksum: ${c.status}${c.stored ? ` (stored ${c.stored}, computed ${c.computed})` : ''}`);
    return `${lines.join('\n')}\n`;
  }

  async close(): Promise<void> {
    await this.out.write(this.render());
    await this.out.end();
  }

  async abort(): Promise<void> {
    await this.out.end().catch(() => {});
  }
}
