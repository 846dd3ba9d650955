/**
 * Both sides read as RDB snapshots (a live source and a live target that both allow replication) and joined by
 * key, so neither server is asked anything per key for the keys that are equal. Each snapshot is parsed as it
 * arrives without decoding values (@shake/rdb `values: false`, each value's serialized bytes captured up to the
 * big-key threshold); each key becomes one record: (target db, key, absolute expiry, a 64-bit digest of its type
 * byte and serialized bytes, or "big"). The two RDBs list keys in different orders, so records are partitioned
 * by a hash of (db, key) into a SpillStore (memory while small, temporary files past a bound) and joined one
 * group of partitions at a time: the source's records of the group indexed in an open-addressed table, the
 * target's streamed past it.
 *
 * A key is equal at once when both records hold the same digest and the same expiry. Everything else is a
 * candidate: the caller compares it live on both sides (key-check.ts: DUMP, values decoded where the bytes
 * differ, chunks for big keys, the TTL rules), so what is reported is exactly what the per-key check would say;
 * the join only spares it the keys whose bytes and expiry already agree. Candidates: keys whose bytes differ
 * (e.g. the same set written in another dict order, or another encoding), big keys, keys only in the source
 * (missing, or deleted meanwhile), keys only in the target (extra, or written to the source meanwhile).
 * Digest collisions: two different values share both 32-bit hashes with a chance of about 2^-64 (hash.ts).
 */
import { encodedLength, encodedStringEnd, RdbParser, type KeySink, type RdbEvent } from '@shake/rdb';
import type { DbMapper } from '../sinks/redis/db-map.js';
import { fmix, hash32, hash64 } from '../core/hash.js';
import { isShakeStateKey } from './state-key.js';
import { FIXED, FLAG_BIG, FLAG_EXPIRY, GROUP_BYTES, joinStore, put32, type GroupCandidate } from './join-store.js';
import { CheckError } from './side.js';
import { SpillStore } from './spill.js';
import type { CheckStats } from './stats.js';

export interface JoinInput {
  /** The RDB bytes, in order. */
  chunks: AsyncIterable<Buffer>;
  /** For messages: e.g. "source 127.0.0.1:6379". */
  name: string;
  /**
   * Compute and check the RDB's CRC (default false: a damaged snapshot could only make keys disagree, and those
   * are compared live; a file source is checked whole, as the per-key path does).
   */
  checksum?: boolean;
  /** The events other than keys (header, aux, functions...). */
  onEvent?: (e: RdbEvent) => void;
}

export interface SnapshotJoinOptions {
  /** One snapshot per source master. */
  sources: JoinInput[];
  /** One snapshot per target master. */
  targets: JoinInput[];
  mapper: DbMapper;
  /** The source db whose keys go to target db `tdb` (undefined: the check does not cover that target db). */
  sourceDbOf: (tdb: number) => number | undefined;
  dbs?: number[];
  /** The user's key filter (by source db); shake's own keys (`__shake:*`, state-key.ts) are left out anyway. */
  names: ((db: number, key: Buffer) => boolean) | null;
  bigKeyThreshold: number;
  /** Keys expected on the larger side (INFO keyspace): sizes the partitions. */
  expectedKeys: number;
  stats: CheckStats;
  /** Where records go past `memoryBytes` (default: the OS's temporary directory). */
  spillDir?: string;
  /** Records kept in memory before they go to files (default 8 MiB). */
  memoryBytes?: number;
  /** Source records of one joined group held in memory (default 1 MiB); a bigger partition is split. */
  groupBytes?: number;
  signal?: AbortSignal;
}

export interface JoinCandidate {
  srcDb: number;
  tdb: number;
  key: Buffer;
  /** Only the target's snapshot held it: an extra key, unless the source has it now. */
  onlyTarget: boolean;
}

export interface JoinResult {
  /** Whether the records went to temporary files. */
  spilled: boolean;
}

const NO_DB = 0xffffffff;
const KEY_SEED = 0x5eed0001;
const DIGEST_SEED = 0x243f6a88;
const ELEMENT_SEED = 0x13198a2e;
/** Keys per first-level partition, about (up to 1024 partitions; bigger ones are split when joined). */
const KEYS_PER_PARTITION = 16_000;

