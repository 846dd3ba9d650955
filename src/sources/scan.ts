/**
 * SCAN + DUMP + PEXPIRETIME source: reads a live server the way a client may (no SYNC/PSYNC, no KEYS), so
 * it works where replication is refused (AWS ElastiCache) and is shared by `shake dump --mode scan` and
 * `shake rump`. For every db it pipelines one SCAN page ahead with the DUMP and expiry reads of the
 * current page, and yields per page: key-start + key-end with `raw` = the DUMP body (the value exactly as an
 * RDB file holds it after the type byte), rdbType from the payload's first byte, absolute expiry.
 *
 * The first batch starts with the records an RDB file needs before keys: header (the RDB version of the
 * DUMP payloads), aux fields, and function libraries (FUNCTION LIST WITHCODE: the FUNCTION2 opcode holds
 * the library code); then select-db + resize-db before each db. Keys that vanish between SCAN and DUMP
 * are counted as skipped ('vanished'), never silently lost.
 */
import { clockOffsetMs } from '../redis/clock.js';
import {
  DUMP_FOOTER_SIZE,
  RdbError,
  splitDumpPayload,
  type DumpPayloadParts,
  type KeyHeader,
  type RdbEvent,
  type RedisType,
} from '@shake/rdb';
import type { Counters } from '../core/counters.js';
import type { Entry, EntryBatch } from '../core/entry.js';
import { printableKey } from '../core/printable-key.js';
import { KeyHashSet } from '../core/key-hash-set.js';
import { scanTypeOfRdbType } from './scan-types.js';
import { readServerFacts, type ScanConnection, type ServerFacts } from './scan-server.js';

export type { ScanConnection } from './scan-server.js';

export interface ScanSourceOptions {
  counters: Counters;
  /** Only these dbs (default: every db INFO keyspace lists). In cluster mode only db 0 exists. */
  dbs?: number[];
  /** SCAN COUNT hint, also the number of keys per DUMP batch ([dump]/[rump] scan_count). */
  scanCount: number;
  /** SCAN MATCH pattern (default none: every key). */
  match?: string;
  /** Read function libraries with FUNCTION LIST WITHCODE (default true; skipped with a notice when refused). */
  functions?: boolean;
  /**
   * Check each DUMP payload's CRC64 trailer (default true). false: not checked here, and key-end carries the
   * payload so a Redis sink sends it as it is where it can (the target checks it) and checks it otherwise.
   */
  verifyPayloads?: boolean;
  /**
   * Drop keys SCAN returns twice (default true: an RDB file must not hold a key twice). Costs about
   * 16 bytes per key; a Redis sink that overwrites can turn it off.
   */
  dedup?: boolean;
  /** Human notices (fallbacks, skipped parts); the CLI prints them. */
  onNotice?: (message: string) => void;
  /** Clock for PTTL-based expiries on servers before 7.0 (tests). */
  now?: () => number;
  /** 'pttl' forces now + PTTL even where PEXPIRETIME exists (what servers before 7.0 get). */
  expiry?: 'auto' | 'pttl';
  /** SCAN ... TYPE <type> (Redis 6.0+): only keys of this type (default every type). */
  scanType?: string;
  /**
   * Instead of SCAN: read exactly these keys, page by page, each page in its own db (rump --keys-file and
   * --live re-copies). Every page yields one batch, possibly empty (all its keys vanished).
   */
  keyPages?: AsyncIterable<KeyPage>;
  /** Called for each key that no longer exists when it is read (it is also counted as 'vanished'). */
  onVanished?: (db: number, key: Buffer) => void;
}

/** Keys to read from one db (keyPages mode). */
export interface KeyPage {
  db: number;
  keys: Buffer[];
}

/** What a scan dump learned about the source, filled in while it runs. */
export interface ScanSourceInfo {
  facts: ServerFacts | null;
  /** RDB version of the DUMP payloads (the header's version). */
  rdbVersion: number | null;
  functions: number;
  /** Keys SCAN returned more than once (dropped after the first). */
  duplicates: number;
}

