/**
 * `shake restore --load replication`: the target loads the RDB itself, as a replica loads its master's
 * snapshot. shake listens as a one-replica master (src/replica/rdb-master.ts), tells the target
 * `REPLICAOF <shake>`, serves the file as the full-resync snapshot, waits until the target reports its
 * link up (the load is done), checks the keys per db against the file, and ends with `REPLICAOF NO ONE`.
 * The target then spends the CPU of a load (its own rdbLoad: dicts sized once from the RDB) instead of the
 * ~2x that executing one command per key costs it (docs/BENCHMARKS.md, "December pass 3").
 *
 * A replica replaces ALL its data with the snapshot, and a replica that cannot load it (a corrupt RDB, an
 * unknown type or module, more dbs than it has) exits (rdb.c rdbReportError). So nothing is sent that the target
 * might fail on, and nothing it already holds is at stake:
 *  - the target must be an empty standalone master (restore's --flush-target empties it first) that reaches
 *    us in plain TCP (a TLS target only with tls-replication no, its default);
 *  - the file's RDB version and every key's type id must be ones the target loads; no module data, no 7.0-rc
 *    functions; every db must exist on the target (SELECT probed);
 *  - the file is parsed (keys only) as it is sent, every chunk BEFORE it goes out: the trailing CRC64 is checked
 *    before the last bytes leave, so a corrupt or truncated file never reaches the target (it gets a short
 *    transfer, which it drops); a file without a CRC is refused at its end likewise, since values are not decoded
 *    here and only the CRC vouches for them; bytes after the RDB's end (an AOF tail) stop it too.
 * Anything refused before the load began leaves the target as it was (empty) and says why:
 * ReplicationLoadUnavailable, on which `--load auto` falls back to commands.
 *
 * Where the target allows CONFIG, `repl-diskless-load` is set to `swapdb` for the load (restored after): the
 * target parses the RDB from the socket instead of writing it to a temporary file, fsyncing it and reading it
 * back (2.5x the load's time on this machine's disk against 1.0x). Not `on-empty-db`: with it Redis 8.0-m01
 * crashes on an RDB holding functions (replication.c keeps a pointer to the function library context across
 * emptyData(), which replaces it; a segfault in functionsCreateWithLibraryCtx, seen here). `swapdb` loads into a
 * fresh context and swaps it in; the db it keeps aside meanwhile is empty.
 */
import { open, stat } from 'node:fs/promises';
import { RDB_TYPE, RdbError, RdbParser, isTypeLoadableBy, type KeySink, type RdbEvent } from '@shake/rdb';
import { RespServerError } from '@shake/resp';
import type { Counters } from '../../core/counters.js';
import { printableKey } from '../../core/printable-key.js';
import { connect, type ConnectionOptions, type RedisConnection } from '../../redis/index.js';
import { infoText, keyspaceOf, parseInfo } from '../../redis/server-info.js';
import { RdbMaster } from '../../replica/rdb-master.js';
import { fileChunks } from '../../sources/file-chunks.js';
import type { TargetProfile } from './strategy.js';

/** Nothing was loaded: the target is as it was. `--load auto` writes by commands instead. */
export class ReplicationLoadUnavailable extends Error {
  override readonly name = 'ReplicationLoadUnavailable';
}

export interface ReplicationLoadOptions {
  /** The RDB file. */
  path: string;
  /** The target (standalone): where shake connects to drive it. */
  connection: ConnectionOptions;
  profile: TargetProfile;
  /** The target's function libraries may go (--flush-target): the load replaces them with the file's. */
  replaceFunctions?: boolean;
  /** host[:port] the target connects to; empty: the local address of shake's connection to it, any port. */
  listen?: string;
  counters: Counters;
  /** For the expired-key count (default Date.now). */
  now?: () => number;
  /** The target must connect to shake within this (ms). */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
  onNotice?: (message: string) => void;
}

export interface ReplicationLoadResult {
  /** The target parsed the RDB from the socket (repl-diskless-load swapdb) rather than via a temp file. */
  diskless: boolean;
  /** Keys per db in the file (expired ones included: a replica loads them; they expire once it is a master). */
  keysPerDb: Map<number, number>;
  keys: number;
  expired: number;
  functions: number;
  /** Where the target connected from, and shake's listening address. */
  peer: string;
  listen: string;
}

