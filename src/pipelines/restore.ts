/**
 * The `shake restore` pipeline as a plain module (no oclif, no terminal): an input (RDB, AOF with or
 * without preamble, multi-part AOF, a cluster dump manifest, decode's JSON lines; a path or a stream)
 * -> key filter -> the Redis sink. Tests and library users call restore() directly.
 */
import { statSync } from 'node:fs';
import { RdbParser, type KeyHeader, type RdbParserOptions } from '@shake/rdb';
import { Counters } from '../core/counters.js';
import type { EntryBatch, Source, Transform } from '../core/entry.js';
import { runPipeline } from '../core/pipeline.js';
import { aofSource, type AofPart } from '../sources/aof.js';
import { fileChunks as readFileChunks } from '../sources/file-chunks.js';
import { jsonlSource } from '../sources/jsonl.js';
import { InputError, detectKind, resolveInput, type InputKind } from '../sources/manifest.js';
import { keyFilter, keyPredicate, type KeySelection } from '../transforms/filter.js';
import { rdbKeyDbs } from '../sources/rdb-file.js';
import { checkDbsFit, mayRefuseDbs } from '../sinks/redis/db-map.js';
import { LoadingExpiry, type LoadingExpiryStats } from '../transforms/loading-expiry.js';
import { RestoreStoppedError } from '../sinks/redis/core.js';
import { RedisSink, DEFAULT_BIG_KEY_THRESHOLD, type RedisSinkOptions } from '../sinks/redis/sink.js';
import { emptyStats, type RedisSinkStats } from '../sinks/redis/stats.js';
import { targetKeyspace, type RedisTarget } from '../sinks/redis/target.js';
import { RespServerError } from '@shake/resp';
import type { ConnectionOptions } from '../redis/index.js';
import {
  ReplicationLoadUnavailable,
  loadByReplication,
  type ReplicationLoadResult,
} from '../sinks/redis/replication-load.js';

/** How the keys reach the target: by commands (RESTORE, MSET...), or the target loads the RDB itself. */
export type LoadMode = 'commands' | 'replication' | 'auto';

export interface RestoreInput {
  /** A path (file or directory), or a stream (stdin) with a name for messages. */
  path?: string;
  stream?: AsyncIterable<Buffer>;
  /**
   * An RDB that `read` gives from its start, as often as asked (read as a file is: values from the raw bodies, the
   * RDB read again for keys too big to capture): `shake sync`'s snapshot, followed while it is still being received
   * (sources/growing-file.ts). `name` is for messages. Its dbs are not read ahead (checkInputDbs): a key of a db
   * the target cannot take meets the refusal when it comes, as on stdin.
   */
  rdb?: { name: string; read: () => AsyncIterable<Buffer> };
}

export interface RestoreOptions extends Omit<RedisSinkOptions, 'target' | 'counters'>, KeySelection {
  input: RestoreInput;
  target: RedisTarget;
  /** Empty the target first (FLUSHALL on every master). Only when asked. */
  flushTarget?: boolean;
  verifyChecksum?: boolean;
  signal?: AbortSignal;
  onBatch?: (batch: EntryBatch) => void;
  /** Counters to fill (so a caller can show progress while it runs); a new one when absent. */
  counters?: Counters;
  /**
   * 'replication': the target loads the RDB file itself as a replica of shake (sinks/redis/replication-load.ts;
   * an empty standalone target, a plain RDB file, no key selection or db map); 'auto': that where it can, else
   * commands; 'commands' (default): every key written by shake.
   */
  load?: LoadMode;
  /** For load replication/auto: the host[:port] shake listens on for the target (default: where it reaches us). */
  listen?: string;
  /** Notices (e.g. why `--load auto` wrote by commands). */
  onNotice?: (message: string) => void;
  /** Called once the input is known (its kind, files and total size, null for stdin). */
  onInput?: (input: { kind: InputKind; files: string[]; totalBytes: number | null }) => void;
}

export interface RestoreRun {
  counters: Counters;
  stats: RedisSinkStats;
  /** Expiries replayed as redis-server loading the input does (AOF inputs). */
  loadingExpiry?: LoadingExpiryStats | null;
  kind: InputKind;
  files: string[];
  totalBytes: number | null;
  interrupted: boolean;
  /** Set when --on-error stop ended the run early: why. */
  stopped: string | null;
  /** The target loaded the file itself (--load replication / auto). */
  replicationLoad?: ReplicationLoadResult | null;
}

/** Read size: small chunks keep the events alive at once (and so the heap) small; 64 KiB costs no CPU here. */
const READ_CHUNK = 64 * 1024;

function counting(counters: Counters): Transform {
  return {
    name: 'count-read',
    apply(batch) {
      for (const e of batch) {
        if (e.kind === 'key-start') counters.keysRead++;
        else if (e.kind === 'command') counters.commandsRead++;
      }
      return batch;
    },
  };
}

const fileChunks = (path: string): AsyncGenerator<Buffer> => readFileChunks(path, READ_CHUNK);

