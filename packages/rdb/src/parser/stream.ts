/**
 * Streams: RDB_TYPE_STREAM_LISTPACKS (15, Redis 5), _2 (19, 7.0: first id, max deleted id, entries added,
 * group entries_read) and _3 (21, 7.2: consumer active time). Layout (rdb.c rdbLoadObject, t_stream.c):
 *
 *   node count, then per node: master id (16-byte string, big-endian ms and seq) and a listpack
 *   length, last id (ms, seq) [v2+: first id, max deleted id, entries added]
 *   group count, then per group: name, last id [v2+: entries_read, 2^64-1 = unknown],
 *     global PEL count, per entry: raw 16-byte id, delivery time (8 bytes LE ms), delivery count
 *     consumer count, per consumer: name, seen time (8 LE) [v3: active time (8 LE)], PEL count, raw ids
 *
 * Node listpack: count, deleted, master field count, master fields..., 0; then per entry: flags,
 * ms delta, seq delta, [field count if not SAMEFIELDS], values (or field/value pairs), lp-count.
 * Entries flagged DELETED are skipped. Units: one node, the metadata, one group header, one PEL
 * entry, the consumer count, one consumer header, one consumer PEL id.
 */
import { decodeListpack } from '../encodings/index.js';
import { RDB_TYPE } from '../constants.js';
import type { KeyHeader, StreamConsumer, StreamEntry, StreamGroup, StreamId, StreamPendingEntry } from '../types.js';
import { type DecodeContext, type ValueDecoder, entryBigInt, entryInt } from './context.js';
import type { Cursor } from './cursor.js';

const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;
const U64_MAX = 0xffffffffffffffffn;

const PHASE = {
  NODES: 0,
  META: 1,
  GROUP: 2,
  GROUP_PEL: 3,
  CONSUMER_COUNT: 4,
  CONSUMER: 5,
  CONSUMER_PEL: 6,
  DONE: 7,
} as const;
type Phase = (typeof PHASE)[keyof typeof PHASE];

export class StreamDecoder implements ValueDecoder {
  private readonly version: 1 | 2 | 3;
  private phase: Phase = PHASE.NODES;
  private left = 0;
  private groupsLeft = 0;
  private consumersLeft = 0;
  private batch: StreamEntry[] = [];
  private group: StreamGroup | null = null;
  private consumer: StreamConsumer | null = null;
  private pelById = new Map<string, StreamPendingEntry>();

  constructor(
    private readonly ctx: DecodeContext,
    rdbType: number,
  ) {
    this.version = rdbType === RDB_TYPE.STREAM_LISTPACKS ? 1 : rdbType === RDB_TYPE.STREAM_LISTPACKS_2 ? 2 : 3;
  }

  begin(_header: KeyHeader): undefined {
    this.left = this.ctx.cur.count('stream node count');
    return undefined;
  }

  step(): void {
    const cur = this.ctx.cur;
    for (;;) {
      switch (this.phase) {
        case PHASE.NODES:
          if (this.left === 0) {
            this.phase = PHASE.META;
            break;
          }
          this.readNode(cur);
          break;
        case PHASE.META:
          this.readMeta(cur);
          break;
        case PHASE.GROUP:
          if (this.groupsLeft === 0) {
            this.phase = PHASE.DONE;
            break;
          }
          this.readGroupHeader(cur);
          break;
        case PHASE.GROUP_PEL:
          if (this.left === 0) {
            this.phase = PHASE.CONSUMER_COUNT;
            break;
          }
          this.readGroupPel(cur);
          break;
        case PHASE.CONSUMER_COUNT:
          this.consumersLeft = cur.count('stream consumer count');
          cur.mark = cur.pos;
          this.phase = PHASE.CONSUMER;
          break;
        case PHASE.CONSUMER:
          if (this.consumersLeft === 0) {
            this.finishGroup();
            break;
          }
          this.readConsumerHeader(cur);
          break;
        case PHASE.CONSUMER_PEL:
          if (this.left === 0) {
            this.consumersLeft--;
            this.consumer = null;
            this.phase = PHASE.CONSUMER;
            break;
          }
          this.readConsumerPel(cur);
          break;
        default:
          return;
      }
    }
  }

  private readNode(cur: Cursor): void {
    const keyAt = cur.pos;
    const nodeKey = cur.string();
    if (nodeKey.length !== 16)
      throw cur.error(`stream node key of ${nodeKey.length} bytes, expected 16`, cur.at(keyAt));
    const lpAt = cur.pos;
    const lp = cur.string();
    const items = cur.decodeBlob(decodeListpack, lp, lpAt);
    if (items.length === 0) throw cur.error('empty stream node listpack', cur.at(lpAt));
    const entries = parseNode(cur, items, nodeKey.readBigUInt64BE(0), nodeKey.readBigUInt64BE(8), cur.at(lpAt));
    this.left--;
    cur.mark = cur.pos;
    const size = this.ctx.batchSize;
    for (const e of entries) {
      this.batch.push(e);
      if (this.batch.length >= size) {
        this.ctx.emit({ kind: 'stream-entries', entries: this.batch });
        this.batch = [];
      }
    }
  }