/** Bytes read and checked ahead of sending; the target receives at the parser's pace. */
const SEND_CHUNK = 256 * 1024;
const POLL_MS = 20;

/** The file's header: magic and RDB version. */
async function rdbHeader(path: string): Promise<{ magic: string; version: number }> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(9);
    const { bytesRead } = await fh.read(buf, 0, 9, 0);
    const text = buf.toString('latin1', 0, bytesRead);
    const m = /^(?:REDIS(\d{4})|VALKEY(\d{3}))$/.exec(text);
    if (m) return { magic: m[1] ? 'REDIS' : 'VALKEY', version: Number(m[1] ?? m[2]) };
    throw new ReplicationLoadUnavailable(`${path}: not an RDB file (no REDIS/VALKEY header)`);
  } finally {
    await fh.close();
  }
}

/** Can a server writing RDB `target` load a file of this header? Valkey 9 (80+) reads Redis files up to 11. */
function headerLoadable(magic: string, version: number, target: number): boolean {
  if (magic === 'VALKEY') return target >= 80 && version <= target;
  return version <= (target >= 80 ? 11 : target);
}

async function infoFields(conn: RedisConnection, section: string): Promise<Map<string, string>> {
  const reply = await conn.call([`INFO`, section]);
  const text = infoText(reply);
  if (text === null) throw new Error(`INFO ${section} failed on the target: ${String((reply as Error)?.message)}`);
  return parseInfo(text);
}

/** The error an error reply (or a thrown error) carries; null for any other reply. */
function replyError(reply: unknown): string | null {
  return reply instanceof RespServerError || reply instanceof Error ? reply.message : null;
}

/**
 * Ends the link: the target is a master again, keeping what it loaded. Sent again while the target answers
 * -LOADING (it is still dropping a transfer cut short). The error text, or null.
 */