export class ScanSource implements AsyncIterable<EntryBatch> {
  readonly info: ScanSourceInfo = { facts: null, rdbVersion: null, functions: 0, duplicates: 0 };
  private readonly scanCount: number;
  /** Source clock minus ours (ms): now + PTTL must be the source's now (src/redis/clock.ts). */
  private clockOffsetMs = 0;

  constructor(
    private readonly conn: ScanConnection,
    private readonly opts: ScanSourceOptions,
  ) {
    this.scanCount = opts.scanCount;
  }

  [Symbol.asyncIterator](): AsyncIterator<EntryBatch> {
    return this.run()[Symbol.asyncIterator]();
  }

  private async *run(): AsyncGenerator<EntryBatch> {
    const facts = await readServerFacts(this.conn);
    if (this.opts.expiry === 'pttl') facts.hasPexpiretime = false;
    this.info.facts = facts;
    if (!facts.hasPexpiretime && !this.opts.now)
      this.clockOffsetMs = await clockOffsetMs((argv) => this.conn.call(argv));
    let preamble: Entry[] | null = await this.preambleWithoutHeader(facts);
    if (this.opts.keyPages) {
      yield* this.readPages(facts, preamble, this.opts.keyPages);
      return;
    }
    const dbs = (this.opts.dbs ?? [...facts.keyspace.keys()]).slice().sort((a, b) => a - b);
    for (const db of dbs) {
      if (facts.cluster && db !== 0) throw new Error(`--db ${db}: a cluster node has only db 0`);
      if (!facts.cluster || db !== 0) await this.expectOk(['SELECT', String(db)], `SELECT ${db}`);
      const sizes = facts.keyspace.get(db);
      let dbRecords: Entry[] | null = [
        { kind: 'select-db', db, offset: 0 },
        { kind: 'resize-db', dbSize: sizes?.keys ?? 0, expiresSize: sizes?.expires ?? 0, offset: 0 },
      ];
      // SCAN may return a key more than once (dict.c dictScan: when the table shrinks between two calls, buckets
      // already visited are visited again); a duplicated key makes an RDB file unloadable ("Duplicated key found
      // in RDB file"), so repeats are dropped: the keys seen are kept as hashes (core/key-hash-set.ts).
      const dedup = this.opts.dedup === false ? null : new KeyHashSet();
      let req = this.request(await this.scanPage('0', dedup), facts, dedup);
      for (;;) {
        // The next page's SCAN reply comes first: its DUMPs go out before this page's are processed,
        // so the server works on page i+1 while we build page i and the sink writes it.
        const nextPage = req.scan ? await req.scan : null;
        const nextReq = nextPage ? this.request(nextPage, facts, dedup) : null;
        const entries = this.buildEntries(db, req.keys, await req.replies, facts);
        const batch: Entry[] = [];
        if (preamble) {
          batch.push(this.header(facts), ...preamble);
          preamble = null;
        }
        if (dbRecords && entries.length > 0) {
          batch.push(...dbRecords);
          dbRecords = null;
        }
        for (const e of entries) batch.push(e);
        if (batch.length > 0) yield batch;
        if (!nextReq) break;
        req = nextReq;
      }
    }
    if (preamble) yield [this.header(facts), ...preamble];
    yield [{ kind: 'end', offset: 0, checksum: null }];
  }

  /** keyPages mode: DUMP + expiry of exactly the keys given, one batch per page. */
  private async *readPages(
    facts: ServerFacts,
    preamble: Entry[] | null,
    pages: AsyncIterable<KeyPage>,
  ): AsyncGenerator<EntryBatch> {
    let selected = facts.cluster ? 0 : -1;
    for await (const page of pages) {
      if (page.db !== selected) {
        if (facts.cluster) throw new Error(`db ${page.db}: a cluster node has only db 0`);
        await this.expectOk(['SELECT', String(page.db)], `SELECT ${page.db}`);
        selected = page.db;
      }
      const req = this.request({ cursor: '0', keys: page.keys }, facts, null);
      const entries = this.buildEntries(page.db, page.keys, await req.replies, facts);
      const batch: Entry[] = [];
      if (preamble) {
        batch.push(this.header(facts), ...preamble);
        preamble = null;
      }
      for (const e of entries) batch.push(e);
      yield batch;
    }
    if (preamble) yield [this.header(facts), ...preamble];
    yield [{ kind: 'end', offset: 0, checksum: null }];
  }

