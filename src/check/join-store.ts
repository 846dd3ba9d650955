/**
 * The records of a snapshot join (snapshot-join.ts) and their join: each key of each side one record in a
 * SpillStore partitioned by the key's hash; a group of partitions joined at a time (the source's records of the
 * group indexed in an open-addressed table, the target's streamed past it). A key whose two records hold the same
 * digest and expiry is equal; every other key is a candidate for the live comparison.
 */
import { SpillStore } from './spill.js';

/*
 * Record layout (little-endian): u32 key hash, u32 key length, u32 target db, u8 flags (1: big, 2: has an
 * expiry), u32 digest a, u32 digest b, then the f64 expiry (ms) when it has one, then the key's bytes.
 */
export const FIXED = 21;
export const FLAG_BIG = 1;
export const FLAG_EXPIRY = 2;

export function put32(buf: Buffer, at: number, v: number): void {
  buf[at] = v;
  buf[at + 1] = v >>> 8;
  buf[at + 2] = v >>> 16;
  buf[at + 3] = v >>> 24;
}

export function get32(buf: Buffer, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}

/** Same bytes in a[aAt, aAt + n) and b[bAt, bAt + n). */
function sameBytes(a: Buffer, aAt: number, b: Buffer, bAt: number, n: number): boolean {
  if (n > 64) return a.compare(b, bAt, bAt + n, aAt, aAt + n) === 0;
  for (let i = 0; i < n; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

/** Bytes of the record at `at`, and where its key starts. */
export const recordLength = (buf: Buffer, at: number): number =>
  FIXED + (buf[at + 12]! & FLAG_EXPIRY ? 8 : 0) + get32(buf, at + 4);
const keyStart = (buf: Buffer, at: number): number => at + FIXED + (buf[at + 12]! & FLAG_EXPIRY ? 8 : 0);

/**
 * Source records of one joined group held in memory, by default (one partition may exceed it at the last level):
 * small, so the group's slot table (8 bytes a record, half full) stays in the CPU's cache. 8 MiB groups spent
 * 1.0 s joining 1M keys a side, 1 MiB groups 0.9 s (load 6).
 */
export const GROUP_BYTES = 1024 * 1024;
/** Partitions of a re-split partition, and how many times one may be split (4 bits of the key hash each). */
const SPLIT = 16;
const MAX_LEVEL = 3;

/** A key the join could not call equal, by target db (the caller knows the source db). */
export interface GroupCandidate {
  tdb: number;
  key: Buffer;
  /** Only the target's snapshot held it: an extra key, unless the source has it now. */
  onlyTarget: boolean;
}

export interface GroupJoin {
  groupBytes: number;
  /** Parent directory of a split partition's temporary files (default: the OS's). */
  dir: string | undefined;
  /** Each group's candidates and the number of its keys found equal. */
  onGroup: (candidates: GroupCandidate[], equal: number) => Promise<void> | void;
  signal?: AbortSignal;
}

/** Joins every partition of `store` (its records partitioned by the key hash's bits below `bits`), group by group. */
export async function joinStore(j: GroupJoin, store: SpillStore, bits: number, level = 0): Promise<void> {
  let group: number[] = [];
  let groupBytes = 0;
  let sourceBuf = Buffer.alloc(0);
  const run = async (): Promise<void> => {
    if (group.length === 0) return;
    const parts = group;
    group = [];
    groupBytes = 0;
    // The source's records of the group in one buffer (about groupBytes), the target's streamed.
    let bytes = 0;
    let count = 0;
    for (const p of parts) {
      bytes += store.size(0, p);
      count += store.records(0, p);
    }
    if (sourceBuf.length < bytes) sourceBuf = Buffer.allocUnsafe(Math.max(bytes, 2 * sourceBuf.length));
    let at = 0;
    for (const p of parts) {
      store.readAll(0, p, sourceBuf, at);
      at += store.size(0, p);
    }
    const target = targetPieces(store, parts);
    const { candidates, equal } = joinGroup(sourceBuf.subarray(0, bytes), count, target);
    await j.onGroup(candidates, equal);
  };
  for (let p = 0; p < store.partitions; p++) {
    if (j.signal?.aborted) return;
    const bytes = store.size(0, p);
    if (bytes > j.groupBytes && level < MAX_LEVEL) {
      await run();
      await splitPartition(j, store, p, bits, level);
      continue;
    }
    if (groupBytes + bytes > j.groupBytes) await run();
    group.push(p);
    groupBytes += bytes;
  }
  await run();
}

/**
 * The target's records of a group's partitions, piece by piece. (One generator function for every group: a new one
 * per group gave each group's iterator another map, and the join's optimised code was thrown away each time.)
 */
function* targetPieces(store: SpillStore, parts: number[]): Generator<Buffer> {
  for (const p of parts) yield* store.read(1, p, recordLength, 1024 * 1024);
}

/** A partition too big to join in memory, split by the next bits of the key hash and joined part by part. */
async function splitPartition(j: GroupJoin, store: SpillStore, p: number, shift: number, level: number): Promise<void> {
  const sub = new SpillStore({ partitions: SPLIT, memoryBytes: j.groupBytes, blockBytes: 64 * 1024, dir: j.dir });
  try {
    for (const side of [0, 1] as const) {
      for (const piece of store.read(side, p, recordLength, 1024 * 1024)) {
        for (let at = 0; at < piece.length;) {
          const n = recordLength(piece, at);
          const h = get32(piece, at);
          const to = sub.reserve(side, (h >>> shift) & (SPLIT - 1), n);
          piece.copy(sub.block, to, at, at + n);
          at += n;
        }
      }
    }
    await joinStore(j, sub, shift + 4, level + 1);
  } finally {
    sub.close();
  }
}

/** The first slot to probe for key hash h in a table of 2^(32 - shift) slots. */
const slotOf = (h: number, shift: number): number => Math.imul(h ^ (h >>> 15), 0x9e3779b1) >>> shift;

/** A candidate: the key of the record at `at` (a copy: the record's buffer is used again). */
function candidateOf(buf: Buffer, at: number, onlyTarget: boolean): GroupCandidate {
  const k = keyStart(buf, at);
  return { tdb: get32(buf, at + 8), key: Buffer.from(buf.subarray(k, k + get32(buf, at + 4))), onlyTarget };
}

/**
 * One group: the source's records indexed by key (open addressing: each slot holds the key hash and the record's
 * index, so a probe touches a record only when the hashes agree), each target record looked up: equal,
 * differing (a candidate), or only in the target; then the source records no target record matched (only in
 * the source).
 */
function joinGroup(
  source: Buffer,
  count: number,
  target: Iterable<Buffer>,
): { candidates: GroupCandidate[]; equal: number } {
  let slotBits = 4;
  while (1 << slotBits < count * 2) slotBits++;
  const t: Table = {
    source,
    /** Per slot: the key hash, then record index + 1 (0: empty). */
    slots: new Uint32Array(2 << slotBits),
    offsetOf: new Uint32Array(count),
    matched: new Uint8Array(count),
    shift: 32 - slotBits,
    mask: (1 << slotBits) - 1,
  };
  const indexed = indexSource(t);
  if (indexed !== count) throw new Error(`the join's group holds ${indexed} source records, ${count} were written`);
  const candidates: GroupCandidate[] = [];
  let equal = 0;
  for (const piece of target) equal += probe(t, piece, candidates);
  for (let r = 0; r < count; r++) if (!t.matched[r]) candidates.push(candidateOf(source, t.offsetOf[r]!, false));
  return { candidates, equal };
}

/*
 * One loop per function (indexSource, probe): V8 optimises a long loop of a function while it runs (on-stack
 * replacement), and that code bailed out where the function went on after the loop, group after group.
 */

/** A group's source records indexed by key hash. */
interface Table {
  source: Buffer;
  slots: Uint32Array;
  /** Record index -> its offset in source. */
  offsetOf: Uint32Array;
  /** Record index -> whether a target record matched it. */
  matched: Uint8Array;
  shift: number;
  mask: number;
}

/** Indexes every record of t.source; returns how many. */
function indexSource(t: Table): number {
  const { source, slots, offsetOf, shift, mask } = t;
  let i = 0;
  for (let at = 0; at < source.length; at += recordLength(source, at)) {
    offsetOf[i] = at;
    const h = get32(source, at);
    let s = slotOf(h, shift);
    while (slots[2 * s + 1] !== 0) s = (s + 1) & mask;
    slots[2 * s] = h;
    slots[2 * s + 1] = ++i;
  }
  return i;
}

/** Looks up every target record of a piece: returns how many were equal, adds the others to `candidates`. */
function probe(t: Table, piece: Buffer, candidates: GroupCandidate[]): number {
  const { source, slots, offsetOf, matched, shift, mask } = t;
  let equalKeys = 0;
  for (let at = 0; at < piece.length;) {
    const h = get32(piece, at);
    const len = get32(piece, at + 4);
    const tdb = get32(piece, at + 8);
    const flags = piece[at + 12]!;
    const key = at + FIXED + (flags & FLAG_EXPIRY ? 8 : 0);
    let found = -1;
    for (let s = slotOf(h, shift); slots[2 * s + 1] !== 0; s = (s + 1) & mask) {
      if (slots[2 * s] !== h) continue;
      const r = slots[2 * s + 1]! - 1;
      const so = offsetOf[r]!;
      if (
        get32(source, so + 4) === len &&
        get32(source, so + 8) === tdb &&
        sameBytes(source, keyStart(source, so), piece, key, len)
      ) {
        found = r;
        break;
      }
    }
    if (found < 0) {
      candidates.push(candidateOf(piece, at, true));
    } else {
      matched[found] = 1;
      const so = offsetOf[found]!;
      // Neither big; the same flags (expiry or not), digest and expiry: bytes 12 .. key of both records.
      let equal = (flags & FLAG_BIG) === 0 && source[so + 12] === flags;
      for (let i = 13; equal && i < key - at; i++) equal = source[so + i] === piece[at + i];
      if (equal) equalKeys++;
      else candidates.push(candidateOf(source, so, false));
    }
    at = key + len;
  }
  return equalKeys;
}
