/**
 * The check of one page of keys of one db, both sides read pipelined:
 *  1. expiry (PEXPIRETIME on 7.0+, else PTTL) and MEMORY USAGE of every key, on both sides;
 *  2. keys on one side only: missing (or extra, on a re-check), or vanished from the source meanwhile;
 *  3. keys under the big-key threshold on both sides: DUMP on both. Equal serialized values (type byte and
 *     body; the RDB version and CRC trailer aside) are equal values; different ones are parsed (@shake/rdb)
 *     and compared as values (values.ts), so an encoding change is not a difference;
 *  4. bigger keys: compared in bounded chunks (chunks.ts), one key at a time;
 *  5. the expiry: exact where both sides give absolute times, within a tolerance where one gives only PTTL.
 * One Difference per key: the first of type, value, field TTLs, TTL that differs. Resolves with the bytes of
 * the source's DUMP payloads read (for the bytes/s rate limit).
 */
import { parseDumpPayload } from '@shake/rdb';
import { RespServerError, type RespValue } from '@shake/resp';
import type { Argv } from '../rewrite/key-rewriter.js';
import { compareBig } from './chunks.js';
import type { Difference, Finding } from './problems.js';
import { CheckError, int, type CheckSide } from './side.js';
import type { CheckStats } from './stats.js';
import { compareValues, valueOfEvents } from './values.js';

export interface KeyCheckContext {
  source: CheckSide;
  target: CheckSide;
  /** Keys whose MEMORY USAGE is above this on either side are compared in chunks (bytes). */
  bigKeyThreshold: number;
  /** DUMP bytes (both sides) per pipelined batch, at most. */
  batchBytes: number;
  /** Elements (or string bytes / 1024) per chunk of a big key. */
  chunk: number;
  /** Where one side gives only a relative TTL: expiries this close are equal (ms). */
  ttlToleranceMs: number;
  stats: CheckStats;
  onNotice?: (message: string) => void;
}

export interface KeyCheckOptions {
  /**
   * A key the source does not have: 'vanished' (first pass: it was deleted after SCAN), 'recheck' (extra if the
   * target has it, else equal) or 'extra' (a key the target's snapshot held: extra if the target still has it).
   */
  sourceAbsent: 'vanished' | 'recheck' | 'extra';
}

const DUMP_TRAILER = 10;

interface Pending {
  key: Buffer;
  srcExpire: number | null;
  tgtExpire: number | null;
  big: boolean;
  /** MEMORY USAGE, the larger of both sides (0 when unknown). */
  bytes: number;
}

function expiryArgv(side: CheckSide, key: Buffer): Argv {
  return [side.absoluteTtl ? 'PEXPIRETIME' : 'PTTL', key];
}

function headArgvs(side: CheckSide): (key: Buffer) => Argv[] {
  return (key) => (side.memoryUsage ? [expiryArgv(side, key), ['MEMORY', 'USAGE', key]] : [expiryArgv(side, key)]);
}

/** Absolute expiry (ms) from a PEXPIRETIME / PTTL reply; null: none; undefined: no such key. */
function absolute(side: CheckSide, reply: RespValue | undefined, now: number, what: Buffer): number | null | undefined {
  if (reply instanceof RespServerError)
    throw new CheckError(`expiry of a key on the ${side.name} failed: ${reply.message}`);
  const n = int(reply);
  if (Number.isNaN(n))
    throw new CheckError(`expiry of ${what.toString('latin1')} on the ${side.name}: unexpected reply`);
  if (n === -2) return undefined;
  if (n === -1) return null;
  return side.absoluteTtl ? n : now + n;
}

function memoryOf(side: CheckSide, reply: RespValue | undefined, notice?: (m: string) => void): number {
  if (reply === undefined) return 0;
  if (reply instanceof RespServerError) {
    if (side.memoryUsage) {
      side.memoryUsage = false;
      notice?.(
        `MEMORY USAGE refused on the ${side.name} (${reply.message}): every key is compared through DUMP, whatever its size`,
      );
    }
    return 0;
  }
  return int(reply) || 0;
}