  /** Built once the first DUMP payloads are in: their version is the file's version. */
  private header(facts: ServerFacts): RdbEvent {
    const version = this.info.rdbVersion ?? facts.rdbVersion;
    return { kind: 'header', magic: version >= 80 ? 'VALKEY' : 'REDIS', version, offset: 0 };
  }

  private async preambleWithoutHeader(facts: ServerFacts): Promise<Entry[]> {
    const out: Entry[] = [];
    const aux: [string, string][] = [
      ['redis-ver', facts.redisVersion],
      ['redis-bits', String(facts.bits)],
      ['ctime', String(Math.floor(Date.now() / 1000))],
      ['used-mem', String(facts.usedMemory)],
    ];
    if (facts.rdbVersion >= 10) aux.push(['aof-base', '0']);
    for (const [k, v] of aux) out.push({ kind: 'aux', key: Buffer.from(k), value: Buffer.from(v), offset: 0 });
    if (this.opts.functions !== false && facts.rdbVersion >= 10) {
      for (const code of await this.readFunctions()) {
        out.push({ kind: 'function', code, offset: 0 });
        this.info.functions++;
      }
    }
    return out;
  }

  private async readFunctions(): Promise<Buffer[]> {
    const reply = await this.conn.call(['FUNCTION', 'LIST', 'WITHCODE']);
    if (reply instanceof Error) {
      this.opts.onNotice?.(`function libraries not copied: FUNCTION LIST WITHCODE failed: ${reply.message}`);
      return [];
    }
    const codes: Buffer[] = [];
    if (!Array.isArray(reply)) return codes;
    for (const lib of reply) {
      const code = fieldOf(lib, 'library_code');
      if (Buffer.isBuffer(code)) codes.push(code);
      else if (typeof code === 'string') codes.push(Buffer.from(code));
    }
    return codes;
  }

  private async expectOk(argv: string[], what: string): Promise<void> {
    const reply = await this.conn.call(argv);
    if (reply instanceof Error) throw new Error(`${what} failed: ${reply.message}`);
  }

  private scanArgv(cursor: string): (string | Buffer)[] {
    const argv: (string | Buffer)[] = ['SCAN', cursor, 'COUNT', String(this.scanCount)];
    if (this.opts.match !== undefined) argv.push('MATCH', this.opts.match);
    if (this.opts.scanType !== undefined) argv.push('TYPE', this.opts.scanType);
    return argv;
  }

  private async scanPage(cursor: string, dedup: KeyHashSet | null): Promise<ScanPage> {
    return this.unique(parseScanReply(await this.conn.call(this.scanArgv(cursor))), dedup);
  }

  private unique(page: ScanPage, dedup: KeyHashSet | null): ScanPage {
    if (!dedup) return page;
    const keys = page.keys.filter((k) => dedup.add(0, k));
    this.info.duplicates += page.keys.length - keys.length;
    return keys.length === page.keys.length ? page : { cursor: page.cursor, keys };
  }

  /** Sends the SCAN of the page's next cursor, then the expiry + DUMP of each of its keys (one write). */
  private request(page: ScanPage, facts: ServerFacts, dedup: KeyHashSet | null): PageRequest {
    const scan =
      page.cursor === '0'
        ? null
        : this.conn.call(this.scanArgv(page.cursor)).then((r) => this.unique(parseScanReply(r), dedup));
    const expiryCmd = facts.hasPexpiretime ? 'PEXPIRETIME' : 'PTTL';
    const argvs: (string | Buffer)[][] = [];
    for (const key of page.keys) argvs.push([expiryCmd, key], ['DUMP', key]);
    const replies = argvs.length > 0 ? this.conn.sendBatch(argvs) : Promise.resolve([]);
    // Awaited later, in order; a failure must not count as unhandled meanwhile.
    scan?.catch(() => {});
    replies.catch(() => {});
    return { keys: page.keys, scan, replies };
  }

