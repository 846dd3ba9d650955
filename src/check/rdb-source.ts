/**
 * An RDB file as the source (check a restore against its input): the file is parsed once (@shake/rdb),
 * keys gathered in pages; each page is checked against the target with one pipelined round of expiry +
 * DUMP there. The file's serialized value (captured by the parser) equal to the target's DUMP body is an
 * equal value; otherwise both are compared as values (values.ts). A key's value is held whole while its
 * page is checked (pages are cut at `batchBytes`). Function records are the source's libraries; the keys'
 * hashes are kept (key-set.ts) for the extra-keys scan. The file is not live: no re-check rounds apply to it.
 */
import { createReadStream } from 'node:fs';
import { parseDumpPayload, RdbParser, type KeyHeader, type RdbEvent, type RedisType } from '@shake/rdb';
import { RespServerError, type RespValue } from '@shake/resp';
import type { DbMapper } from '../sinks/redis/db-map.js';
import type { SourceLookup } from './extra.js';
import { libraryNameOf } from './functions.js';
import { compareTtl, type KeyCheckContext } from './key-check.js';
import { KeyHashSet } from './key-set.js';
import type { Difference, Finding } from './problems.js';
import { CheckError, int, type CheckSide } from './side.js';
import { addValueEvent, compareValues, emptyValue, valueOfEvents, type KeyValue } from './values.js';

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

interface FileKey {
  header: KeyHeader;
  value: KeyValue;
  raw: Buffer | undefined;
  bytes: number;
}

const PAGE_KEYS = 1000;

export async function checkRdbFile(opts: RdbCheckOptions, collect: (d: Difference) => void): Promise<RdbCheckResult> {
  // The source side is only used for its name and features in messages and TTL rules: the file's expiries are absolute.
  const ctx = opts.ctxOf(opts.target);
  const fileCtx: KeyCheckContext = { ...ctx, source: opts.target };
  const parser = new RdbParser({ captureRawLimit: ctx.bigKeyThreshold });
  const keys = new KeyHashSet();
  const dbs = new Set<number>();
  const libraries = new Map<string, Buffer>();
  const types = opts.filters.types && opts.filters.types.length > 0 ? new Set<string>(opts.filters.types) : null;
  const wantDbs = opts.filters.dbs && opts.filters.dbs.length > 0 ? new Set(opts.filters.dbs) : null;
  let page: FileKey[] = [];
  let pageBytes = 0;
  let current: FileKey | null = null;
  let rdbVersion = 0;
  const flush = async (): Promise<void> => {
    if (page.length === 0) return;
    const p = page;
    page = [];
    pageBytes = 0;
    await checkPage(fileCtx, opts.mapper, p, rdbVersion, collect);
  };
  const onEvent = (e: RdbEvent): void => {
    switch (e.kind) {
      case 'header':
        rdbVersion = e.version;
        return;
      case 'function':
        libraries.set(libraryNameOf(e.code), e.code);
        return;
      case 'key-start': {
        const h = e.header;
        const wanted =
          (!wantDbs || wantDbs.has(h.db)) && (!types || types.has(h.type)) && (!opts.names || opts.names(h.db, h.key));
        current = wanted ? { header: h, value: emptyValue(h.type), raw: undefined, bytes: h.key.length } : null;
        return;
      }
      case 'key-end':
        if (current) {
          current.raw = e.raw;
          keys.add(current.header.db, current.header.key);
          dbs.add(current.header.db);
          page.push(current);
          pageBytes += current.bytes;
          current = null;
        }
        return;
      default:
        if (current) {
          addValueEvent(current.value, e);
          current.bytes += approxBytes(e);
        }
    }
  };
  const input = createReadStream(opts.file, { highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (opts.signal?.aborted) break;
      for (const e of parser.push(chunk)) onEvent(e);
      if (page.length >= PAGE_KEYS || pageBytes >= ctx.batchBytes) await flush();
    }
    if (!opts.signal?.aborted) for (const e of parser.done ? [] : parser.end()) onEvent(e);
    await flush();
  } catch (err) {
    if (err instanceof CheckError) throw err;
    throw new CheckError(`${opts.file}: ${(err as Error).message}`);
  } finally {
    input.destroy();
  }
  return {
    dbs: [...dbs].sort((a, b) => a - b),
    lookup: async (db, ks) => ks.map((k) => keys.has(db, k)),
    libraries,
  };
}

