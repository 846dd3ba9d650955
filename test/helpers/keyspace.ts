/**
 * Read a live server back into the fixtures' record format (shared/fixtures/README.md), the same way the
 * fixture generator did: SCAN (never KEYS), TYPE, OBJECT ENCODING, PEXPIRETIME (7.0+; else now+PTTL marked
 * expire_approx), then one read per type. All byte strings base64, records sorted by db then key bytes.
 * Works against servers that rename CONFIG/KEYS/... away (ElastiCache mimic): it needs only INFO, COMMAND
 * INFO, SELECT, SCAN and the read commands.
 */
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import type { RedisCluster } from '../harness/cluster.js';
import { asArray, asBuffer, asInt, asText } from '../harness/keyspace/reply.js';
import { readStream } from '../harness/keyspace/stream.js';
import { rawCaller, serverNow, type RawCall } from '../harness/keyspace/raw-call.js';
import type { KeyRecord, RecordValue } from './records.js';

export interface ServerAddress {
  host: string;
  port: number;
  password?: string;
  username?: string;
  tls?: RedisOptions['tls'];
}

export interface ReadKeyspaceOptions {
  /** Databases to read (default: every db INFO keyspace lists). */
  dbs?: number[];
  /** Keys read concurrently (pipelined on the one connection). */
  concurrency?: number;
  /**
   * Pretend the server lacks a feature, to exercise the older servers' paths on a new one:
   * `pexpiretime: false` => now+PTTL (expire_approx), `xinfoFull: false` => the 5.0 stream reads.
   */
  features?: Partial<Pick<Features, 'pexpiretime' | 'xinfoFull' | 'hpexpiretime'>>;
}

interface Features {
  pexpiretime: boolean;
  hpexpiretime: boolean;
  xinfoFull: boolean;
  cluster: boolean;
}

const b64 = (b: Buffer): string => b.toString('base64');

async function detect(c: Redis, call: RawCall): Promise<Features> {
  const info = String(await c.info('server')) + String(await c.info('cluster'));
  const version = /redis_version:(\d+)\.(\d+)/.exec(info);
  const major = Number(version?.[1] ?? 0);
  const cmds = asArray(await call('COMMAND', 'INFO', 'PEXPIRETIME', 'HPEXPIRETIME'), 'COMMAND INFO');
  return {
    pexpiretime: cmds[0] !== null && cmds[0] !== undefined,
    hpexpiretime: cmds[1] !== null && cmds[1] !== undefined,
    xinfoFull: major >= 6,
    cluster: /cluster_enabled:1/.test(info),
  };
}

async function listDbs(c: Redis): Promise<number[]> {
  const info = String(await c.info('keyspace'));
  return [...info.matchAll(/^db(\d+):keys=(\d+)/gm)].map((m) => Number(m[1]));
}

async function scanAll(call: RawCall): Promise<Buffer[]> {
  const seen = new Map<string, Buffer>();
  let cursor = '0';
  do {
    const [next, keys] = asArray(await call('SCAN', cursor, 'COUNT', 1000), 'SCAN');
    cursor = asText(next, 'SCAN cursor');
    for (const k of asArray(keys, 'SCAN keys')) {
      const key = asBuffer(k, 'SCAN key');
      seen.set(key.toString('hex'), key);
    }
  } while (cursor !== '0');
  return [...seen.values()];
}

function pairs(flat: unknown, what: string): [Buffer, Buffer][] {
  const a = asArray(flat, what);
  const out: [Buffer, Buffer][] = [];
  for (let i = 0; i + 1 < a.length; i += 2) out.push([asBuffer(a[i], what), asBuffer(a[i + 1], what)]);
  return out;
}

async function readValue(call: RawCall, key: Buffer, type: string, f: Features): Promise<RecordValue> {
  switch (type) {
    case 'string':
      return { b64: b64(asBuffer(await call('GET', key), 'GET')) };
    case 'list':
      return asArray(await call('LRANGE', key, 0, -1), 'LRANGE').map((e) => b64(asBuffer(e, 'LRANGE')));
    case 'set': {
      const members = asArray(await call('SMEMBERS', key), 'SMEMBERS').map((m) => asBuffer(m, 'SMEMBERS'));
      return members.sort(Buffer.compare).map(b64);
    }
    case 'zset':
      return pairs(await call('ZRANGE', key, 0, -1, 'WITHSCORES'), 'ZRANGE').map(([m, s]): [string, string] => [
        b64(m),
        s.toString('latin1'),
      ]);
    case 'hash':
      return pairs(await call('HGETALL', key), 'HGETALL')
        .sort((a, b) => Buffer.compare(a[0], b[0]))
        .map(([k, v]): [string, string] => [b64(k), b64(v)]);
    case 'stream':
      return readStream(call, key, f.xinfoFull);
    default:
      throw new Error(`readKeyspace: key ${b64(key)} has type "${type}" that the record format cannot hold`);
  }
}