async function replicaOfNoOne(control: RedisConnection): Promise<string | null> {
  const deadline = Date.now() + 60_000;
  let name = 'REPLICAOF';
  for (;;) {
    const err = replyError(await control.call([name, 'NO', 'ONE']).catch((e: unknown) => e));
    if (err === null) return null;
    if (err.includes('unknown command') && name === 'REPLICAOF') name = 'SLAVEOF';
    else if (!err.startsWith('LOADING') || Date.now() > deadline) return err;
    else await sleep(POLL_MS);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(listen.trim());
  if (!m) throw new ReplicationLoadUnavailable(`listen address "${listen}" is not host[:port]`);
  return { host: (m[1] ?? m[2]) as string, port: m[3] ? Number(m[3]) : 0 };
}

export async function loadByReplication(opts: ReplicationLoadOptions): Promise<ReplicationLoadResult> {
  const where = `${opts.connection.host}:${opts.connection.port}`;
  if (opts.profile.kind !== 'standalone')
    throw new ReplicationLoadUnavailable(`a ${opts.profile.kind} target cannot load by replication (standalone only)`);
  const header = await rdbHeader(opts.path);
  if (!headerLoadable(header.magic, header.version, opts.profile.rdbVersion)) {
    throw new ReplicationLoadUnavailable(
      `the file is ${header.magic} RDB ${header.version}; the target ${where} loads RDB ${opts.profile.rdbVersion} at most`,
    );
  }
  const { size } = await stat(opts.path);
  const control = await connect({ ...opts.connection, db: 0, name: 'shake-restore-load' });
  try {
    return await drive(opts, control, header.version, size, where);
  } finally {
    await control.close().catch(() => {});
  }
}

async function drive(
  opts: ReplicationLoadOptions,
  control: RedisConnection,
  fileVersion: number,
  size: number,
  where: string,
): Promise<ReplicationLoadResult> {
  if (opts.connection.tls) {
    // Clients reach it over TLS; its link to a master is TLS only with tls-replication yes (default no).
    const tlsRepl = await control.call(['CONFIG', 'GET', 'tls-replication']);
    const value = Array.isArray(tlsRepl) && tlsRepl.length >= 2 ? String(tlsRepl[1]) : null;
    if (value !== 'no') {
      throw new ReplicationLoadUnavailable(
        value === null
          ? `a TLS target that does not say (CONFIG GET tls-replication) whether it would reach shake in plain TCP`
          : `the target ${where} has tls-replication ${value}: the replication link shake serves is plain TCP`,
      );
    }
  }
  const repl = await infoFields(control, 'replication');
  if (repl.get('role') !== 'master') {
    throw new ReplicationLoadUnavailable(`the target ${where} is a replica (role:${repl.get('role')}), not a master`);
  }
  const held = [...keyspaceOf(await infoFields(control, 'keyspace'))].filter(([, k]) => k.keys > 0);
  if (held.length > 0) {
    const n = held.reduce((a, [, k]) => a + k.keys, 0);
    throw new ReplicationLoadUnavailable(
      `the target ${where} holds ${n} key(s); a load by replication replaces all its data (empty it, or --flush-target)`,
    );
  }
  if (opts.profile.rdbVersion >= 10 && !opts.replaceFunctions) {
    const libs = await control.call(['FUNCTION', 'LIST']);
    if (Array.isArray(libs) && libs.length > 0) {
      throw new ReplicationLoadUnavailable(
        `the target ${where} holds ${libs.length} function librar(y/ies); a load by replication replaces them (--flush-target)`,
      );
    }
  }
  const listen = opts.listen ? parseListen(opts.listen) : { host: control.localAddress ?? '127.0.0.1', port: 0 };
  listen.host = listen.host.replace(/^::ffff:/, '');

  // Load from the socket where the target lets us say so (restored after).
  let diskless = false;
  let restoreDisklessLoad: string | null = null;
  const got = await control.call(['CONFIG', 'GET', 'repl-diskless-load']);
  if (Array.isArray(got) && got.length >= 2) {
    const was = String(got[1]);
    if (was === 'swapdb') diskless = true;
    else if (replyError(await control.call(['CONFIG', 'SET', 'repl-diskless-load', 'swapdb'])) === null) {
      diskless = true;
      restoreDisklessLoad = was;
    }
  }

  let resynced: string | null = null;
  const master = new RdbMaster({
    host: listen.host,
    port: listen.port,
    length: size,
    onResync: (peer) => (resynced ??= peer),
  });
  let replicaOf = false;
  try {
    try {
      await master.listen();
    } catch (err) {
      throw new ReplicationLoadUnavailable(`cannot listen on ${listen.host}:${listen.port}: ${(err as Error).message}`);
    }
    let r = await control.call(['REPLICAOF', listen.host, String(master.port)]);
    if (replyError(r)?.includes('unknown command'))
      r = await control.call(['SLAVEOF', listen.host, String(master.port)]);
    const refused = replyError(r);
    if (refused !== null) throw new ReplicationLoadUnavailable(`the target ${where} refused REPLICAOF: ${refused}`);
    replicaOf = true;
    let writer;
    try {
      writer = await master.replica(opts.connectTimeoutMs ?? 10_000);
    } catch (err) {
      throw new ReplicationLoadUnavailable(`${(err as Error).message} (set [restore] listen to an address it reaches)`);
    }

    // Every chunk is parsed (and so checked) before it is sent.
    // Keys come through keySink: a name as a range of the parser's buffer, no header or Buffer per key.
    const counts = new Map<number, number>();
    let countDb = -1;
    let countN = 0;
    let expired = 0;
    let functions = 0;
    let ended = false;
    /** Why the file must not reach the target, found by keySink during a push (it cannot throw there). */
    let unloadable: string | null = null;
    const now = (opts.now ?? Date.now)();
    const probedDbs = new Set<number>([0]);
    const keySink: KeySink = {
      key: (buf, start, end, db, rdbType, expireAtMs) => {
        if (db !== countDb) {
          if (countDb >= 0) counts.set(countDb, countN);
          countDb = db;
          countN = counts.get(db) ?? 0;
        }
        countN++;
        if (expireAtMs !== null && expireAtMs <= now) expired++;
        if (unloadable !== null) return;
        const name = () => `key ${printableKey(buf.subarray(start, end))} of db ${db}`;
        if (rdbType === RDB_TYPE.MODULE_2 || rdbType === RDB_TYPE.MODULE_PRE_GA)
          unloadable = `${name()} is module data: the target may not have the module`;
        else if (!isTypeLoadableBy(rdbType, fileVersion, opts.profile.rdbVersion))
          unloadable = `${name()} has type id ${rdbType}, which the target cannot load`;
      },
      value: () => {},
    };
    const parser = new RdbParser({ values: false, verifyChecksum: true, keySink });
    const refuse = (why: string): never => {
      throw new ReplicationLoadUnavailable(`${why}; nothing was loaded`);
    };
    const inspect = async (events: readonly RdbEvent[]): Promise<void> => {
      if (unloadable !== null) refuse(unloadable);
      for (const e of events) {
        switch (e.kind) {
          case 'select-db':
            if (!probedDbs.has(e.db)) {
              const err = replyError(await control.call(['SELECT', String(e.db)]));
              if (err !== null) refuse(`db ${e.db} of the file: the target ${where} refuses it (${err})`);
              probedDbs.add(e.db);
            }
            break;
          case 'module-aux':
            refuse(`module data (${e.module.name}) at byte ${e.offset}: the target may not have the module`);
            break;
          case 'function-pre-ga':
            refuse(`a function in the 7.0 release-candidate format at byte ${e.offset}`);
            break;
          case 'function':
            functions++;
            break;
          case 'end': {
            const end = e.offset + 1 + (fileVersion >= 5 ? 8 : 0);
            if (end !== size) refuse(`the RDB ends at byte ${end} of ${size} (an AOF tail?): not a plain RDB`);
            // Only the CRC vouches for the contents, which are not decoded here; a replica's loader exits on a
            // corrupt encoding (e.g. a ziplist failing its integrity check).
            if (e.checksum === null) {
              refuse('the file has no checksum (written with rdbchecksum no, or RDB < 5): not trusted to a load');
            }
            ended = true;
            break;
          }
        }
      }
    };
    const checked = (events: () => readonly RdbEvent[]): Promise<void> => {
      try {
        return inspect(events());
      } catch (err) {
        // Corrupt or truncated: the bytes that failed were not sent, so the target drops the transfer.
        if (err instanceof RdbError) refuse(`${opts.path}: ${err.message}`);
        throw err;
      }
    };
    for await (const chunk of fileChunks(opts.path, SEND_CHUNK)) {
      if (opts.signal?.aborted) throw new Error('interrupted');
      await checked(() => parser.push(chunk));
      await writer.write(chunk);
      opts.counters.bytesRead += chunk.length;
    }
    await checked(() => parser.end());
    if (!ended) refuse(`${opts.path}: the file ended before the RDB did (truncated)`);
    if (countDb >= 0) counts.set(countDb, countN);

    // The target loads; its link is up when it is done.
    for (;;) {
      if (resynced) throw new Error(`the target ${where} could not load the RDB and asked for it again (see its log)`);
      if (opts.signal?.aborted) throw new Error('interrupted while the target loads');
      const info = await infoFields(control, 'replication');
      if (info.get('master_link_status') === 'up' && info.get('master_sync_in_progress') !== '1') break;
      if (writer.closed)
        throw new Error(`the target ${where} dropped the replication link while loading (see its log)`);
      await sleep(POLL_MS);
    }
    // Still a replica: nothing has expired or been evicted yet, so the keys must be the file's, db by db.
    const held = keyspaceOf(await infoFields(control, 'keyspace'));
    for (const db of new Set([...counts.keys(), ...held.keys()])) {
      const want = counts.get(db) ?? 0;
      const have = held.get(db)?.keys ?? 0;
      if (want !== have) {
        throw new Error(`after loading, the target ${where} holds ${have} key(s) in db ${db}; the file has ${want}`);
      }
    }
    let keys = 0;
    for (const n of counts.values()) keys += n;
    // A master again before the link closes (closed first, the target would start reconnecting to us).
    replicaOf = false;
    const err = await replicaOfNoOne(control);
    if (err !== null)
      throw new Error(`REPLICAOF NO ONE failed on ${where} after the load: ${err}; run it there by hand`);
    return {
      diskless,
      keysPerDb: counts,
      keys,
      expired,
      functions,
      peer: writer.peer,
      listen: master.address,
    };
  } finally {
    // A transfer cut short: the target drops what it received (a half-loaded db is emptied, replication.c).
    await master.close();
    if (replicaOf) {
      const err = await replicaOfNoOne(control);
      if (err !== null) opts.onNotice?.(`REPLICAOF NO ONE failed on ${where}: ${err}; run it there by hand`);
    }
    if (restoreDisklessLoad !== null) {
      await control.call(['CONFIG', 'SET', 'repl-diskless-load', restoreDisklessLoad]).catch(() => {});
    }
  }
}
