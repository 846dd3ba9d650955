/**
 * `shake dump` in replication mode for one master: be a replica just long enough to receive the full
 * resync snapshot, stream it into a temporary file (pausing the socket while the disk catches up),
 * check its header and CRC64 on the way, and rename the file into place only when all of it arrived
 * and verified. Memory stays bounded by the file writer's high-water mark, whatever the dataset size.
 */
import type { Duplex } from 'node:stream';
import { connect, type ConnectionOptions } from '../redis/index.js';
import { RdbFileOutput } from '../sinks/rdb-file.js';
import { ReplicationError } from './errors.js';
import { replicaHandshake, type FullResync } from './handshake.js';
import { ReplicaLink, type SnapshotConsumer } from './link.js';
import { SnapshotCheck, type SnapshotSummary } from './snapshot-check.js';

/** An authenticated socket to the master, ready for the handshake (and bytes already read past AUTH). */
export interface MasterSocket {
  socket: Duplex;
  leftover?: Buffer;
  /** host:port for messages. */
  peer: string;
  /** Our side's port, announced with REPLCONF listening-port. */
  localPort: number;
}

/** Connects and authenticates with shake's connection, then takes its raw socket for the replica link. */
export async function openMasterSocket(connection: ConnectionOptions): Promise<MasterSocket> {
  const conn = await connect(connection);
  const { socket, leftover } = conn.detach();
  return { socket, leftover, peer: conn.address, localPort: socket.localPort ?? 0 };
}

export interface SnapshotProgress {
  bytes: number;
  /** Known for the disk form ($<len>); null for diskless ($EOF). */
  total: number | null;
  elapsedMs: number;
}

export interface SnapshotDumpOptions {
  open: () => Promise<MasterSocket>;
  /** Destination file (written as a temporary file beside it, then renamed). */
  path: string;
  /** Idle timeout: no byte (not even a keepalive) for this long fails the dump ([dump] timeout_ms). */
  timeoutMs: number;
  /** REPLCONF rdb-only 1 (default true). */
  rdbOnly?: boolean;
  /** Verify header and CRC64 while streaming (default true). */
  verify?: boolean;
  /** File writer queue (default 4 MiB). */
  highWaterMark?: number;
  fsync?: boolean;
  onProgress?: (p: SnapshotProgress) => void;
  /** Called once, when the master starts sending (after its fork, possibly long after the handshake). */
  onTransferStart?: (info: { length: number | null; diskless: boolean; resync: FullResync | null }) => void;
  signal?: AbortSignal;
}

export interface SnapshotDumpResult {
  path: string;
  bytes: number;
  form: 'disk' | 'diskless';
  resync: FullResync;
  magic: 'REDIS' | 'VALKEY' | null;
  rdbVersion: number | null;
  checksum: bigint | null;
  elapsedMs: number;
}

const PROGRESS_INTERVAL_MS = 250;

export async function dumpSnapshot(opts: SnapshotDumpOptions): Promise<SnapshotDumpResult> {
  const started = Date.now();
  const out = await RdbFileOutput.open(opts.path, { highWaterMark: opts.highWaterMark, fsync: opts.fsync });
  let link: ReplicaLink | null = null;
  let onAbort: (() => void) | null = null;
  try {
    const master = await opts.open();
    link = new ReplicaLink(master.socket, master.peer, opts.timeoutMs, master.leftover);
    const activeLink = link;
    if (opts.signal) {
      if (opts.signal.aborted) throw new Error('dump interrupted');
      onAbort = () => activeLink.abort(new Error('dump interrupted'));
      opts.signal.addEventListener('abort', onAbort, { once: true });
    }
    const check = opts.verify !== false ? new SnapshotCheck() : null;
    let resync: FullResync | null = null;
    const file = fileSnapshotConsumer(activeLink, out, check, started, opts.onProgress, (info) =>
      opts.onTransferStart?.({ ...info, resync }),
    );
    resync = await replicaHandshake(link, { listeningPort: master.localPort, rdbOnly: opts.rdbOnly }, file.consumer);
    await link.snapshotDone();
    link.close();
    const summary = file.finish(master.peer);
    await out.commit();
    return {
      path: opts.path,
      bytes: file.bytes,
      form: file.form,
      resync,
      magic: summary?.magic ?? null,
      rdbVersion: summary?.rdbVersion ?? null,
      checksum: summary?.checksum ?? null,
      elapsedMs: Date.now() - started,
    };
  } catch (err) {
    link?.close();
    await out.abort();
    throw err;
  } finally {
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** A snapshot consumer writing into an RdbFileOutput (pausing the link while the disk catches up), checked. */
export interface FileSnapshot {
  consumer: SnapshotConsumer;
  readonly bytes: number;
  readonly form: 'disk' | 'diskless';
  /** After snapshotDone: the write error if any, else the header/CRC check (ReplicationError 'checksum'). */
  finish(peer: string): SnapshotSummary | null;
}

export function fileSnapshotConsumer(
  link: ReplicaLink,
  out: RdbFileOutput,
  check: SnapshotCheck | null,
  started: number,
  onProgress?: (p: SnapshotProgress) => void,
  onStart?: (info: { length: number | null; diskless: boolean }) => void,
): FileSnapshot {
  let form: 'disk' | 'diskless' = 'disk';
  let total: number | null = null;
  let bytes = 0;
  let lastProgress = 0;
  let writeError: Error | null = null;
  const consumer: SnapshotConsumer = {
    onStart: ({ length, diskless }) => {
      form = diskless ? 'diskless' : 'disk';
      total = length;
      onStart?.({ length, diskless });
    },
    onChunk: (piece) => {
      bytes += piece.length;
      check?.update(piece);
      const now = Date.now();
      if (onProgress && now - lastProgress >= PROGRESS_INTERVAL_MS) {
        lastProgress = now;
        onProgress({ bytes, total, elapsedMs: now - started });
      }
      let ok: boolean;
      try {
        ok = out.write(piece);
      } catch (err) {
        writeError ??= err as Error;
        link.abort(err as Error);
        return true;
      }
      if (!ok) {
        out.drained().then(
          () => link.resume(),
          (err: Error) => link.abort(err),
        );
      }
      return ok;
    },
    onEnd: () => {},
  };
  return {
    consumer,
    get bytes() {
      return bytes;
    },
    get form() {
      return form;
    },
    finish(peer: string): SnapshotSummary | null {
      if (writeError) throw writeError;
      onProgress?.({ bytes, total, elapsedMs: Date.now() - started });
      if (!check) return null;
      try {
        return check.finish();
      } catch (err) {
        throw new ReplicationError('checksum', `${peer}: ${(err as Error).message}`, peer);
      }
    },
  };
}
