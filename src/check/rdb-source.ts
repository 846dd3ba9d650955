/**
 * An RDB file as the source (check a restore against its input): the file read once through the snapshot check
 * (snapshot-source.ts: values not decoded, each key's serialized bytes against the target's DUMP). A key above
 * the big-key threshold is read again from the file, alone (its record from its offset, after the file's header),
 * decoded and compared as a value with the target's. Function records are the source's libraries; the keys'
 * hashes are kept (key-set.ts) for the extra-keys scan. The file is not live: no re-check rounds apply to it.
 */
import { createReadStream } from 'node:fs';
import { RdbParser, type RedisType } from '@shake/rdb';
import { RespServerError } from '@shake/resp';
import type { DbMapper } from '../sinks/redis/db-map.js';
import type { SourceLookup } from './extra.js';
import type { KeyCheckContext } from './key-check.js';
import { KeyHashSet } from '../core/key-hash-set.js';
import type { Difference } from './problems.js';
import { CheckError, type CheckSide } from './side.js';
import { checkSnapshot, compareWithDump, type BigResult, type RdbInfo, type SnapshotKey } from './snapshot-source.js';
import { addValueEvent, emptyValue, type KeyValue } from './values.js';

export interface RdbCheckOptions {
  file: string;
  ctxOf: (source: CheckSide) => KeyCheckContext;
  target: CheckSide;
  mapper: DbMapper;
  filters: { dbs?: number[]; types?: RedisType[] };
  names: ((db: number, key: Buffer) => boolean) | null;
  signal?: AbortSignal;
}

export interface RdbCheckResult {
  dbs: number[];
  lookup: SourceLookup;
  libraries: Map<string, Buffer>;
}

export async function checkRdbFile(opts: RdbCheckOptions, collect: (d: Difference) => void): Promise<RdbCheckResult> {
  // The source side is only used for its name and features in messages and TTL rules: the file's expiries are absolute.
  const ctx = opts.ctxOf(opts.target);
  const fileCtx: KeyCheckContext = { ...ctx, source: opts.target };
  const keys = new KeyHashSet();
  const input = createReadStream(opts.file, { highWaterMark: 64 * 1024 });
  try {
    const res = await checkSnapshot(
      {
        chunks: input as AsyncIterable<Buffer>,
        name: opts.file,
        ctx: fileCtx,
        mapper: opts.mapper,
        filters: opts.filters,
        names: opts.names,
        bigKey: (k, tdb, rdb) => compareFileKey(fileCtx, opts.file, k, tdb, rdb),
        onKey: (db, key) => keys.add(db, key),
        signal: opts.signal,
      },
      collect,
    );
    return { dbs: res.dbs, lookup: async (db, ks) => ks.map((k) => keys.has(db, k)), libraries: res.libraries };
  } finally {
    input.destroy();
  }
}

/**
 * A big key of the file: its record read again (from its offset, behind the file's own header so the parser
 * knows the version), its value decoded, and the target's DUMP compared as a value. Both values are in memory
 * while compared (one big key at a time).
 */
async function compareFileKey(
  ctx: KeyCheckContext,
  file: string,
  k: SnapshotKey,
  tgtDb: number,
  rdb: RdbInfo,
): Promise<BigResult> {
  const h = k.header;
  const source = await readFileValue(file, h.offset, rdb, h.type);
  const [dump] = await ctx.target.forKey(tgtDb, h.key, [['DUMP', h.key]]);
  if (dump instanceof RespServerError) throw new CheckError(`DUMP on the target failed: ${dump.message}`);
  if (!Buffer.isBuffer(dump)) return { problem: 'missing', detail: {} };
  ctx.stats.bytesRead += dump.length;
  return compareWithDump(ctx, h.key, source, dump);
}

async function readFileValue(file: string, offset: number, rdb: RdbInfo, type: RedisType): Promise<KeyValue> {
  const parser = new RdbParser({ verifyChecksum: false });
  const digits = rdb.magic === 'VALKEY' ? 3 : 4;
  parser.push(Buffer.from(`${rdb.magic}${String(rdb.version).padStart(digits, '0')}`, 'latin1'));
  const value = emptyValue(type);
  const input = createReadStream(file, { start: offset, highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      for (const e of parser.push(chunk)) {
        if (e.kind === 'key-end') return value;
        addValueEvent(value, e);
      }
    }
  } finally {
    input.destroy();
  }
  throw new CheckError(`${file}: the key at offset ${offset} ends past the end of the file`);
}
