/**
 * `shake dump` in replication mode for one master: be a replica just long enough to receive the full
 * resync snapshot, stream it into a temporary file (pausing the socket while the disk catches up),
 * check its header and CRC64 on the way, and rename the file into place only when all of it arrived
 * and verified. Memory stays bounded by the file writer's high-water mark, whatever the dataset size.
 */
import type { Duplex } from 'node:stream';
import { RdbFileOutput } from '../sinks/rdb-file.js';
import { ReplicationError } from './errors.js';
import { replicaHandshake, type FullResync } from './handshake.js';
import { ReplicaLink, type SnapshotConsumer } from './link.js';
import { SnapshotCheck } from './snapshot-check.js';

/** An authenticated socket to the master, ready for the handshake (and bytes already read past AUTH). */
export interface MasterSocket {
  socket: Duplex;
  leftover?: Buffer;
  /** host:port for messages. */
  peer: string;
  /** Our side's port, announced with REPLCONF listening-port. */
  localPort: number;
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
  /** Idle timeout: no byte (not even a keepalive) for this long fails the dump (default 60 s). */
  timeoutMs?: number;
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
    link = new ReplicaLink(master.socket, master.peer, opts.timeoutMs ?? 60_000, master.leftover);
    const activeLink = link;
    if (opts.signal) {
      if (opts.signal.aborted) throw new Error('dump interrupted');
      onAbort = () => activeLink.abort(new Error('dump interrupted'));
      opts.signal.addEventListener('abort', onAbort, { once: true });
    }
    const check = opts.verify !== false ? new SnapshotCheck() : null;
    let form: 'disk' | 'diskless' = 'disk';
    let total: number | null = null;
    let bytes = 0;
    let lastProgress = 0;
    let resync: FullResync | null = null;
    let writeError: Error | null = null;
    const consumer: SnapshotConsumer = {
      onStart: ({ length, diskless }) => {
        form = diskless ? 'diskless' : 'disk';
        total = length;
        opts.onTransferStart?.({ length, diskless, resync });
      },
      onChunk: (piece) => {
        bytes += piece.length;
        check?.update(piece);
        const now = Date.now();
        if (opts.onProgress && now - lastProgress >= PROGRESS_INTERVAL_MS) {
          lastProgress = now;
          opts.onProgress({ bytes, total, elapsedMs: now - started });
        }
        let ok: boolean;
        try {
          ok = out.write(piece);
        } catch (err) {
          writeError ??= err as Error;
          activeLink.abort(err as Error);
          return true;
        }
        if (!ok) {
          out.drained().then(
            () => activeLink.resume(),
            (err: Error) => activeLink.abort(err),
          );
        }
        return ok;
      },
      onEnd: () => {},
    };
    resync = await replicaHandshake(link, { listeningPort: master.localPort, rdbOnly: opts.rdbOnly }, consumer);
    await link.snapshotDone();
    link.close();
    if (writeError) throw writeError;
    opts.onProgress?.({ bytes, total, elapsedMs: Date.now() - started });
    let summary = null;
    if (check) {
      try {
        summary = check.finish();
      } catch (err) {
        throw new ReplicationError('checksum', `${master.peer}: ${(err as Error).message}`, master.peer);
      }
    }
    await out.commit();
    return {
      path: opts.path,
      bytes,
      form,
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
