/**
 * Keys above the big-key threshold, compared without either value in memory: both sides read in chunks of
 * `chunk` elements (strings: chunk KiB), pipelined per chunk.
 * - string, list, zset: positional (GETRANGE, LRANGE, ZRANGE .. WITHSCORES: a zset's order is by score then
 *   member on every server, so equal zsets give equal ranges);
 * - set, hash: the source scanned (SSCAN/HSCAN), each chunk looked up on the target (SISMEMBER/HMGET), then
 *   the cardinalities: every source member on the target and as many members on both means equal sets;
 *   when only the counts differ, the target is scanned for a member the source lacks (to name it);
 *   hash field expiries (7.4+) with HPEXPIRETIME on the chunk's fields;
 * - stream: entries positional (XRANGE pages), then XINFO STREAM (length, last id, max deleted id, entries
 *   added) and the groups (XINFO GROUPS / CONSUMERS, XPENDING pages: a group's pending list is held whole).
 */
import type { HashEntry, RedisType, StreamGroup, StreamId, StreamMeta } from '@shake/rdb';
import type { RespValue } from '@shake/resp';
import type { Argv } from '../rewrite/key-rewriter.js';
import { parseScore } from '../rewrite/score.js';
import type { KeyCheckContext } from './key-check.js';
import type { Finding } from './problems.js';
import { CheckError, int, ok, type CheckSide } from './side.js';
import {
  compareBytes,
  compareEntries,
  compareFieldTtls,
  compareGroups,
  compareSequence,
  compareStreamMeta,
  value,
} from './values.js';

type Result = Finding | null | 'vanished';

interface Pair {
  ctx: KeyCheckContext;
  srcDb: number;
  tgtDb: number;
  key: Buffer;
}

/** The same command (`argv(key)`) on both sides; replies checked for errors. */
async function both(p: Pair, argv: Argv): Promise<[RespValue, RespValue]> {
  const [s, t] = await Promise.all([
    p.ctx.source.forKey(p.srcDb, p.key, [argv]),
    p.ctx.target.forKey(p.tgtDb, p.key, [argv]),
  ]);
  const what = String(argv[0]);
  return [ok(s[0], what, p.ctx.source), ok(t[0], what, p.ctx.target)];
}

function text(r: RespValue): string {
  return Buffer.isBuffer(r) ? r.toString('latin1') : String(r);
}

function bufs(r: RespValue): Buffer[] {
  if (!Array.isArray(r)) return [];
  return (r as RespValue[]).map((x) => (Buffer.isBuffer(x) ? x : Buffer.from(String(x))));
}

export async function compareBig(ctx: KeyCheckContext, srcDb: number, tgtDb: number, key: Buffer): Promise<Result> {
  const p: Pair = { ctx, srcDb, tgtDb, key };
  const [st, tt] = await both(p, ['TYPE', key]);
  const s = text(st);
  const t = text(tt);
  if (s === 'none') return 'vanished';
  if (t === 'none') return { problem: 'missing', detail: {} };
  if (s !== t) return { problem: 'type', detail: { source: s, target: t } };
  switch (s as RedisType) {
    case 'string':
      return compareString(p);
    case 'list':
      return compareList(p);
    case 'zset':
      return compareZset(p);
    case 'set':
      return compareScanned(p, 'set');
    case 'hash':
      return compareScanned(p, 'hash');
    case 'stream':
      return compareStream(p);
    default:
      return compareModule(p);
  }
}

async function lengths(p: Pair, cmd: string): Promise<[number, number]> {
  const [a, b] = await both(p, [cmd, p.key]);
  return [int(a), int(b)];
}

async function compareString(p: Pair): Promise<Result> {
  const [a, b] = await lengths(p, 'STRLEN');
  if (a !== b) return value({ what: 'length', source: a, target: b });
  const step = p.ctx.chunk * 1024;
  for (let at = 0; at < a; at += step) {
    const [x, y] = await both(p, ['GETRANGE', p.key, String(at), String(Math.min(a, at + step) - 1)]);
    p.ctx.stats.bytesRead += 2 * Math.min(step, a - at);
    const f = compareBytes(x as Buffer, y as Buffer, at);
    if (f) return f;
  }
  return null;
}

async function compareList(p: Pair): Promise<Result> {
  const [a, b] = await lengths(p, 'LLEN');
  if (a !== b) return value({ what: 'length', source: a, target: b });
  for (let at = 0; at < a; at += p.ctx.chunk) {
    const [x, y] = await both(p, ['LRANGE', p.key, String(at), String(at + p.ctx.chunk - 1)]);
    const f = compareSequence(bufs(x), bufs(y), at);
    if (f) return f;
  }
  return null;
}

