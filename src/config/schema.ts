/**
 * THE configuration schema of shake: one zod object per INI section. The INI file, the environment
 * (SHAKE_<SECTION>_<KEY>) and command-line flags all pass through it, and the defaults live here and in
 * conf/shake.conf (a test keeps the two in step). To add a key: add it to its section below with its
 * default, add the commented line to conf/shake.conf and a row to docs/configuration.md.
 */
import * as z from 'zod';

import { bool, bytes, int, oneOf, showValue, str } from './fields.js';

// Parse without compiling a validator per object schema (zod's JIT costs about 0.14 s of every start-up, more
// than the few objects parsed per run ever win back).
z.config({ jitless: true });

/** Connection settings shared by [source] and [target]. */
const connection = {
  /** redis://[user:password@]host:port[/db], rediss:// for TLS. */
  url: str(''),
  user: str(''),
  /** Never accepted as a flag: file or SHAKE_<SECTION>_PASSWORD only. */
  password: str(''),
  tls: bool(false),
  tls_ca: str(''),
  tls_cert: str(''),
  tls_key: str(''),
  tls_servername: str(''),
  tls_insecure: bool(false),
  connect_timeout_ms: int(5000, 1),
};

export const sourceSection = z.strictObject({
  ...connection,
  /**
   * INDEX/COUNT: this process reads only its share of a cluster source's masters (sync, dump, rump, check); COUNT
   * processes with INDEX 0..COUNT-1 read every master once. Empty: every master.
   */
  shard: z
    .string()
    .regex(/^(\d+\/\d+)?$/, { error: (iss) => `${showValue(iss.input)} is not INDEX/COUNT (e.g. 0/3)` })
    .default(''),
});

export const targetSection = z.strictObject({
  ...connection,
  type: oneOf(['auto', 'standalone', 'cluster', 'proxy'] as const, 'auto'),
});

export const DECODE_FORMATS = ['jsonl', 'json', 'resp', 'keys', 'memory', 'rdb'] as const;
export type DecodeFormat = (typeof DECODE_FORMATS)[number];

export const decodeSection = z.strictObject({
  format: oneOf(DECODE_FORMATS, 'jsonl'),
  /** auto: printable UTF-8 as JSON strings, anything else {"base64":...}; base64: always base64. */
  strings: oneOf(['auto', 'base64'] as const, 'auto'),
  /** Elements per batch handed from the parser to the writer (bounds memory per big key). */
  batch_size: int(1024, 1, 1 << 20),
  /** At most this many elements per RPUSH/SADD/ZADD/HSET in --format resp. */
  resp_batch: int(128, 1, 1 << 20),
  verify_checksum: bool(true),
  /**
   * --format resp / rdb: the Redis version (X.Y) that will read the output; empty: the newest (resp) or the
   * input's own RDB version (rdb).
   */
  target_version: z
    .string()
    .regex(/^(\d+\.\d+)?$/, { error: (iss) => `${showValue(iss.input)} is not a Redis version as X.Y (e.g. 6.2)` })
    .default(''),
});

export const restoreSection = z.strictObject({
  on_conflict: oneOf(['replace', 'skip', 'error'] as const, 'error'),
  /** Keys whose serialized value is bigger than this are written as streamed commands, not one RESTORE. */
  big_key_threshold: bytes(16 * 1024 * 1024, 1),
  /** Commands per pipelined batch (one write) on each connection. */
  pipeline: int(1024, 1, 1 << 20),
  /** A target error for one key: stop (after draining) or skip (count it and go on). Either way exit 1. */
  on_error: oneOf(['stop', 'skip'] as const, 'stop'),
  /** Function libraries that already exist in the target: replace, skip or error. */
  functions: oneOf(['replace', 'skip', 'error'] as const, 'error'),
  /** Pipelined connections per target master. */
  connections: int(2, 1, 64),
  /** Batches written and not yet answered, per connection. */
  inflight_batches: int(4, 1, 1024),
  /** Source db -> target db, e.g. 0:5,1:6 or *:0 (empty: same db; a cluster or proxy needs one db). */
  db_map: str(''),
  /**
   * commands: shake writes every key. replication: the target loads the RDB file itself as a replica of shake
   * (an empty standalone target, one plain RDB file, no key selection or db map; see docs/restore.md). auto:
   * replication where it can, else commands.
   */
  load: oneOf(['commands', 'replication', 'auto'] as const, 'commands'),
  /** Load by replication: host[:port] shake listens on for the target (empty: the address it reaches us at). */
  listen: str(''),
});