/** Peeks at a stream's first bytes to tell its kind; yields everything. */
async function peekKind(stream: AsyncIterable<Buffer>): Promise<{ kind: InputKind; chunks: AsyncIterable<Buffer> }> {
  const it = stream[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < 16) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    len += r.value.length;
  }
  const kind = detectKind(Buffer.concat(head));
  if (kind === null) throw new InputError('stdin: not an RDB, AOF or JSON-lines input (unknown first bytes)');
  if (kind === 'aof-manifest' || kind === 'dump-manifest')
    throw new InputError('stdin: a manifest must be given as a path');
  async function* all(): AsyncGenerator<Buffer> {
    yield* head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { kind, chunks: all() };
}

export async function restore(opts: RestoreOptions): Promise<RestoreRun> {
  const counters = opts.counters ?? new Counters();
  const onBytes = (n: number): void => {
    counters.bytesRead += n;
  };
  const captureRawLimit = opts.bigKeyThreshold ?? DEFAULT_BIG_KEY_THRESHOLD;
  const verifyChecksum = opts.verifyChecksum ?? true;
  // Files can be read twice, so their values need not be decoded on the first read (only keys + raw bodies);
  // stdin is decoded as it streams.
  let valuesFromRaw = false;
  const rdbParser = () => {
    const o: RdbParserOptions & { values?: boolean } = { captureRawLimit, verifyChecksum };
    if (valuesFromRaw) o.values = false;
    return new RdbParser(o);
  };
  let currentPart: string | null = null;
  const rdbInput = opts.input.rdb;
  const read = rdbInput ? () => rdbInput.read() : fileChunks;
  const reread = (offsets: ReadonlySet<number>): AsyncIterable<EntryBatch> =>
    rereadPart(currentPart, read, offsets, verifyChecksum);
  let kind: InputKind;
  let files: string[] = [];
  let totalBytes: number | null = null;
  let source: Source;
  if (rdbInput) {
    kind = 'rdb';
    valuesFromRaw = opts.valuesFromRaw ?? true;
    const part: AofPart = {
      name: rdbInput.name,
      chunks: () => {
        currentPart = rdbInput.name;
        return rdbInput.read();
      },
    };
    source = aofSource([part], { createRdbParser: rdbParser, onBytes, onWarning: opts.onWarning });
  } else if (opts.input.path !== undefined && opts.input.path !== '-') {
    const resolved = resolveInput(opts.input.path);
    kind = resolved.kind;
    files = resolved.files;
    totalBytes = files.reduce((n, f) => n + statSync(f).size, 0);
    if (kind === 'jsonl') {
      source = jsonlSource(fileChunks(files[0] as string), { onBytes });
    } else {
      valuesFromRaw = opts.valuesFromRaw ?? true;
      const parts: AofPart[] = files.map((f) => ({
        name: f,
        chunks: () => {
          currentPart = f;
          return fileChunks(f);
        },
      }));
      source = aofSource(parts, { createRdbParser: rdbParser, onBytes, onWarning: opts.onWarning });
    }
  } else {
    const stream = opts.input.stream ?? (process.stdin as AsyncIterable<Buffer>);
    const peeked = await peekKind(stream);
    kind = peeked.kind;
    source =
      kind === 'jsonl'
        ? jsonlSource(peeked.chunks, { onBytes })
        : aofSource([{ name: 'stdin', chunks: () => peeked.chunks }], {
            createRdbParser: rdbParser,
            onBytes,
            onWarning: opts.onWarning,
          });
  }

  opts.onInput?.({ kind, files, totalBytes });
  // What is knowable before the first write (the flush and function libraries included) is refused now.
  await checkInputDbs(opts, kind, files);
  if (opts.flushTarget) await flushTarget(opts.target);
  const load = opts.load ?? 'commands';
  if (load !== 'commands') {
    const why = replicationLoadRefusal(opts, kind, files);
    if (why === null) {
      const bytesBefore = counters.bytesRead;
      try {
        return await restoreByReplication(opts, files[0] as string, counters, kind, files, totalBytes);
      } catch (err) {
        if (!(err instanceof ReplicationLoadUnavailable) || load !== 'auto') throw err;
        opts.onNotice?.(`--load auto: writing by commands: ${err.message}`);
        counters.bytesRead = bytesBefore; // read again from the start
      }
    } else if (load === 'replication') {
      throw new InputError(`--load replication: ${why}`);
    } else {
      opts.onNotice?.(`--load auto: writing by commands: ${why}`);
    }
  }
  const targetDbsAtStart = await targetKeyspace(opts.target);

  const transforms: Transform[] = [counting(counters)];
  // dbs, key globs and regex, exclusions, types: the options carry the filter's own names.
  const filter = keyFilter(opts, counters);
  if (filter) transforms.push(filter);
  // Commands (and the keys of an AOF preamble or base) replay as redis-server loading the AOF would.
  const loading =
    kind === 'jsonl' || kind === 'dump-manifest'
      ? null
      : new LoadingExpiry(counters, opts.now ?? Date.now, kind === 'aof-manifest');
  if (loading) transforms.push(loading);
  const sink = new RedisSink({ ...opts, target: opts.target, counters, valuesFromRaw, reread, targetDbsAtStart });
  let interrupted = false;
  let stopped: string | null = null;
  try {
    // A truncated or corrupt input: every key complete before the bad bytes still reaches the target.
    const result = await runPipeline(source, transforms, sink, {
      signal: opts.signal,
      onBatch: opts.onBatch,
      onSourceError: 'flush',
    });
    interrupted = result.interrupted;
  } catch (err) {
    if (!(err instanceof RestoreStoppedError)) throw err;
    stopped = err.message;
  }
  return {
    counters,
    stats: sink.stats,
    loadingExpiry: loading?.stats ?? null,
    kind,
    files,
    totalBytes,
    interrupted,
    stopped,
  };
}