async function compareZset(p: Pair): Promise<Result> {
  const [a, b] = await lengths(p, 'ZCARD');
  for (let at = 0; at < Math.max(a, b); at += p.ctx.chunk) {
    const [x, y] = await both(p, ['ZRANGE', p.key, String(at), String(at + p.ctx.chunk - 1), 'WITHSCORES']);
    const xs = bufs(x);
    const ys = bufs(y);
    for (let i = 0; i < Math.max(xs.length, ys.length); i += 2) {
      const m = xs[i];
      const n = ys[i];
      if (m && n && m.equals(n) && Object.is(parseScore(text(xs[i + 1]!)), parseScore(text(ys[i + 1]!)))) continue;
      if (!m) return value({ what: 'member', member: n!, source: null, target: parseScore(text(ys[i + 1]!)) });
      // Name the source member at this position and where the target has it.
      const [, ts] = await both(p, ['ZSCORE', p.key, m]);
      const target = ts === null ? null : parseScore(text(ts));
      const source = parseScore(text(xs[i + 1]!));
      if (target === null) return value({ what: 'member', member: m, source, target: null });
      if (!Object.is(source, target)) return value({ what: 'score', member: m, source, target });
      return value({ what: 'member', member: n!, source: null, target: parseScore(text(ys[i + 1]!)) });
    }
  }
  return a === b ? null : value({ what: 'length', source: a, target: b });
}

/** Sets and hashes: scan one side, look each chunk up on the other. */
async function compareScanned(p: Pair, type: 'set' | 'hash'): Promise<Result> {
  const [a, b] = await lengths(p, type === 'set' ? 'SCARD' : 'HLEN');
  const missing = await scanAgainst(p, type, p.ctx.source, p.ctx.target, p.srcDb, p.tgtDb, 'source');
  if (missing) return missing;
  if (a === b) return null;
  const extra = await scanAgainst(p, type, p.ctx.target, p.ctx.source, p.tgtDb, p.srcDb, 'target');
  return extra ?? value({ what: 'length', source: a, target: b });
}

async function scanAgainst(
  p: Pair,
  type: 'set' | 'hash',
  from: CheckSide,
  other: CheckSide,
  fromDb: number,
  otherDb: number,
  fromName: 'source' | 'target',
): Promise<Finding | null> {
  const cmd = type === 'set' ? 'SSCAN' : 'HSCAN';
  let cursor = '0';
  const fieldTtls = fromName === 'source' && type === 'hash' && from.features.hashFieldTtl;
  do {
    const [r] = await from.forKey(fromDb, p.key, [[cmd, p.key, cursor, 'COUNT', String(p.ctx.chunk)]]);
    const reply = ok(r, cmd, from);
    if (!Array.isArray(reply) || reply.length !== 2) throw new CheckError(`${cmd}: unexpected reply`);
    cursor = text(reply[0] as RespValue);
    const items = bufs(reply[1] as RespValue);
    if (items.length === 0) continue;
    if (type === 'set') {
      const replies = await other.forKey(
        otherDb,
        p.key,
        items.map((m) => ['SISMEMBER', p.key, m]),
      );
      const i = replies.findIndex((x) => int(ok(x, 'SISMEMBER', other)) !== 1);
      if (i >= 0) {
        return value({
          what: 'member',
          member: items[i]!,
          source: fromName === 'source',
          target: fromName === 'target',
        });
      }
      continue;
    }
    const fields = items.filter((_, i) => i % 2 === 0);
    const [got] = await other.forKey(otherDb, p.key, [['HMGET', p.key, ...fields]]);
    const values = ok(got, 'HMGET', other) as RespValue[];
    for (let i = 0; i < fields.length; i++) {
      const mine = items[2 * i + 1]!;
      const theirs = values[i];
      if (!Buffer.isBuffer(theirs) || !theirs.equals(mine)) {
        const there = Buffer.isBuffer(theirs) ? theirs : null;
        return value({
          what: 'field',
          field: fields[i]!,
          source: fromName === 'source' ? mine : there,
          target: fromName === 'source' ? there : mine,
        });
      }
    }
    if (fieldTtls) {
      const f = await compareChunkFieldTtls(p, fields);
      if (f) return f;
    }
  } while (cursor !== '0');
  return null;
}

async function fieldExpiries(side: CheckSide, db: number, key: Buffer, fields: Buffer[]): Promise<number[]> {
  const [r] = await side.forKey(db, key, [['HPEXPIRETIME', key, 'FIELDS', String(fields.length), ...fields]]);
  return (ok(r, 'HPEXPIRETIME', side) as RespValue[]).map(int);
}

async function compareChunkFieldTtls(p: Pair, fields: Buffer[]): Promise<Finding | null> {
  const src = await fieldExpiries(p.ctx.source, p.srcDb, p.key, fields);
  const targetFieldTtl = p.ctx.target.features.hashFieldTtl;
  const tgt = targetFieldTtl ? await fieldExpiries(p.ctx.target, p.tgtDb, p.key, fields) : [];
  const toEntry = (f: Buffer, t: number | undefined): HashEntry => ({
    field: f,
    value: Buffer.alloc(0),
    expireAtMs: t === undefined || t < 0 ? null : t,
  });
  const t = new Map(fields.map((f, i) => [f.toString('latin1'), toEntry(f, tgt[i])]));
  return compareFieldTtls(
    fields.map((f, i) => toEntry(f, src[i])),
    t,
    { targetFieldTtl },
  );
}

