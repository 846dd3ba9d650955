/** Options of RespDecoder and the handler of a replication snapshot (see decoder.ts). */
import type { RespServerError, RespValue } from './types.js';

export interface RespDecoderOptions {
  onReply(value: RespValue): void;
  /** A top-level RESP3 push (`>`). Without it pushes go to onReply as arrays. */
  onPush?(value: RespValue[]): void;
  /** A RESP3 attribute (`|`) that preceded a value (top level or nested). Without it attributes are dropped. */
  onAttribute?(attributes: Map<RespValue, RespValue> | Array<[RespValue, RespValue]>): void;
  /** Top-level bulks longer than this many bytes are streamed (needs onBulkChunk). Default: never. */
  bulkStreamThreshold?: number;
  onBulkStart?(length: number): void;
  onBulkChunk?(piece: Buffer): void;
  onBulkEnd?(): void;
  /** Longest accepted bulk string (default 512 MiB, Redis's proto-max-bulk-len). */
  maxBulkLength?: number;
  /** Most elements in one aggregate (default 2^32 - 1; memory grows only with bytes actually received). */
  maxArrayLength?: number;
  /** Deepest aggregate nesting (default 128). */
  maxNesting?: number;
  /** Longest simple line (`+`, `-`, `:` ...), default 1 MiB. */
  maxLineLength?: number;
  /** `%` maps as Map (default) or as an array of [key, value] pairs. */
  mapAs?: 'map' | 'pairs';
  /**
   * Skip empty lines (`\n` or `\r\n`) between top-level replies: a master sends them as keepalives while a
   * replica waits for the PSYNC reply. Off by default (strict). Also settable later: `decoder.skipNewlines`.
   */
  skipNewlines?: boolean;
}

/** Receives a replication RDB transfer announced with `expectSnapshot`. */
export interface SnapshotHandler {
  /** `length` for the `$<len>` form, `eofMark` (40 bytes) for the diskless `$EOF:<mark>` form. */
  onSnapshotStart(info: { length: number | null; eofMark: Buffer | null }): void;
  /** RDB bytes, in order; never includes the EOF mark. */
  onSnapshotChunk(piece: Buffer): void;
  onSnapshotEnd(): void;
  /** The master answered with `-ERR ...` instead of a transfer. Without it the error goes to onReply. */
  onSnapshotError?(error: RespServerError): void;
}
