/**
 * The source read as one RDB: a live master's replication snapshot (replica/snapshot-stream.ts) or an RDB file
 * (rdb-source.ts). The RDB is parsed once (@shake/rdb) without decoding values: each key's serialized value is
 * captured as the file holds it (up to the big-key threshold). Keys are gathered in pages; per page the target
 * is asked, pipelined, for each key's expiry and MEMORY USAGE, then for the DUMP of the keys small on both sides.
 * The source's bytes equal to the target's DUMP body (type byte and body; the version/CRC trailer aside) are an
 * equal value; otherwise both are decoded and compared as values (values.ts), so an encoding change is not a
 * difference. Keys big on either side go to `bigKey` (the live source: chunks.ts against the live server; a file:
 * the key read again from the file). Expiries in an RDB are absolute: exact against PEXPIRETIME, within the
 * tolerance against PTTL (compareTtl). A key already expired in the RDB is not expected on the target (vanished).
 * Memory: a few pages in flight, each cut at PAGE_KEYS keys or PAGE_BYTES bytes, whatever the dataset size.
 */
import { dumpBodyEvents, parseDumpPayload, RdbParser, type KeyHeader, type RdbEvent, type RedisType } from '@shake/rdb';
import { RespServerError, type RespValue } from '@shake/resp';
import type { DbMapper } from '../sinks/redis/db-map.js';
import { libraryNameOf } from './functions.js';
import { compareTtl, type KeyCheckContext } from './key-check.js';
import type { Difference, Finding } from './problems.js';
import { CheckError, int } from './side.js';
import { compareValues, valueOfEvents, type KeyValue } from './values.js';

/** One key of the RDB: its header and serialized value (undefined: above the big-key threshold). */
export interface SnapshotKey {
  header: KeyHeader;
  raw: Buffer | undefined;
}

/** What a big key's comparison found: 'vanished' when a live source no longer holds it. */
export type BigResult = Finding | null | 'vanished';

export interface SnapshotCheckOptions {
  /** The RDB bytes, in order. */
  chunks: AsyncIterable<Buffer>;
  /** For messages: the file name or the master's host:port. */
  name: string;
  /** Its `source` is the live source, or the target itself for a file (only its name and TTL rules are used). */
  ctx: KeyCheckContext;
  mapper: DbMapper;
  filters: { dbs?: number[]; types?: RedisType[] };
  names: ((db: number, key: Buffer) => boolean) | null;
  /** A key above the threshold on either side (the RDB's version and magic given for a re-read). */
  bigKey: (key: SnapshotKey, tgtDb: number, rdb: RdbInfo) => Promise<BigResult>;
  /** Each key of the RDB that is compared (for the extra-keys lookup of a file source). */
  onKey?: (db: number, key: Buffer) => void;
  signal?: AbortSignal;
}

export interface RdbInfo {
  magic: 'REDIS' | 'VALKEY';
  version: number;
}

export interface SnapshotCheckResult {
  /** dbs that held at least one compared key. */
  dbs: number[];
  /** Function libraries in the RDB, name -> code. */
  libraries: Map<string, Buffer>;
}

/** Keys per page: a page's objects live across its round trips; smaller pages keep the GC's heap (and RSS) down. */
const PAGE_KEYS = 500;
/** Serialized bytes of one page (source side), and of one pipelined DUMP round (both sides). */
const PAGE_BYTES = 8 * 1024 * 1024;
/** Pages compared at once while the parser reads on. */
const PAGES_IN_FLIGHT = 3;