/** Why this restore cannot be a load by replication (null: it can be tried). */
function replicationLoadRefusal(opts: RestoreOptions, kind: InputKind, files: readonly string[]): string | null {
  if (kind !== 'rdb' || files.length !== 1 || opts.input.rdb || opts.input.stream)
    return `the input must be one RDB file (this one is ${opts.input.path === '-' ? 'stdin' : kind})`;
  if (keyPredicate(opts) !== null) return 'a key selection (--db, --match, --type, exclusions) needs commands';
  if (opts.dbMap && (opts.dbMap.map.size > 0 || opts.dbMap.rest !== null)) return 'a db map needs commands';
  if (opts.target.profile.kind !== 'standalone') return `a ${opts.target.profile.kind} target (standalone only)`;
  if (!opts.target.connection) return 'the target was not opened with its address';
  return null;
}

async function restoreByReplication(
  opts: RestoreOptions,
  path: string,
  counters: Counters,
  kind: InputKind,
  files: string[],
  totalBytes: number | null,
): Promise<RestoreRun> {
  const r = await loadByReplication({
    path,
    connection: opts.target.connection as ConnectionOptions,
    listen: opts.listen,
    replaceFunctions: opts.flushTarget === true,
    profile: opts.target.profile,
    counters,
    // The target decides which keys have expired: its clock.
    now: () => (opts.now ?? Date.now)() + (opts.target.clockOffsetMs ?? 0),
    signal: opts.signal,
    onNotice: opts.onNotice,
  });
  counters.keysRead += r.keys;
  counters.keysWritten += r.keys - r.expired;
  // A replica keeps keys that had expired (its master would delete them); the target, a master again, does.
  if (r.expired > 0) counters.skip('expired', r.expired);
  const stats = emptyStats();
  stats.functionsLoaded = r.functions;
  return {
    counters,
    stats,
    loadingExpiry: null,
    kind,
    files,
    totalBytes,
    interrupted: false,
    stopped: null,
    replicationLoad: r,
  };
}

/**
 * An RDB file (or a cluster dump's files) into a cluster or proxy target with no `--db-map *:N`: the dbs it holds
 * keys in are read ahead (keys only, bounded memory: sources/rdb-file.ts rdbKeyDbs), so several dbs with nowhere
 * to go are refused before anything is written. Other inputs (stdin, AOF) meet the same refusal at their first
 * key of a second db.
 */
async function checkInputDbs(opts: RestoreOptions, kind: InputKind, files: readonly string[]): Promise<void> {
  const targetKind = opts.target.profile.kind;
  if ((kind !== 'rdb' && kind !== 'dump-manifest') || !mayRefuseDbs(opts.dbMap, targetKind)) return;
  const pred = keyPredicate(opts);
  const keep = pred ? (h: KeyHeader): boolean => pred(h) === null : null;
  const now = (opts.now ?? Date.now)();
  const dbs = new Set<number>();
  for (const f of files) for (const db of await rdbKeyDbs(f, keep, now)) dbs.add(db);
  checkDbsFit(opts.dbMap, targetKind, dbs);
}

/** The RDB part of `path` again, values decoded, up to its RDB end (keys too big to capture the first time). */
async function* rereadPart(
  path: string | null,
  read: (path: string) => AsyncIterable<Buffer>,
  _offsets: ReadonlySet<number>,
  verifyChecksum: boolean,
): AsyncGenerator<EntryBatch> {
  if (path === null) throw new Error('internal: no input part to read again');
  const parser = new RdbParser({ verifyChecksum });
  for await (const chunk of read(path)) {
    const events = parser.push(chunk);
    const end = events.findIndex((e) => e.kind === 'end');
    if (end >= 0) {
      yield events.slice(0, end);
      return;
    }
    yield events;
  }
  yield parser.end();
}

/** FLUSHALL on every master (the explicit --flush-target). */
export async function flushTarget(target: RedisTarget): Promise<void> {
  if (target.profile.kind === 'proxy')
    throw new InputError('--flush-target: a proxy target cannot be flushed (no FLUSHALL)');
  for (const node of target.masters()) {
    const conn = node.conns[0];
    if (!conn) continue;
    const [reply] = await conn.sendBatch([['FLUSHALL']]);
    if (reply instanceof RespServerError) throw new Error(`FLUSHALL on ${node.addr} failed: ${reply.message}`);
  }
}
