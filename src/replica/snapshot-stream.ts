/**
 * A master's full-resync snapshot as an async iterable of RDB chunks, for a reader that parses it as it arrives
 * (`shake check` reading a live source once): the same link and handshake as `shake dump` (rdb-only), no file.
 * Backpressure: chunks queue up to `highWaterMark` bytes, then the socket is paused until the reader has
 * taken them (the master's disk or diskless transfer simply waits, as for a slow replica).
 * The CRC-64 is left to the reader's parser (@shake/rdb checks it at the EOF opcode).
 */
import { ReplicationError } from './errors.js';
import { replicaHandshake, type FullResync } from './handshake.js';
import { ReplicaLink, type SnapshotConsumer } from './link.js';
import type { MasterSocket } from './snapshot-dump.js';

export interface SnapshotStreamOptions {
  open: () => Promise<MasterSocket>;
  /** Idle timeout: no byte (not even a keepalive) for this long fails the transfer. */
  timeoutMs: number;
  /** Bytes queued before the socket is paused (default 4 MiB). */
  highWaterMark?: number;
  signal?: AbortSignal;
}

export interface SnapshotStream {
  /** The RDB bytes, in order; throws ReplicationError when the link fails. Ends the link when left early. */
  chunks: AsyncIterable<Buffer>;
  resync: FullResync;
  peer: string;
  /** Bytes received so far. */
  readonly bytes: number;
  /** Ends the link (a stream whose chunks were never read, e.g. when another side refused). */
  close(): void;
}

/**
 * Connects, does the replica handshake (REPLCONF rdb-only 1, PSYNC ? -1, or SYNC) and returns once the master
 * accepted (a refusal throws ReplicationError 'refused' here, before any byte of data). The transfer starts
 * after the master's fork; read `chunks` to receive it.
 */
export async function openSnapshotStream(opts: SnapshotStreamOptions): Promise<SnapshotStream> {
  const master = await opts.open();
  const link = new ReplicaLink(master.socket, master.peer, opts.timeoutMs, master.leftover);
  const limit = opts.highWaterMark ?? 4 * 1024 * 1024;
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  let started: () => void = () => {};
  const transferStarted = new Promise<void>((resolve) => (started = resolve));
  const consumer: SnapshotConsumer = {
    onStart: () => started(),
    onChunk: (piece) => {
      queue.push(piece);
      queued += piece.length;
      notify();
      return queued < limit;
    },
    onEnd: () => {
      ended = true;
      notify();
    },
  };
  const onAbort = (): void => link.abort(new Error('check interrupted'));
  let resync: FullResync;
  try {
    if (opts.signal?.aborted) throw new Error('check interrupted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    resync = await replicaHandshake(link, { listeningPort: master.localPort, rdbOnly: true }, consumer);
    // SYNC (PSYNC unknown) answers with the snapshot or an error line: a refusal shows only then.
    if (resync.via === 'sync') await Promise.race([transferStarted, link.snapshotDone()]);
  } catch (err) {
    opts.signal?.removeEventListener('abort', onAbort);
    link.close();
    throw err;
  }
  const done = link.snapshotDone();
  done.then(
    () => notify(),
    (err: Error) => {
      failure = err;
      notify();
    },
  );
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        if (queue.length > 0) {
          const piece = queue.shift()!;
          queued -= piece.length;
          if (queued < limit / 2) link.resume();
          yield piece;
          continue;
        }
        if (failure) throw failure;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      link.close();
    }
  }
  return {
    chunks: chunks(),
    resync,
    peer: master.peer,
    get bytes() {
      return link.receivedSnapshotBytes;
    },
    close() {
      opts.signal?.removeEventListener('abort', onAbort);
      link.close();
    },
  };
}

/** The source will not let us be a replica (SYNC/PSYNC renamed away, -NOPERM): read it another way. */
export function isRefusal(err: unknown): err is ReplicationError {
  return err instanceof ReplicationError && err.kind === 'refused';
}