export const dumpSection = z.strictObject({
  /** auto: replication, falling back to SCAN + DUMP when SYNC/PSYNC are refused; replication; scan. */
  mode: oneOf(['auto', 'replication', 'scan'] as const, 'auto'),
  /** Replication: no byte from the master (not even a keepalive) for this long fails the dump. */
  timeout_ms: int(60_000, 1),
  /** Replication: REPLCONF rdb-only 1 (7.0+), so the master sends no command stream after the RDB. */
  rdb_only: bool(true),
  /** Scan mode: SCAN COUNT hint, also the keys per pipelined DUMP batch. */
  scan_count: int(1000, 1, 1_000_000),
  /** fsync the file before renaming it into place. */
  fsync: bool(true),
});
export const rumpSection = z.strictObject({
  /** Keys per second read from each source node (0: unlimited); keeps the copy gentle on production. */
  rate: int(20_000, 0),
  /** DUMP payload bytes per second read from each source node (0: unlimited). */
  rate_bytes: bytes(0, 0),
  /** SCAN COUNT hint, also the keys per pipelined DUMP page. */
  scan_count: int(1000, 1, 1_000_000),
  /** A key that already exists in the target: replace (a re-run converges), skip or error. */
  on_conflict: oneOf(['replace', 'skip', 'error'] as const, 'replace'),
  /** A key the target refuses: skip (count it, go on; exit 1 at the end) or stop. */
  on_error: oneOf(['stop', 'skip'] as const, 'skip'),
  /** Function libraries already in the target. */
  functions: oneOf(['replace', 'skip', 'error'] as const, 'replace'),
  /** Cluster source: read a replica of each shard instead of its master. */
  prefer_replica: bool(false),
  /** After the pass, keep following the source with keyspace notifications until Ctrl-C. */
  live: bool(false),
  /** --live: check notify-keyspace-events first (CONFIG GET, else probe writes). */
  notify_check: bool(true),
  /** --live: a changed key is re-copied at most once per this many ms. */
  debounce_ms: int(100, 0, 60_000),
  /** --live: keys waiting for a re-copy, per node, before rump rescans the node instead. */
  max_pending: int(1_000_000, 1),
});
export const syncSection = z.strictObject({
  /** Snapshot file and command spool, one subdirectory per source master (the checkpoint is in the target). */
  state_dir: str('.shake-sync'),
  /** Checkpoint key name part (__shake:sync:<name>); empty: the source master's host:port. */
  name: str(''),
  /** A target that holds keys at the first start: error, or replace (keys the source has are overwritten). */
  on_conflict: oneOf(['replace', 'error'] as const, 'error'),
  /** Function libraries of the snapshot already in the target. */
  functions: oneOf(['replace', 'skip', 'error'] as const, 'replace'),
  /**
   * A command of the stream the target does not have or refuses: stop (the run ends, the key named) or skip
   * (counted with its key, the run goes on and exits 1 at the end).
   */
  on_error: oneOf(['stop', 'skip'] as const, 'stop'),
  /** Re-publish the PUBLISH commands of the replication stream on the target. */
  forward_publish: bool(false),
  /** Commands received and not yet applied, on disk, before the run fails. */
  spool_max_bytes: bytes(1024 * 1024 * 1024, 1),
  /** Commands per applied batch (one MULTI/EXEC with its checkpoint), in bytes. */
  batch_bytes: bytes(1024 * 1024, 1),
  /** No byte from the master (not even its PING) for this long: the link is dropped and resumed. */
  timeout_ms: int(60_000, 1),
  /** Reconnections (PSYNC from the checkpoint) after a dropped source link before the run fails. */
  reconnects: int(10, 0),
  /** After SIGINT/SIGTERM, keep applying what was received for at most this long. */
  stop_grace_ms: int(5000, 0),
});

