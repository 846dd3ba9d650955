/**
 * The body of a stream value (rdb.c rdbSaveObject, OBJ_STREAM), rebuilt from parsed entries:
 *
 *   <listpack count> (<node key: master id, 16 bytes big endian> <listpack>)...
 *   <length> <last id ms> <last id seq>
 *   [RDB type 19+: <first id ms> <seq> <max deleted id ms> <seq> <entries added>]
 *   <group count> (<name> <last id ms> <seq> [19+: <entries read>]
 *      <PEL count> (<id 16 bytes> <delivery time ms, int64 LE> <delivery count>)...
 *      <consumer count> (<name> <seen time> [21: <active time>] <PEL count> (<id 16 bytes>)...)...)...
 *
 * Each listpack node follows t_stream.c streamAppendItem: a master entry
 *   <count> <deleted=0> <num fields> <field>... <0>
 * then per entry <flags> <ms - master ms> <seq - master seq> [<num fields> <field> <value>... | <value>...]
 * <lp-count>, with SAMEFIELDS when the entry's fields equal the master's. Nodes close at 100 entries or
 * about 4096 bytes (stream-node-max-entries / stream-node-max-bytes defaults). Deleted entries are not
 * reproduced (the parser reports live entries only); the metadata keeps max-deleted-id and entries-added.
 */
import { RDB_TYPE } from '../constants.js';
import { encodeListpack } from '../encodings/index.js';
import type { RdbError } from '../errors.js';
import type { StreamEntry, StreamGroup, StreamId, StreamMeta } from '../types.js';
import { ChunkWriter } from './serialize.js';

const STREAM_ITEM_FLAG_SAMEFIELDS = 2;
const NODE_MAX_ENTRIES = 100;
const NODE_MAX_BYTES = 4096;
/** SCG_INVALID_ENTRIES_READ (-1) as rdbSaveLen writes it. */
const INVALID_ENTRIES_READ = 0xffffffffffffffffn;
const ZERO_ID: StreamId = { ms: 0n, seq: 0n };

type LpItem = Buffer | number | bigint;

export class StreamBodyEncoder {
  private readonly held: ChunkWriter;
  private heldBytes = 0;
  private readonly heldChunks: Buffer[] = [];
  private listpacks = 0;
  private entryCount = 0;
  private firstEntryId: StreamId | null = null;
  private lastEntryId: StreamId | null = null;
  private streamMeta: StreamMeta | null = null;
  private readonly groups: StreamGroup[] = [];

  // The open node.
  private node: LpItem[] = [];
  private nodeEntries = 0;
  private nodeBytes = 0;
  private masterId: StreamId = ZERO_ID;
  private masterFields: Buffer[] = [];

  constructor(
    private readonly target: number,
    compress: boolean,
    private readonly maxHeld: number,
    private readonly fail: (message: string) => RdbError,
  ) {
    this.held = new ChunkWriter(
      (c) => {
        this.heldChunks.push(c);
        this.heldBytes += c.length;
        if (this.heldBytes > this.maxHeld) {
          throw this.fail(`stream larger than ${this.maxHeld} bytes; use commands for it`);
        }
      },
      64 * 1024,
      compress,
    );
  }

  entries(entries: readonly StreamEntry[]): void {
    if (this.streamMeta) throw this.fail('stream entries after stream metadata');
    for (const e of entries) this.entry(e);
  }

  meta(meta: StreamMeta): void {
    this.streamMeta = meta;
  }

  group(group: StreamGroup): void {
    this.groups.push(group);
  }

  /** Writes the whole body; `begin` gets the type id and returns the output. Returns the entry count. */
  finish(begin: (rdbType: number) => ChunkWriter): number {
    this.closeNode();
    this.held.flush();
    const meta = this.streamMeta;
    if (!meta) throw this.fail('stream without metadata');
    const rdbType =
      this.target >= 11
        ? RDB_TYPE.STREAM_LISTPACKS_3
        : this.target >= 10
          ? RDB_TYPE.STREAM_LISTPACKS_2
          : RDB_TYPE.STREAM_LISTPACKS;
    const w = begin(rdbType);
    w.length(this.listpacks);
    for (const c of this.heldChunks) w.bytes(c);
    w.length(meta.length);
    w.length(meta.lastId.ms);
    w.length(meta.lastId.seq);
    if (rdbType >= RDB_TYPE.STREAM_LISTPACKS_2) {
      const first = meta.firstId ?? this.firstEntryId ?? ZERO_ID;
      const maxDeleted = meta.maxDeletedEntryId ?? ZERO_ID;
      w.length(first.ms);
      w.length(first.seq);
      w.length(maxDeleted.ms);
      w.length(maxDeleted.seq);
      w.length(meta.entriesAdded ?? meta.length);
    }
    w.length(this.groups.length);
    for (const g of this.groups) this.writeGroup(w, g, rdbType);
    return this.entryCount;
  }