  private buildEntries(db: number, keys: Buffer[], replies: unknown[], facts: ServerFacts): Entry[] {
    const expiryCmd = facts.hasPexpiretime ? 'PEXPIRETIME' : 'PTTL';
    const now = this.opts.now?.() ?? Date.now() + this.clockOffsetMs;
    const entries: Entry[] = [];
    const counters = this.opts.counters;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const ttlReply = replies[2 * i];
      const dump = replies[2 * i + 1];
      if (ttlReply instanceof Error) throw commandError(expiryCmd, key, ttlReply);
      if (dump instanceof Error) throw commandError('DUMP', key, dump);
      if (dump === null || dump === undefined || ttlReply === -2) {
        counters.skip('vanished');
        this.opts.onVanished?.(db, key);
        continue;
      }
      if (!Buffer.isBuffer(dump) || dump.length < 1 + DUMP_FOOTER_SIZE) {
        throw new Error(`DUMP ${printableKey(key)}: unexpected reply`);
      }
      const ttl = Number(ttlReply);
      const expireAtMs = ttl < 0 ? null : facts.hasPexpiretime ? ttl : now + ttl;
      entries.push(...this.keyEntries(db, key, dump, expireAtMs));
      counters.keysRead++;
      counters.bytesRead += dump.length;
    }
    return entries;
  }

  private keyEntries(db: number, key: Buffer, payload: Buffer, expireAtMs: number | null): RdbEvent[] {
    let parts: DumpPayloadParts;
    try {
      parts = splitDumpPayload(payload, this.opts.verifyPayloads !== false);
    } catch (err) {
      if (err instanceof RdbError) throw new Error(`DUMP ${printableKey(key)}: ${err.message}`);
      throw err;
    }
    const { rdbType, rdbVersion, body } = parts;
    const unchecked = this.opts.verifyPayloads === false;
    if (this.info.rdbVersion === null) this.info.rdbVersion = rdbVersion;
    else if (rdbVersion !== this.info.rdbVersion) {
      throw new Error(
        `DUMP ${printableKey(key)}: payload RDB version ${rdbVersion} differs from ${this.info.rdbVersion} (mixed-version source?)`,
      );
    }
    const t = scanTypeOfRdbType(rdbType);
    const header: KeyHeader = {
      db,
      key,
      type: t.type as RedisType,
      rdbType,
      encoding: t.encoding,
      expireAtMs,
      offset: 0,
    };
    return [
      { kind: 'key-start', header },
      unchecked ? { kind: 'key-end', header, raw: body, payload } : { kind: 'key-end', header, raw: body },
    ];
  }
}

interface ScanPage {
  cursor: string;
  keys: Buffer[];
}

interface PageRequest {
  keys: Buffer[];
  /** The following page (null after the last one). */
  scan: Promise<ScanPage> | null;
  replies: Promise<unknown[]>;
}

function parseScanReply(reply: unknown): ScanPage {
  if (reply instanceof Error) throw new Error(`SCAN failed: ${reply.message}`);
  if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
    throw new Error('SCAN: unexpected reply');
  }
  const c: unknown = reply[0];
  const cursor = Buffer.isBuffer(c) ? c.toString('latin1') : String(c);
  const keys: Buffer[] = [];
  for (const k of reply[1] as unknown[]) {
    if (Buffer.isBuffer(k)) keys.push(k);
    else if (typeof k === 'string') keys.push(Buffer.from(k));
  }
  return { cursor, keys };
}

/** A field of a RESP2 flat [name, value, ...] array or a RESP3 map. */
function fieldOf(item: unknown, name: string): unknown {
  if (item instanceof Map) {
    for (const [k, v] of item) if (String(k) === name) return v;
    return undefined;
  }
  if (!Array.isArray(item)) return undefined;
  for (let i = 0; i + 1 < item.length; i += 2) {
    if (String(item[i]) === name) return item[i + 1];
  }
  return undefined;
}

function commandError(cmd: string, key: Buffer, err: Error): Error {
  return new Error(`${cmd} ${printableKey(key)} failed: ${err.message}`);
}
