/**
 * How one key is written to a live target: the ONE place that decides, shared by restore, sync and rump.
 *
 *   restore-raw     RESTORE of the body the parser captured (key-end.raw), restamped for the target's RDB
 *                   version: no re-encoding. Needs the type id to be loadable by the target.
 *   restore-encode  RESTORE of a body re-encoded from the parsed events by the value encoder, for a type the
 *                   target's RDB version can load (e.g. a 7.2 stream (21) re-encoded as 19 for 7.0).
 *   commands        the value rewritten as plain commands (src/rewrite), streamed batch by batch: for targets
 *                   that cannot RESTORE (proxies), values no RESTORE payload can carry to this target (hash
 *                   field TTLs before 7.4), and big keys (over the threshold), which are never one giant RESTORE.
 *
 * A key that comes as a DUMP payload body only (rump) first meets planForPayload (decode it or not).
 * Two moments: at key-start (before any value bytes: commands right away when the key is known to be big,
 * else buffer), and at key-end for a key that stayed under the threshold (RESTORE when the target can take
 * one that holds the whole value, else commands).
 */
import { RDB_TYPE, isTypeLoadableBy, type KeyHeader } from '@shake/rdb';
import type { TargetFeatures, TargetKind } from '../../rewrite/features.js';

export interface TargetProfile {
  kind: TargetKind;
  features: TargetFeatures;
  /** The RDB version the target writes (and the newest DUMP payload version it loads). */
  rdbVersion: number;
}

export type StartPlan = { how: 'buffer' } | { how: 'commands'; why: string } | { how: 'unsupported'; why: string };

export type EndPlan =
  | { how: 'restore-raw' }
  | { how: 'restore-encode' }
  | { how: 'commands'; why: string }
  | { how: 'unsupported'; why: string };

export interface StrategyOptions {
  /** Keys whose serialized size exceeds this are written as commands (bytes). */
  bigKeyThreshold: number;
  /**
   * Keys with more elements than this are written as commands too: a key waits for RESTORE as parsed
   * elements (a few hundred bytes of heap each, far more than their serialized size), so this bounds the
   * memory of one waiting key (and a RESTORE that would block the server for long).
   */
  bigKeyElements: number;
}

export const DEFAULT_BIG_KEY_ELEMENTS = 65_536;

/** A lower bound of what one element adds to a serialized collection: used to call a key big up front. */
const MIN_BYTES_PER_ELEMENT = 4;

const HASH_FIELD_TTL_TYPES: ReadonlySet<number> = new Set([
  RDB_TYPE.HASH_METADATA_PRE_GA,
  RDB_TYPE.HASH_LISTPACK_EX_PRE_GA,
  RDB_TYPE.HASH_METADATA,
  RDB_TYPE.HASH_LISTPACK_EX,
]);

export function hasFieldTtlLayout(h: KeyHeader): boolean {
  return h.type === 'hash' && HASH_FIELD_TTL_TYPES.has(h.rdbType);
}

/** The decision at key-start. `length` is key-start.length when the source knows it. */
export function planAtStart(
  h: KeyHeader,
  length: number | undefined,
  target: TargetProfile,
  opts: StrategyOptions,
): StartPlan {
  const f = target.features;
  if (h.type === 'module') {
    if (!f.restore)
      return { how: 'unsupported', why: 'a module value can only be restored with RESTORE (proxy target)' };
    return { how: 'buffer' };
  }
  if (h.type === 'stream' && !f.streams) {
    const why =
      target.kind === 'proxy' ? 'a proxy target takes no stream commands' : 'the target has no streams (Redis < 5.0)';
    return { how: 'unsupported', why };
  }
  if (length !== undefined && (length > opts.bigKeyElements || length * MIN_BYTES_PER_ELEMENT > opts.bigKeyThreshold)) {
    return { how: 'commands', why: 'big key' };
  }
  return { how: 'buffer' };
}

/** While buffering: true once the key has grown past the threshold (switch to commands, stream the rest). */
export function isBig(bufferedBytes: number, bufferedElements: number, opts: StrategyOptions): boolean {
  return bufferedBytes > opts.bigKeyThreshold || bufferedElements > opts.bigKeyElements;
}

/**
 * The decision at key-end for a buffered key. `raw` is the captured body (key-end.raw), `sourceRdbVersion`
 * the version of the file it came from (null when the source is not an RDB), `encodable` whether the value
 * encoder can write this value for the target (false e.g. for field TTLs the target's layouts cannot hold).
 */
export function planAtEnd(
  h: KeyHeader,
  raw: Buffer | undefined,
  sourceRdbVersion: number | null,
  target: TargetProfile,
  encodable: boolean,
): EndPlan {
  const f = target.features;
  if (!f.restore) {
    if (h.type === 'module') return { how: 'unsupported', why: 'a module value can only be restored with RESTORE' };
    return { how: 'commands', why: 'target takes no RESTORE' };
  }
  if (raw !== undefined && sourceRdbVersion !== null && canRestoreRaw(h.rdbType, sourceRdbVersion, target)) {
    return { how: 'restore-raw' };
  }
  if (h.type === 'module') {
    return { how: 'unsupported', why: 'module value without its raw bytes, or of a type the target cannot load' };
  }
  if (hasFieldTtlLayout(h) && target.rdbVersion < 12) {
    return { how: 'commands', why: 'hash field TTLs: no RESTORE payload for this target holds them' };
  }
  if (encodable) return { how: 'restore-encode' };
  return { how: 'commands', why: 'no RESTORE payload for this target can hold the value' };
}

/**
 * A raw body can be restamped for the target when the target's loader knows the type id as the source meant
 * it. (The version stamped on the payload becomes the target's own, so verifyDumpPayload accepts it.)
 */
export function canRestoreRaw(rdbType: number, sourceRdbVersion: number, target: TargetProfile): boolean {
  return isTypeLoadableBy(rdbType, sourceRdbVersion, target.rdbVersion);
}

export type PayloadPlan = { how: 'restore-raw' } | { how: 'decode'; why: 'version' | 'size' };

/**
 * The decision for a key that arrives as a DUMP payload body only (rump's SCAN + DUMP source), before any
 * value is decoded: send the body as is (restamped; planAtEnd then decides RESTORE or commands as for any key),
 * or decode it into value events first, because the target cannot load its type id (`version`) or because it
 * is over the big-key threshold and must stream as commands (`size`). A module value is never decoded (only
 * RESTORE can carry it; the sink reports it when the target cannot).
 */
export function planForPayload(
  h: KeyHeader,
  bodyBytes: number,
  payloadRdbVersion: number,
  target: TargetProfile,
  opts: Pick<StrategyOptions, 'bigKeyThreshold'>,
): PayloadPlan {
  if (h.type === 'module') return { how: 'restore-raw' };
  if (bodyBytes > opts.bigKeyThreshold) return { how: 'decode', why: 'size' };
  if (!canRestoreRaw(h.rdbType, payloadRdbVersion, target)) return { how: 'decode', why: 'version' };
  return { how: 'restore-raw' };
}
