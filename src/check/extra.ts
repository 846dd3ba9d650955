/**
 * Keys only on the target: every target master scanned (each db it holds), each key looked up in the source
 * db(s) that map to that target db; a key none of them holds is extra. Key filters apply as they do to the
 * source (on the source db's number), so a filtered check does not call every other target key extra.
 */
import type { RedisType } from '@shake/rdb';
import type { RespValue } from '@shake/resp';
import { parseInfo } from '../sources/scan-server.js';
import type { Difference } from './problems.js';
import { CheckError, ok, type CheckSide } from './side.js';
import type { CheckStats } from './stats.js';

/** Does the source hold these keys (in source db `db`)? */
export type SourceLookup = (db: number, keys: Buffer[]) => Promise<boolean[]>;

export interface ExtraScanOptions {
  target: CheckSide;
  /** Source dbs whose keys go to target db `tdb`. */
  sourceDbsFor: (tdb: number) => number[];
  has: SourceLookup;
  nameFilter: ((db: number, key: Buffer) => boolean) | null;
  types?: RedisType[];
  match?: string;
  scanCount: number;
  stats: CheckStats;
  /** Target dbs known to hold no extra key (see targetKeyCounts): not scanned. */
  skipDb?: (tdb: number) => boolean;
  signal?: AbortSignal;
}

function text(r: RespValue | undefined): string {
  return Buffer.isBuffer(r) ? r.toString('latin1') : String(r);
}

/** Pages looked up on the source at once per target master (the next SCAN goes out meanwhile). */
const PAGES_IN_FLIGHT = 3;

export async function scanExtras(opts: ExtraScanOptions, onDifference: (d: Difference) => void): Promise<void> {
  const { target } = opts;
  await Promise.all(target.server.masters().map((node) => scanMaster(opts, node.conns[0]!, onDifference)));
}

async function scanMaster(
  opts: ExtraScanOptions,
  conn: { sendBatch(a: (string | Buffer)[][]): Promise<RespValue[]> },
  onDifference: (d: Difference) => void,
): Promise<void> {
  const { target } = opts;
  const dbs = target.features.select ? await keyspaceDbs(target, conn) : [0];
  for (const tdb of dbs) {
    const sdbs = opts.sourceDbsFor(tdb);
    if (sdbs.length === 0 || opts.skipDb?.(tdb)) continue;
    let cursor = '0';
    const inflight: Promise<void>[] = [];
    do {
      if (opts.signal?.aborted) break;
      const scan: (string | Buffer)[] = ['SCAN', cursor, 'COUNT', String(opts.scanCount)];
      if (opts.match !== undefined) scan.push('MATCH', opts.match);
      const replies = await conn.sendBatch(target.features.select ? [['SELECT', String(tdb)], scan] : [scan]);
      const reply = ok(replies[replies.length - 1], 'SCAN', target) as RespValue[];
      cursor = text(reply[0]);
      const keys = (reply[1] as RespValue[]).map((k) => (Buffer.isBuffer(k) ? k : Buffer.from(String(k))));
      opts.stats.targetScanned += keys.length;
      if (inflight.length >= PAGES_IN_FLIGHT) await inflight.shift();
      if (keys.length === 0) continue;
      const page = lookUp(opts, tdb, sdbs, keys, onDifference);
      page.catch(() => {}); // awaited in order; not unhandled meanwhile
      inflight.push(page);
    } while (cursor !== '0');
    for (const page of inflight) await page;
  }
}

/** One page of target keys: which of them no source db that maps there holds. */
async function lookUp(
  opts: ExtraScanOptions,
  tdb: number,
  sdbs: number[],
  page: Buffer[],
  onDifference: (d: Difference) => void,
): Promise<void> {
  let keys = page;
  if (opts.types && opts.types.length > 0) {
    const types = await opts.target.perKey(tdb, keys, (k) => [['TYPE', k]]);
    const wanted = new Set<string>(opts.types);
    keys = keys.filter((_, i) => wanted.has(text(types[i]![0])));
  }
  let left = keys;
  const firstDb = new Map<Buffer, number>();
  for (const sdb of sdbs) {
    if (left.length === 0) break;
    const candidates = opts.nameFilter ? left.filter((k) => opts.nameFilter!(sdb, k)) : left;
    if (candidates.length === 0) continue;
    for (const k of candidates) if (!firstDb.has(k)) firstDb.set(k, sdb);
    const found = await opts.has(sdb, candidates);
    const there = new Set(candidates.filter((_, i) => found[i]));
    left = left.filter((k) => !there.has(k));
  }
  for (const k of left) {
    const sdb = firstDb.get(k);
    if (sdb === undefined) continue;
    opts.stats.differing('extra');
    onDifference({ db: sdb, key: k, problem: 'extra', detail: sdb === tdb ? {} : { targetDb: tdb } });
  }
}

/**
 * Keys per target db, summed over the masters (INFO keyspace). The shortcut of the extra-keys scan: when a target
 * db that one source db maps to holds, before and after the first pass, exactly as many keys as the pass found
 * there (distinct source keys present on the target), no key of it can be extra and its scan is skipped. A key
 * the target has expired but not yet removed, or any write during the check, makes the counts differ: then the
 * db is scanned. Not used with key or type filters (the target may hold keys the check does not look at).
 */
export async function targetKeyCounts(target: CheckSide): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const node of target.server.masters()) {
    const [r] = await node.conns[0]!.sendBatch([['INFO', 'keyspace']]);
    if (r instanceof Error) throw new CheckError(`INFO keyspace on the ${target.name} failed: ${r.message}`);
    for (const [k, v] of parseInfo(text(r))) {
      const db = /^db(\d+)$/.exec(k);
      const keys = /(?:^|,)keys=(\d+)/.exec(v);
      if (db && keys) counts.set(Number(db[1]), (counts.get(Number(db[1])) ?? 0) + Number(keys[1]));
    }
  }
  return counts;
}

async function keyspaceDbs(
  side: CheckSide,
  conn: { sendBatch(a: (string | Buffer)[][]): Promise<RespValue[]> },
): Promise<number[]> {
  const [r] = await conn.sendBatch([['INFO', 'keyspace']]);
  if (r instanceof Error) throw new CheckError(`INFO keyspace on the ${side.name} failed: ${r.message}`);
  const dbs: number[] = [];
  for (const k of parseInfo(text(r)).keys()) {
    const m = /^db(\d+)$/.exec(k);
    if (m) dbs.push(Number(m[1]));
  }
  return dbs.sort((a, b) => a - b);
}

/** EXISTS on a live source. */
export function liveLookup(source: CheckSide): SourceLookup {
  return async (db, keys) => {
    const replies = await source.perKey(db, keys, (k) => [['EXISTS', k]]);
    return replies.map((r) => Number(ok(r[0], 'EXISTS', source)) === 1);
  };
}