function parseId(s: string): StreamId {
  const [ms = '0', seq = '0'] = s.split('-');
  return { ms: BigInt(ms), seq: BigInt(seq) };
}

/** A flat [name, value, ...] reply (XINFO) as a map of names to values. */
function fields(r: RespValue): Map<string, RespValue> {
  const m = new Map<string, RespValue>();
  if (!Array.isArray(r)) return m;
  for (let i = 0; i + 1 < r.length; i += 2) m.set(text(r[i] as RespValue), r[i + 1] as RespValue);
  return m;
}

function optId(r: RespValue | undefined): StreamId | null {
  return r === undefined || r === null ? null : parseId(text(r));
}

function entriesOf(r: RespValue): { id: StreamId; fields: [Buffer, Buffer][] }[] {
  if (!Array.isArray(r)) return [];
  return (r as RespValue[]).map((e) => {
    const [id, kv] = e as RespValue[];
    const flat = bufs(kv ?? []);
    const pairs: [Buffer, Buffer][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
    return { id: parseId(text(id!)), fields: pairs };
  });
}

async function compareStream(p: Pair): Promise<Result> {
  let start = '-';
  let index = 0;
  for (;;) {
    const [x, y] = await both(p, ['XRANGE', p.key, start, '+', 'COUNT', String(p.ctx.chunk + 1)]);
    let xs = entriesOf(x);
    let ys = entriesOf(y);
    if (start !== '-') {
      xs = xs.slice(1);
      ys = ys.slice(1);
    }
    const f = compareEntries(xs, ys, index);
    if (f) return f;
    if (xs.length === 0) break;
    index += xs.length;
    const last = xs[xs.length - 1]!.id;
    start = `${last.ms}-${last.seq}`;
  }
  const [si, ti] = await both(p, ['XINFO', 'STREAM', p.key]);
  const meta = compareStreamMeta(streamMeta(si), streamMeta(ti));
  if (meta) return meta;
  const [sg, tg] = await Promise.all([groupsOf(p, p.ctx.source, p.srcDb), groupsOf(p, p.ctx.target, p.tgtDb)]);
  return compareGroups(sg, tg);
}

function streamMeta(r: RespValue): StreamMeta {
  const m = fields(r);
  const added = m.get('entries-added');
  return {
    length: int(m.get('length')),
    lastId: parseId(text(m.get('last-generated-id') ?? '0-0')),
    firstId: null,
    maxDeletedEntryId: optId(m.get('max-deleted-entry-id')),
    entriesAdded: added === undefined ? null : int(added),
  };
}

async function groupsOf(p: Pair, side: CheckSide, db: number): Promise<StreamGroup[]> {
  const [r] = await side.forKey(db, p.key, [['XINFO', 'GROUPS', p.key]]);
  const groups: StreamGroup[] = [];
  for (const g of (ok(r, 'XINFO GROUPS', side) as RespValue[]) ?? []) {
    const m = fields(g);
    const name = m.get('name') as Buffer;
    const read = m.get('entries-read');
    const [cr] = await side.forKey(db, p.key, [['XINFO', 'CONSUMERS', p.key, name]]);
    const consumers = (ok(cr, 'XINFO CONSUMERS', side) as RespValue[]).map((c) => {
      const cm = fields(c);
      return {
        name: cm.get('name') as Buffer,
        seenTimeMs: 0,
        activeTimeMs: null,
        pel: new Array<StreamId>(int(cm.get('pending'))).fill({ ms: 0n, seq: 0n }),
      };
    });
    const pel: StreamGroup['pel'] = [];
    let start = '-';
    for (;;) {
      const [pr] = await side.forKey(db, p.key, [['XPENDING', p.key, name, start, '+', String(p.ctx.chunk + 1)]]);
      let rows = ok(pr, 'XPENDING', side) as RespValue[][];
      if (start !== '-') rows = rows.slice(1);
      if (rows.length === 0) break;
      for (const row of rows) {
        pel.push({
          id: parseId(text(row[0]!)),
          consumer: row[1] as Buffer,
          deliveryTimeMs: 0,
          deliveryCount: int(row[3]),
        });
      }
      start = text(rows[rows.length - 1]![0]!);
    }
    groups.push({
      name,
      lastId: parseId(text(m.get('last-delivered-id') ?? '0-0')),
      entriesRead: read === undefined || read === null ? null : int(read),
      pel,
      consumers,
    });
  }
  return groups;
}

async function compareModule(p: Pair): Promise<Result> {
  const [x, y] = await both(p, ['DUMP', p.key]);
  if (x === null) return 'vanished';
  if (y === null) return { problem: 'missing', detail: {} };
  const a = x as Buffer;
  const b = y as Buffer;
  return a.subarray(0, a.length - 10).equals(b.subarray(0, b.length - 10))
    ? null
    : value({ what: 'module value', detail: 'the serialized module values differ' });
}