async function hashFieldExpiry(call: RawCall, key: Buffer, fieldsB64: string[]): Promise<[string, number][]> {
  const out: [string, number][] = [];
  for (let i = 0; i < fieldsB64.length; i += 1000) {
    const chunk = fieldsB64.slice(i, i + 1000).map((f) => Buffer.from(f, 'base64'));
    const ttl = asArray(await call('HPEXPIRETIME', key, 'FIELDS', chunk.length, ...chunk), 'HPEXPIRETIME');
    chunk.forEach((f, j) => {
      const at = asInt(ttl[j], 'HPEXPIRETIME');
      if (at >= 0) out.push([b64(f), at]);
    });
  }
  return out;
}

async function readKey(call: RawCall, db: number, key: Buffer, f: Features): Promise<KeyRecord | undefined> {
  const [typeR, encR, expR] = await Promise.all([
    call('TYPE', key),
    call('OBJECT', 'ENCODING', key),
    call(f.pexpiretime ? 'PEXPIRETIME' : 'PTTL', key),
  ]);
  const type = asText(typeR, 'TYPE');
  if (type === 'none' || encR === null) return undefined; // expired or deleted since SCAN
  const exp = asInt(expR, 'PEXPIRETIME/PTTL');
  if (exp === -2) return undefined;
  const expireAt = exp < 0 ? null : f.pexpiretime ? exp : (await serverNow(call)) + exp;
  const value = await readValue(call, key, type, f);
  // Property order as in the fixtures' expected.jsonl.
  const rec: KeyRecord = {
    db,
    key_b64: b64(key),
    type,
    encoding: asText(encR, 'OBJECT ENCODING'),
    expire_at_ms: expireAt,
    ...(expireAt !== null && !f.pexpiretime ? { expire_approx: true } : {}),
    value,
  };
  if (type === 'hash' && f.hpexpiretime) {
    const fields = (rec.value as [string, string][]).map(([k]) => k);
    const hfe = await hashFieldExpiry(call, key, fields);
    if (hfe.length > 0) rec.hash_field_expire_at_ms = hfe;
  }
  return rec;
}

export function compareRecordOrder(a: KeyRecord, b: KeyRecord): number {
  return a.db - b.db || Buffer.compare(Buffer.from(a.key_b64, 'base64'), Buffer.from(b.key_b64, 'base64'));
}

/** Read every key of the given dbs (default: all non-empty) of one server. */
export async function readKeyspace(
  target: Redis | ServerAddress,
  opts: ReadKeyspaceOptions = {},
): Promise<KeyRecord[]> {
  // Always a connection of our own speaking RESP2: ioredis 6 defaults to RESP3, where scores arrive
  // as doubles (not the server's own score strings) and hashes as maps.
  const c =
    target instanceof Redis
      ? target.duplicate({ protocol: 2, lazyConnect: false, maxRetriesPerRequest: 1 })
      : new Redis({ ...target, protocol: 2, lazyConnect: false, maxRetriesPerRequest: 1 });
  c.on('error', () => {});
  try {
    const call = rawCaller(c);
    const f = { ...(await detect(c, call)), ...opts.features };
    const dbs = opts.dbs ?? (f.cluster ? [0] : await listDbs(c));
    const out: KeyRecord[] = [];
    const step = opts.concurrency ?? 32;
    for (const db of dbs) {
      if (!f.cluster || db !== 0) await call('SELECT', db);
      const keys = await scanAll(call);
      for (let i = 0; i < keys.length; i += step) {
        const recs = await Promise.all(keys.slice(i, i + step).map((k) => readKey(call, db, k, f)));
        for (const r of recs) if (r) out.push(r);
      }
    }
    return out.sort(compareRecordOrder);
  } finally {
    c.disconnect();
  }
}

/** Read every master of a cluster (harness cluster or ioredis Cluster) and merge, sorted like the fixtures. */
export async function readKeyspaceCluster(cluster: RedisCluster | Cluster): Promise<KeyRecord[]> {
  const clients: Redis[] = [];
  let own = false;
  if ('masters' in cluster && typeof cluster.masters === 'function') {
    own = true;
    for (const m of cluster.masters()) clients.push(m.server.client());
  } else {
    const io = cluster as Cluster;
    if (io.status !== 'ready') await new Promise((r) => io.once('ready', r));
    clients.push(...io.nodes('master'));
  }
  try {
    const parts = await Promise.all(clients.map((c) => readKeyspace(c, { dbs: [0] })));
    return parts.flat().sort(compareRecordOrder);
  } finally {
    if (own) for (const c of clients) c.disconnect();
  }
}

/**
 * What an expected record reads back as after the data went through an RDB / DUMP payload (restore,
 * sync, a reload): OBJECT ENCODING is not stored, and rdb.c loads a string of <= 44 bytes
 * (OBJ_ENCODING_EMBSTR_SIZE_LIMIT) as embstr, so a short string that was `raw` in the generating server
 * (APPEND, SETRANGE, PFADD results) becomes `embstr`. Everything else must match exactly.
 */
export function expectedAfterReload(expected: KeyRecord): KeyRecord {
  if (expected.type !== 'string' || expected.encoding !== 'raw') return expected;
  const len = Buffer.from((expected.value as { b64: string }).b64, 'base64').length;
  return len <= 44 ? { ...expected, encoding: 'embstr' } : expected;
}