function approxBytes(e: RdbEvent): number {
  switch (e.kind) {
    case 'string':
      return e.value.length;
    case 'list-items':
      return e.items.reduce((n, x) => n + x.length + 16, 0);
    case 'set-members':
      return e.members.reduce((n, x) => n + x.length + 16, 0);
    case 'hash-entries':
      return e.entries.reduce((n, x) => n + x.field.length + x.value.length + 32, 0);
    case 'zset-entries':
      return e.entries.reduce((n, x) => n + x.member.length + 24, 0);
    case 'stream-entries':
      return e.entries.reduce((n, x) => n + x.fields.reduce((m, [f, v]) => m + f.length + v.length + 16, 32), 0);
    default:
      return 64;
  }
}

async function checkPage(
  ctx: KeyCheckContext,
  mapper: DbMapper,
  page: FileKey[],
  rdbVersion: number,
  collect: (d: Difference) => void,
): Promise<void> {
  const { target, stats } = ctx;
  const byDb = new Map<number, FileKey[]>();
  for (const k of page) {
    let list = byDb.get(k.header.db);
    if (!list) byDb.set(k.header.db, (list = []));
    list.push(k);
  }
  const now = Date.now();
  for (const [db, all] of byDb) {
    const tdb = mapper.map(db);
    // A key already expired in the file is not loaded by a restore: not expected on the target.
    const keys = all.filter((k) => k.header.expireAtMs === null || k.header.expireAtMs > now);
    stats.vanished += all.length - keys.length;
    const expiry = target.absoluteTtl ? 'PEXPIRETIME' : 'PTTL';
    const replies = await target.perKey(
      tdb,
      keys.map((k) => k.header.key),
      (k) => [
        [expiry, k],
        ['DUMP', k],
      ],
    );
    keys.forEach((k, i) => {
      stats.compared++;
      const [ttl, dump] = replies[i]!;
      if (int(ttl) !== -2 && Buffer.isBuffer(dump)) stats.present.set(tdb, (stats.present.get(tdb) ?? 0) + 1);
      const finding = compareOne(ctx, k, ttl, dump, now, rdbVersion);
      if (finding) {
        stats.differing(finding.problem);
        collect({ db, key: k.header.key, problem: finding.problem, detail: finding.detail });
      } else stats.equal++;
    });
  }
}

function compareOne(
  ctx: KeyCheckContext,
  k: FileKey,
  ttlReply: RespValue | undefined,
  dump: RespValue | undefined,
  now: number,
  _rdbVersion: number,
): Finding | null {
  if (ttlReply instanceof RespServerError) throw new CheckError(`expiry on the target failed: ${ttlReply.message}`);
  if (dump instanceof RespServerError) throw new CheckError(`DUMP on the target failed: ${dump.message}`);
  const ttl = int(ttlReply);
  if (ttl === -2 || !Buffer.isBuffer(dump)) return { problem: 'missing', detail: {} };
  const h = k.header;
  ctx.stats.bytesRead += dump.length;
  const body = dump.subarray(1, dump.length - 10);
  let finding: Finding | null = null;
  if (k.raw && dump[0] === h.rdbType && body.equals(k.raw)) {
    ctx.stats.payloadEqual++;
  } else {
    let parsed: KeyValue;
    try {
      parsed = valueOfEvents(parseDumpPayload(dump).events);
    } catch (err) {
      throw new CheckError(`DUMP of ${h.key.toString('latin1')} on the target: ${(err as Error).message}`);
    }
    if (parsed.type !== h.type) return { problem: 'type', detail: { source: h.type, target: parsed.type } };
    finding = compareValues(k.value, parsed, { targetFieldTtl: ctx.target.features.hashFieldTtl });
  }
  if (finding) return finding;
  const tgtExpire = ttl === -1 ? null : ctx.target.absoluteTtl ? ttl : now + ttl;
  // The file's expiry is absolute: exact against PEXPIRETIME, within the tolerance against PTTL.
  return compareTtl({ ...ctx, source: ctx.target }, h.expireAtMs, tgtExpire);
}