export async function checkKeys(
  ctx: KeyCheckContext,
  srcDb: number,
  tgtDb: number,
  keys: readonly Buffer[],
  opts: KeyCheckOptions,
  onDifference: (d: Difference) => void,
): Promise<number> {
  const { source, target, stats } = ctx;
  const [srcHead, tgtHead] = await Promise.all([
    source.perKey(srcDb, keys, headArgvs(source)),
    target.perKey(tgtDb, keys, headArgvs(target)),
  ]);
  const now = Date.now();
  const diff = (key: Buffer, f: Finding): void => {
    stats.differing(f.problem);
    onDifference({ db: srcDb, key, problem: f.problem, detail: f.detail });
  };
  const pending: Pending[] = [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const s = srcHead[i]!;
    const t = tgtHead[i]!;
    const srcExpire = absolute(source, s[0], now, key);
    const tgtExpire = absolute(target, t[0], now, key);
    if (srcExpire === undefined) {
      if (opts.sourceAbsent === 'vanished') stats.vanished++;
      else if (tgtExpire !== undefined)
        diff(key, { problem: 'extra', detail: srcDb === tgtDb ? {} : { targetDb: tgtDb } });
      else if (opts.sourceAbsent === 'recheck') stats.equal++;
      continue;
    }
    stats.compared++;
    if (tgtExpire === undefined) {
      diff(key, { problem: 'missing', detail: {} });
      continue;
    }
    if (opts.sourceAbsent === 'vanished') stats.present.set(tgtDb, (stats.present.get(tgtDb) ?? 0) + 1);
    const bytes = Math.max(memoryOf(source, s[1], ctx.onNotice), memoryOf(target, t[1], ctx.onNotice));
    pending.push({ key, srcExpire, tgtExpire, big: bytes > ctx.bigKeyThreshold, bytes });
  }
  const small = pending.filter((p) => !p.big);
  const findings = new Map<Pending, Finding | null | 'vanished'>();
  let sourceBytes = 0;
  for (const batch of byBytes(small, ctx.batchBytes)) {
    const ks = batch.map((p) => p.key);
    const [srcDump, tgtDump] = await Promise.all([
      source.perKey(srcDb, ks, (k) => [['DUMP', k]]),
      target.perKey(tgtDb, ks, (k) => [['DUMP', k]]),
    ]);
    batch.forEach((p, j) => {
      const payload = srcDump[j]![0];
      if (Buffer.isBuffer(payload)) sourceBytes += payload.length;
      findings.set(p, compareDumps(ctx, payload, tgtDump[j]![0], p.key));
    });
  }
  for (const p of pending) {
    if (!p.big) continue;
    stats.bigKeys++;
    findings.set(p, await compareBig(ctx, srcDb, tgtDb, p.key));
  }
  for (const p of pending) {
    const f = findings.get(p);
    if (f === 'vanished') {
      stats.compared--;
      stats.vanished++;
      continue;
    }
    const found = f ?? compareTtl(ctx, p.srcExpire, p.tgtExpire);
    if (found) diff(p.key, found);
    else stats.equal++;
  }
  return sourceBytes;
}

/** Runs of keys whose DUMPs (by MEMORY USAGE, both sides) stay under `limit` bytes, in order. */
function* byBytes(items: Pending[], limit: number): Generator<Pending[]> {
  let batch: Pending[] = [];
  let bytes = 0;
  for (const p of items) {
    if (batch.length > 0 && bytes + 2 * p.bytes > limit) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(p);
    bytes += 2 * p.bytes;
  }
  if (batch.length > 0) yield batch;
}

function compareDumps(
  ctx: KeyCheckContext,
  src: RespValue | undefined,
  tgt: RespValue | undefined,
  key: Buffer,
): Finding | null | 'vanished' {
  if (src instanceof RespServerError) throw new CheckError(`DUMP on the source failed: ${src.message}`);
  if (tgt instanceof RespServerError) throw new CheckError(`DUMP on the target failed: ${tgt.message}`);
  if (src === null || src === undefined) return 'vanished';
  if (tgt === null || tgt === undefined) return { problem: 'missing', detail: {} };
  if (!Buffer.isBuffer(src) || !Buffer.isBuffer(tgt)) throw new CheckError('DUMP: unexpected reply');
  ctx.stats.bytesRead += src.length + tgt.length;
  if (
    src.length === tgt.length &&
    src.subarray(0, src.length - DUMP_TRAILER).equals(tgt.subarray(0, tgt.length - DUMP_TRAILER))
  ) {
    ctx.stats.payloadEqual++;
    return null;
  }
  const a = valueOfEvents(parsePayload(src, key, 'source').events);
  const b = valueOfEvents(parsePayload(tgt, key, 'target').events);
  if (a.type !== b.type) return { problem: 'type', detail: { source: a.type, target: b.type } };
  return compareValues(a, b, { targetFieldTtl: ctx.target.features.hashFieldTtl });
}

function parsePayload(payload: Buffer, key: Buffer, side: string): ReturnType<typeof parseDumpPayload> {
  try {
    // A live server's payload: its CRC is not checked again (the value is parsed, a bad one throws).
    return parseDumpPayload(payload, { verifyChecksum: false });
  } catch (err) {
    throw new CheckError(`DUMP of ${key.toString('latin1')} on the ${side}: ${(err as Error).message}`);
  }
}

export function compareTtl(ctx: KeyCheckContext, s: number | null, t: number | null): Finding | null {
  if (s === t) return null;
  if (s === null) return { problem: 'ttl', detail: { change: 'added', source: null, target: t } };
  if (t === null) return { problem: 'ttl', detail: { change: 'removed', source: s, target: null } };
  const exact = ctx.source.absoluteTtl && ctx.target.absoluteTtl;
  if (!exact && Math.abs(s - t) <= ctx.ttlToleranceMs) return null;
  return {
    problem: 'ttl',
    detail: { change: 'moved', source: s, target: t, ...(exact ? {} : { toleranceMs: ctx.ttlToleranceMs }) },
  };
}