const RDB_TYPE_SET = 2;
const RDB_TYPE_HASH = 4;
const element = new Uint32Array(2);

/**
 * The digest of a serialized value. A hash-table set or hash (RDB types 2 and 4) is written in its server's dict
 * order, which a copy does not keep: its members (fields with their values) are hashed one by one as the RDB
 * encodes them and the hashes summed, so the order does not count. (The same member encoded otherwise, e.g. with
 * rdbcompression off on one side, still differs: the key is then compared live.) Anything else: its bytes.
 */
export function valueDigest(buf: Buffer, start: number, end: number, rdbType: number, out: Uint32Array): void {
  if (rdbType === RDB_TYPE_SET || rdbType === RDB_TYPE_HASH) {
    try {
      const strings = rdbType === RDB_TYPE_HASH ? 2 : 1;
      const [n, first] = encodedLength(buf, start);
      let p = first;
      let a = 0;
      let b = 0;
      for (let i = 0; i < n; i++) {
        let e = encodedStringEnd(buf, p, end);
        if (strings === 2) e = encodedStringEnd(buf, e, end);
        hash64(buf, ELEMENT_SEED, element, p, e);
        a = (a + element[0]!) | 0;
        b = (b + element[1]!) | 0;
        p = e;
      }
      if (p === end) {
        out[0] = fmix(a, n);
        out[1] = fmix(b, n ^ 0x5bd1e995);
        return;
      }
    } catch {
      // Not the layout expected: its bytes, as for any other value.
    }
  }
  hash64(buf, DIGEST_SEED, out, start, end);
}

export async function joinSnapshots(
  opts: SnapshotJoinOptions,
  onCandidates: (batch: JoinCandidate[]) => Promise<void>,
): Promise<JoinResult> {
  let bits = 0;
  while (bits < 10 && opts.expectedKeys / (1 << bits) > KEYS_PER_PARTITION) bits++;
  const store = new SpillStore({
    partitions: 1 << bits,
    memoryBytes: opts.memoryBytes ?? 8 * 1024 * 1024,
    // Two sides x partitions x one block in memory once spilled: at most 8 MiB (blocks of 4-64 KiB).
    blockBytes: Math.max(4096, Math.min(64 * 1024, (8 * 1024 * 1024) / (2 << bits))),
    dir: opts.spillDir,
  });
  try {
    const now = Date.now();
    const part = (h: number): number => h & ((1 << bits) - 1);
    await Promise.all([
      ...opts.sources.map((s) => readSide(opts, s, 0, store, part, now)),
      ...opts.targets.map((t) => readSide(opts, t, 1, store, part, now)),
    ]);
    if (opts.signal?.aborted) return { spilled: store.spilled };
    const stats = opts.stats;
    const onGroup = async (candidates: GroupCandidate[], equal: number): Promise<void> => {
      // The candidates are counted by the live comparison.
      stats.compared += equal;
      stats.equal += equal;
      stats.payloadEqual += equal;
      const batch: JoinCandidate[] = [];
      for (const c of candidates) {
        const srcDb = opts.sourceDbOf(c.tdb);
        if (srcDb !== undefined) batch.push({ srcDb, tdb: c.tdb, key: c.key, onlyTarget: c.onlyTarget });
      }
      stats.joinCandidates += batch.length;
      if (batch.length > 0) await onCandidates(batch);
    };
    await joinStore(
      { groupBytes: opts.groupBytes ?? GROUP_BYTES, dir: opts.spillDir, onGroup, signal: opts.signal },
      store,
      bits,
    );
    return { spilled: store.spilled };
  } finally {
    store.close();
  }
}