  private writeGroup(w: ChunkWriter, g: StreamGroup, rdbType: number): void {
    w.string(g.name);
    w.length(g.lastId.ms);
    w.length(g.lastId.seq);
    if (rdbType >= RDB_TYPE.STREAM_LISTPACKS_2) w.length(g.entriesRead ?? INVALID_ENTRIES_READ);
    w.length(g.pel.length);
    for (const p of g.pel) {
      w.streamIdRaw(p.id);
      w.millisecondTime(p.deliveryTimeMs);
      w.length(p.deliveryCount);
    }
    w.length(g.consumers.length);
    for (const c of g.consumers) {
      w.string(c.name);
      w.millisecondTime(c.seenTimeMs);
      if (rdbType >= RDB_TYPE.STREAM_LISTPACKS_3) w.millisecondTime(c.activeTimeMs ?? c.seenTimeMs);
      w.length(c.pel.length);
      for (const id of c.pel) w.streamIdRaw(id);
    }
  }

  private entry(e: StreamEntry): void {
    if (this.lastEntryId && compareIds(e.id, this.lastEntryId) <= 0) {
      throw this.fail(`stream entry ids not increasing at ${e.id.ms}-${e.id.seq}`);
    }
    let size = 0;
    for (const [f, v] of e.fields) size += f.length + v.length;
    if (this.nodeEntries > 0 && (this.nodeEntries >= NODE_MAX_ENTRIES || this.nodeBytes + size >= NODE_MAX_BYTES)) {
      this.closeNode();
    }
    if (this.nodeEntries === 0) this.openNode(e);
    const node = this.node;
    const same = sameFields(e.fields, this.masterFields);
    node.push(same ? STREAM_ITEM_FLAG_SAMEFIELDS : 0);
    node.push(BigInt.asIntN(64, e.id.ms - this.masterId.ms));
    node.push(BigInt.asIntN(64, e.id.seq - this.masterId.seq));
    if (!same) node.push(e.fields.length);
    for (const [f, v] of e.fields) {
      if (!same) node.push(f);
      node.push(v);
    }
    node.push(same ? e.fields.length + 3 : 2 * e.fields.length + 4);
    this.nodeEntries++;
    this.nodeBytes += size + 4 + 2 * e.fields.length;
    this.entryCount++;
    this.firstEntryId ??= e.id;
    this.lastEntryId = e.id;
  }

  private openNode(first: StreamEntry): void {
    this.masterId = first.id;
    this.masterFields = first.fields.map(([f]) => f);
    // count (patched when the node closes), deleted, number of master fields, fields, terminator.
    this.node = [0, 0, this.masterFields.length, ...this.masterFields, 0];
    this.nodeBytes = 8;
    for (const f of this.masterFields) this.nodeBytes += f.length + 2;
  }

  private closeNode(): void {
    if (this.nodeEntries === 0) return;
    this.node[0] = this.nodeEntries;
    // The node key goes through rdbSaveRawString as a 16-byte string: length prefix 16, verbatim.
    this.held.length(16);
    this.held.streamIdRaw(this.masterId);
    this.held.string(encodeListpack(this.node));
    this.listpacks++;
    this.node = [];
    this.nodeEntries = 0;
    this.nodeBytes = 0;
  }
}

function sameFields(fields: readonly [Buffer, Buffer][], master: readonly Buffer[]): boolean {
  if (fields.length !== master.length) return false;
  for (let i = 0; i < fields.length; i++) if (!fields[i]![0].equals(master[i]!)) return false;
  return true;
}

function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
}