export async function checkSnapshot(
  opts: SnapshotCheckOptions,
  collect: (d: Difference) => void,
): Promise<SnapshotCheckResult> {
  const ctx = opts.ctx;
  const parser = new RdbParser({ values: false, captureRawLimit: ctx.bigKeyThreshold });
  const dbs = new Set<number>();
  const libraries = new Map<string, Buffer>();
  const types = opts.filters.types && opts.filters.types.length > 0 ? new Set<string>(opts.filters.types) : null;
  const wantDbs = opts.filters.dbs && opts.filters.dbs.length > 0 ? new Set(opts.filters.dbs) : null;
  const rdb: RdbInfo = { magic: 'REDIS', version: 0 };
  let page: SnapshotKey[] = [];
  let pageBytes = 0;
  let current: KeyHeader | null = null;
  const inflight: Promise<void>[] = [];
  const flush = async (): Promise<void> => {
    if (page.length > 0) {
      const p = page;
      page = [];
      pageBytes = 0;
      if (inflight.length >= PAGES_IN_FLIGHT) await inflight.shift();
      const run = checkPage(opts, p, rdb, collect);
      // Awaited in order; a failure must not count as unhandled meanwhile.
      run.catch(() => {});
      inflight.push(run);
    }
  };
  const onEvent = (e: RdbEvent): void => {
    switch (e.kind) {
      case 'header':
        rdb.magic = e.magic;
        rdb.version = e.version;
        return;
      case 'function':
        libraries.set(libraryNameOf(e.code), e.code);
        return;
      case 'key-start': {
        const h = e.header;
        const wanted =
          (!wantDbs || wantDbs.has(h.db)) && (!types || types.has(h.type)) && (!opts.names || opts.names(h.db, h.key));
        current = wanted ? h : null;
        return;
      }
      case 'key-end':
        if (current) {
          opts.onKey?.(current.db, current.key);
          dbs.add(current.db);
          page.push({ header: current, raw: e.raw });
          pageBytes += current.key.length + (e.raw?.length ?? 0);
          current = null;
        }
        return;
      default:
        return;
    }
  };
  try {
    for await (const chunk of opts.chunks) {
      if (opts.signal?.aborted) break;
      for (const e of parser.push(chunk)) onEvent(e);
      if (page.length >= PAGE_KEYS || pageBytes >= PAGE_BYTES) await flush();
    }
    if (!opts.signal?.aborted) {
      for (const e of parser.done ? [] : parser.end()) onEvent(e);
      await flush();
    }
    for (const run of inflight.splice(0)) await run;
  } catch (err) {
    // Let the pages in flight settle before the caller closes the connections.
    await Promise.allSettled(inflight);
    if (err instanceof CheckError) throw err;
    throw new CheckError(`${opts.name}: ${(err as Error).message}`);
  }
  return { dbs: [...dbs].sort((a, b) => a - b), libraries };
}

interface Pending {
  key: SnapshotKey;
  tgtExpire: number | null;
  big: boolean;
  /** Target MEMORY USAGE (0 when unknown). */
  bytes: number;
  found: BigResult;
}

async function checkPage(
  opts: SnapshotCheckOptions,
  page: SnapshotKey[],
  rdb: RdbInfo,
  collect: (d: Difference) => void,
): Promise<void> {
  const { ctx, mapper } = opts;
  const { target, stats } = ctx;
  const byDb = new Map<number, SnapshotKey[]>();
  for (const k of page) {
    let list = byDb.get(k.header.db);
    if (!list) byDb.set(k.header.db, (list = []));
    list.push(k);
  }
  const diff = (db: number, key: Buffer, f: Finding): void => {
    stats.differing(f.problem);
    collect({ db, key, problem: f.problem, detail: f.detail });
  };
  for (const [db, all] of byDb) {
    const tdb = mapper.map(db);
    const now = Date.now();
    // A key already expired in the RDB is not loaded by a restore or a replica: not expected on the target.
    const keys = all.filter((k) => k.header.expireAtMs === null || k.header.expireAtMs > now);
    stats.vanished += all.length - keys.length;
    const expiry = target.absoluteTtl ? 'PEXPIRETIME' : 'PTTL';
    const head = await target.perKey(
      tdb,
      keys.map((k) => k.header.key),
      (k) =>
        target.memoryUsage
          ? [
              [expiry, k],
              ['MEMORY', 'USAGE', k],
            ]
          : [[expiry, k]],
    );
    const pending: Pending[] = [];
    let present = 0;
    keys.forEach((k, i) => {
      const [ttlReply, memReply] = head[i]!;
      stats.compared++;
      if (ttlReply instanceof RespServerError) throw new CheckError(`expiry on the target failed: ${ttlReply.message}`);
      const ttl = int(ttlReply);
      if (ttl === -2) return diff(db, k.header.key, { problem: 'missing', detail: {} });
      present++;
      const tgtExpire = ttl === -1 ? null : target.absoluteTtl ? ttl : now + ttl;
      const bytes = memoryOf(ctx, memReply);
      const big = k.raw === undefined || bytes > ctx.bigKeyThreshold;
      pending.push({ key: k, tgtExpire, bytes, big, found: null });
    });
    stats.present.set(tdb, (stats.present.get(tdb) ?? 0) + present);
    for (const batch of byBytes(
      pending.filter((p) => !p.big),
      Math.min(ctx.batchBytes, PAGE_BYTES),
    )) {
      const dumps = await target.perKey(
        tdb,
        batch.map((p) => p.key.header.key),
        (k) => [['DUMP', k]],
      );
      batch.forEach((p, j) => (p.found = compareSmall(ctx, p.key, dumps[j]![0], rdb)));
    }
    for (const p of pending) {
      if (!p.big) continue;
      stats.bigKeys++;
      p.found = await opts.bigKey(p.key, tdb, rdb);
    }
    for (const p of pending) {
      const f = p.found;
      if (f === 'vanished') {
        stats.compared--;
        stats.vanished++;
        continue;
      }
      // The RDB's expiry is absolute: exact against PEXPIRETIME, within the tolerance against PTTL.
      const found = f ?? compareTtl({ ...ctx, source: target }, p.key.header.expireAtMs, p.tgtExpire);
      if (found) diff(db, p.key.header.key, found);
      else stats.equal++;
    }
  }
}