  private readMeta(cur: Cursor): void {
    const length = cur.count('stream length');
    const lastId = readId(cur);
    let firstId: StreamId | null = null;
    let maxDeletedEntryId: StreamId | null = null;
    let entriesAdded: number | null = null;
    if (this.version >= 2) {
      firstId = readId(cur);
      maxDeletedEntryId = readId(cur);
      entriesAdded = Number(cur.lenBig());
    }
    this.groupsLeft = cur.count('stream group count');
    cur.mark = cur.pos;
    if (this.batch.length > 0) {
      this.ctx.emit({ kind: 'stream-entries', entries: this.batch });
      this.batch = [];
    }
    this.ctx.emit({ kind: 'stream-meta', meta: { length, lastId, firstId, maxDeletedEntryId, entriesAdded } });
    this.phase = PHASE.GROUP;
  }

  private readGroupHeader(cur: Cursor): void {
    const name = cur.string();
    const lastId = readId(cur);
    let entriesRead: number | null = null;
    if (this.version >= 2) {
      const v = cur.lenBig();
      entriesRead = v === U64_MAX ? null : Number(v);
    }
    const pelCount = cur.count('stream PEL size');
    cur.mark = cur.pos;
    this.group = { name, lastId, entriesRead, pel: [], consumers: [] };
    this.pelById = new Map();
    this.left = pelCount;
    this.phase = PHASE.GROUP_PEL;
  }

  private readGroupPel(cur: Cursor): void {
    const at = cur.pos;
    const raw = cur.bytes(16);
    const deliveryTimeMs = cur.i64le();
    const deliveryCount = cur.count('stream delivery count');
    const key = raw.toString('latin1');
    if (this.pelById.has(key)) throw cur.error('duplicated id in a stream consumer group PEL', cur.at(at));
    const entry: StreamPendingEntry = { id: rawId(raw), consumer: null, deliveryTimeMs, deliveryCount };
    this.left--;
    cur.mark = cur.pos;
    this.pelById.set(key, entry);
    this.group!.pel.push(entry);
  }

  private readConsumerHeader(cur: Cursor): void {
    const name = cur.string();
    const seenTimeMs = cur.i64le();
    const activeTimeMs = this.version >= 3 ? cur.i64le() : null;
    const pelCount = cur.count('stream consumer PEL size');
    cur.mark = cur.pos;
    this.consumer = { name, seenTimeMs, activeTimeMs, pel: [] };
    this.group!.consumers.push(this.consumer);
    this.left = pelCount;
    this.phase = PHASE.CONSUMER_PEL;
  }

  private readConsumerPel(cur: Cursor): void {
    const at = cur.pos;
    const raw = cur.bytes(16);
    const entry = this.pelById.get(raw.toString('latin1'));
    if (!entry) throw cur.error("stream consumer PEL id not in the group's PEL", cur.at(at));
    this.left--;
    cur.mark = cur.pos;
    entry.consumer = this.consumer!.name;
    this.consumer!.pel.push(entry.id);
  }

  private finishGroup(): void {
    const group = this.group!;
    this.group = null;
    this.pelById = new Map();
    this.groupsLeft--;
    this.phase = PHASE.GROUP;
    this.ctx.emit({ kind: 'stream-group', group });
  }
}

function readId(cur: Cursor): StreamId {
  const ms = cur.lenBig();
  return { ms, seq: cur.lenBig() };
}

function rawId(raw: Buffer): StreamId {
  return { ms: raw.readBigUInt64BE(0), seq: raw.readBigUInt64BE(8) };
}

/** Walk one node's decoded listpack into its live entries. */
function parseNode(cur: Cursor, items: Buffer[], masterMs: bigint, masterSeq: bigint, base: number): StreamEntry[] {
  const n = items.length;
  const bad = (what: string): never => {
    throw cur.error(`corrupt stream node listpack: ${what}`, base);
  };
  const int = (i: number): number => {
    if (i >= n) bad('truncated entry');
    const v = entryInt(items[i]!);
    if (v === null || v < 0) bad(`expected a count at entry ${i}`);
    return v!;
  };
  const big = (i: number): bigint => {
    if (i >= n) bad('truncated entry');
    const v = entryBigInt(items[i]!);
    if (v === null) bad(`expected an id delta at entry ${i}`);
    return v!;
  };
  const masterFieldCount = int(2);
  if (3 + masterFieldCount >= n) bad('truncated master entry');
  const masterFields = items.slice(3, 3 + masterFieldCount);
  let i = 3 + masterFieldCount;
  if (int(i) !== 0) bad('master entry not terminated by 0');
  i++;
  const out: StreamEntry[] = [];
  while (i < n) {
    const flags = int(i);
    const ms = BigInt.asUintN(64, masterMs + big(i + 1));
    const seq = BigInt.asUintN(64, masterSeq + big(i + 2));
    i += 3;
    let fields: [Buffer, Buffer][];
    if (flags & FLAG_SAMEFIELDS) {
      if (i + masterFieldCount > n) bad('truncated entry values');
      fields = new Array<[Buffer, Buffer]>(masterFieldCount);
      for (let f = 0; f < masterFieldCount; f++) fields[f] = [masterFields[f]!, items[i + f]!];
      i += masterFieldCount;
    } else {
      const count = int(i);
      i++;
      if (i + 2 * count > n) bad('truncated entry fields');
      fields = new Array<[Buffer, Buffer]>(count);
      for (let f = 0; f < count; f++) fields[f] = [items[i + 2 * f]!, items[i + 2 * f + 1]!];
      i += 2 * count;
    }
    int(i); // lp-count, used for backward iteration only
    i++;
    if (!(flags & FLAG_DELETED)) out.push({ id: { ms, seq }, fields });
  }
  return out;
}