/** One snapshot parsed into records of side `side` (0 source, 1 target). */
async function readSide(
  opts: SnapshotJoinOptions,
  input: JoinInput,
  side: 0 | 1,
  store: SpillStore,
  part: (h: number) => number,
  now: number,
): Promise<void> {
  const wantDbs = opts.dbs && opts.dbs.length > 0 ? new Set(opts.dbs) : null;
  const names = opts.names;
  const stats = opts.stats;
  const scratch = new Uint32Array(2);
  /** The record of the key being read (its value completes it), or -1 when the key is left out. */
  let recordAt = -1;
  let record: Buffer = store.block;
  let lastDb = -1;
  let srcDb = NO_DB;
  let tdb = 0;
  let wantedDb = false;
  let seed = 0;
  // Each key straight from the parser's buffer (no Buffer, header or event per key): its record reserved and
  // written when the name is read, its digest when the value ends.
  const keySink: KeySink = {
    key(buf, start, end, db, _rdbType, expire) {
      recordAt = -1;
      if (db !== lastDb) {
        // A new db (keys come db by db): its source db, target db, whether it is checked, its key-hash seed.
        lastDb = db;
        if (side === 0) {
          srcDb = db;
          tdb = opts.mapper.map(srcDb);
        } else {
          tdb = db;
          srcDb = opts.sourceDbOf(tdb) ?? NO_DB;
        }
        wantedDb = srcDb !== NO_DB && (!wantDbs || wantDbs.has(srcDb));
        seed = fmix(KEY_SEED, tdb);
      }
      if (!wantedDb || isShakeStateKey(buf, start, end)) return;
      if (names && !names(srcDb, buf.subarray(start, end))) return;
      // Already expired in the snapshot: the server no longer serves it (the source's counts as vanished).
      if (expire !== null && expire <= now) {
        if (side === 0) stats.vanished++;
        return;
      }
      if (side === 1) stats.targetSnapshotKeys++;
      const hk = hash32(buf, seed, start, end);
      const len = end - start;
      const head = expire === null ? FIXED : FIXED + 8;
      const at = store.reserve(side, part(hk), head + len);
      const out = store.block;
      // Byte by byte (Buffer's write methods check their arguments each call: 1M keys a side).
      put32(out, at, hk);
      put32(out, at + 4, len);
      put32(out, at + 8, tdb);
      // Flags and digest completed by value().
      out[at + 12] = expire === null ? 0 : FLAG_EXPIRY;
      if (expire !== null) out.writeDoubleLE(expire, at + FIXED);
      if (len <= 32) for (let i = 0; i < len; i++) out[at + head + i] = buf[start + i]!;
      else buf.copy(out, at + head, start, end);
      record = out;
      recordAt = at;
    },
    value(buf, start, end, rdbType) {
      const at = recordAt;
      if (at < 0) return;
      recordAt = -1;
      const out = record;
      if (buf === null) {
        out[at + 12] = out[at + 12]! | FLAG_BIG;
        put32(out, at + 13, 0);
        put32(out, at + 17, 0);
        return;
      }
      valueDigest(buf, start, end, rdbType, scratch);
      // The type byte folded in: the same bytes under another type are another value.
      const t = Math.imul(rdbType + 1, 0x9e3779b1);
      put32(out, at + 13, (scratch[0]! ^ t) >>> 0);
      put32(out, at + 17, (scratch[1]! ^ Math.imul(t, 0x85ebca6b)) >>> 0);
    },
  };
  const parser = new RdbParser({
    values: false,
    captureRawLimit: opts.bigKeyThreshold,
    checksum: input.checksum === true,
    keySink,
  });
  const onEvent = input.onEvent;
  try {
    for await (const chunk of input.chunks) {
      if (opts.signal?.aborted) return;
      const events = parser.push(chunk);
      if (onEvent) for (const e of events) onEvent(e);
    }
    if (!parser.done) for (const e of parser.end()) onEvent?.(e);
  } catch (err) {
    if (err instanceof CheckError) throw err;
    throw new CheckError(`${input.name}: ${(err as Error).message}`);
  }
}

/** The target db -> source db map of a join, or null when some target db would receive two source dbs. */
export function soleSourceDbs(
  mapper: DbMapper,
  candidates: readonly number[],
): ((tdb: number) => number | undefined) | null {
  const of = new Map<number, number>();
  for (const s of candidates) {
    let t: number;
    try {
      t = mapper.map(s);
    } catch {
      continue;
    }
    if (of.has(t)) return null;
    of.set(t, s);
  }
  return (tdb) => of.get(tdb);
}