function memoryOf(ctx: KeyCheckContext, reply: RespValue | undefined): number {
  if (reply === undefined) return 0;
  if (reply instanceof RespServerError) {
    if (ctx.target.memoryUsage) {
      ctx.target.memoryUsage = false;
      ctx.onNotice?.(
        `MEMORY USAGE refused on the target (${reply.message}): the source's size alone sorts keys into small and big`,
      );
    }
    return 0;
  }
  return int(reply) || 0;
}

/** Runs of keys whose serialized bytes (source raw + target MEMORY USAGE) stay under `limit`, in order. */
function* byBytes(items: Pending[], limit: number): Generator<Pending[]> {
  let batch: Pending[] = [];
  let bytes = 0;
  for (const p of items) {
    const n = (p.key.raw?.length ?? 0) + p.bytes;
    if (batch.length > 0 && bytes + n > limit) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(p);
    bytes += n;
  }
  if (batch.length > 0) yield batch;
}

/** The RDB's serialized value against the target's DUMP: bytes first, values when the bytes differ. */
function compareSmall(ctx: KeyCheckContext, k: SnapshotKey, dump: RespValue | undefined, rdb: RdbInfo): BigResult {
  if (dump instanceof RespServerError) throw new CheckError(`DUMP on the target failed: ${dump.message}`);
  // Gone between the expiry and the DUMP (expired, or deleted under traffic).
  if (!Buffer.isBuffer(dump)) return { problem: 'missing', detail: {} };
  const h = k.header;
  const raw = k.raw!;
  ctx.stats.bytesRead += dump.length + raw.length;
  if (dump[0] === h.rdbType && dump.length - 11 === raw.length && raw.compare(dump, 1, dump.length - 10) === 0) {
    ctx.stats.payloadEqual++;
    return null;
  }
  let source: KeyValue;
  try {
    const events: RdbEvent[] = [];
    for (const batch of dumpBodyEvents(h.rdbType, raw, rdb.version)) for (const e of batch) events.push(e);
    source = valueOfEvents(events);
  } catch (err) {
    throw new CheckError(`${h.key.toString('latin1')} in the source's RDB: ${(err as Error).message}`);
  }
  return compareWithDump(ctx, h.key, source, dump);
}

/** A source value against the target's DUMP payload, parsed (a live server's: its CRC is not checked again). */
export function compareWithDump(ctx: KeyCheckContext, key: Buffer, source: KeyValue, dump: Buffer): Finding | null {
  let target: KeyValue;
  try {
    target = valueOfEvents(parseDumpPayload(dump, { verifyChecksum: false }).events);
  } catch (err) {
    throw new CheckError(`DUMP of ${key.toString('latin1')} on the target: ${(err as Error).message}`);
  }
  if (source.type !== target.type) return { problem: 'type', detail: { source: source.type, target: target.type } };
  return compareValues(source, target, { targetFieldTtl: ctx.target.features.hashFieldTtl });
}