export const checkSection = z.strictObject({
  /**
   * How a live source is read: auto (one replication snapshot per master, like a replica attaching; SCAN when the
   * source refuses SYNC/PSYNC or a rate limit is set), replication (fail when refused), scan (SCAN + per-key reads).
   */
  source_read: oneOf(['auto', 'replication', 'scan'] as const, 'auto'),
  /**
   * How the target is read when the source is read by replication: auto (one replication snapshot per target
   * master too, joined with the source's by key, only the keys that differ asked for live; per-key commands when
   * the target refuses SYNC/PSYNC), replication (fail when refused), commands (expiry, MEMORY USAGE and DUMP per key).
   */
  target_read: oneOf(['auto', 'replication', 'commands'] as const, 'auto'),
  /** Re-check rounds for keys that differ (live sources); only differences that persist are reported. */
  rounds: int(2, 0, 100),
  /** Milliseconds between re-check rounds. */
  interval_ms: int(1000, 0, 3_600_000),
  /** Also scan the target for keys the source does not have. */
  extra: bool(true),
  /** Compare function libraries. */
  functions: bool(true),
  /** SCAN COUNT hint on both sides, also the keys per pipelined page. */
  scan_count: int(1000, 1, 1_000_000),
  /** Keys using more memory than this (MEMORY USAGE, either side) are compared in chunks, not by DUMP. */
  big_key_threshold: bytes(8 * 1024 * 1024, 1),
  /** Elements per chunk of a big key (strings: KiB). */
  chunk: int(1000, 1, 1_000_000),
  /** Where one side reports only a relative TTL (before Redis 7.0): expiries this close (ms) are equal. */
  ttl_tolerance_ms: int(1000, 0),
  /** Keys per second read from each source master (0: unlimited). */
  rate: int(0, 0),
  /** Bytes per second read from each source master (0: unlimited). */
  rate_bytes: bytes(0, 0),
  /** Differing keys kept for the re-check rounds; more are reported as the first pass found them. */
  max_recheck: int(100_000, 0),
});

export const logSection = z.strictObject({
  /** Lines below this level are not written (error < warn < info < debug); --quiet raises info to warn. */
  level: oneOf(['error', 'warn', 'info', 'debug'] as const, 'info'),
  /** stderr as human lines (text) or one JSON object per line (json: time, level, event, message, fields). */
  format: oneOf(['text', 'json'] as const, 'text'),
  /** auto: a progress bar on stderr when it is a terminal; never: none. */
  progress: oneOf(['auto', 'never'] as const, 'auto'),
});

export const metricsSection = z.strictObject({
  /** GET /metrics (Prometheus text) and GET /status (JSON) on this port while a command runs; 0: off. */
  port: int(0, 0, 65535),
  /** Address to listen on (loopback by default: expose it on purpose). */
  bind: str('127.0.0.1'),
});

export const traceSection = z.strictObject({
  /** Record the bytes exchanged with the source and the target in this file (empty: off). Flag --trace. */
  file: str(''),
  /** Size of one trace file before it is rotated (FILE -> FILE.1 ...). */
  max_bytes: bytes(64 * 1024 * 1024, 1024),
  /** Trace files kept in all (FILE, FILE.1, ... FILE.<files-1>). */
  files: int(3, 1, 100),
  /** Bytes of one read or write shown (the rest is counted, not shown). */
  record_bytes: bytes(4096, 16),
});

export const configSchema = z.strictObject({
  source: sourceSection.prefault({}),
  target: targetSection.prefault({}),
  decode: decodeSection.prefault({}),
  restore: restoreSection.prefault({}),
  dump: dumpSection.prefault({}),
  rump: rumpSection.prefault({}),
  sync: syncSection.prefault({}),
  check: checkSection.prefault({}),
  log: logSection.prefault({}),
  metrics: metricsSection.prefault({}),
  trace: traceSection.prefault({}),
});

export type ShakeConfig = z.output<typeof configSchema>;
export type SectionName = keyof ShakeConfig;

export const SECTIONS = Object.keys(configSchema.shape) as SectionName[];

/** Keys that must never come from the command line (they would show in `ps` and shell history). */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['source.password', 'target.password']);

/** The keys of one section, as they appear in the INI file. */
export function sectionKeys(section: SectionName): string[] {
  return Object.keys(configSchema.shape[section].unwrap().shape);
}

/** Every default, as the schema yields it for an empty input. */
export function defaultConfig(): ShakeConfig {
  return configSchema.parse({});
}
