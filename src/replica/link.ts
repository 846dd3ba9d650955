/**
 * One replication link to a master, on a socket already connected and authenticated: send handshake
 * commands, read their replies, then receive the snapshot ($<len> or diskless $EOF:<mark>) through
 * RespDecoder.expectSnapshot. Keepalive newlines (replication.c replicationCron sends one per second to
 * replicas waiting for the fork) are skipped by the decoder and count as activity for the idle timeout,
 * like the master's own repl_transfer_lastio bookkeeping.
 *
 * Backpressure: the snapshot consumer's onChunk returns false when its output is full; the socket is then
 * paused until `resume()`, and the idle timeout does not run while we are the slow side.
 */
import type { Duplex } from 'node:stream';
import { encodeCommand, RespDecoder, RespServerError, type RespValue } from '@shake/resp';
import { ReplicationError } from './errors.js';

export interface SnapshotConsumer {
  onStart(info: { length: number | null; diskless: boolean }): void;
  /** RDB bytes in order (never the EOF mark). Return false to pause the socket until `resume()`. */
  onChunk(piece: Buffer): boolean;
  onEnd(): void;
}

/** Receives the master's command stream after the snapshot (what `shake sync` replays). */
export interface CommandStreamHandler {
  /**
   * One command (argv as the master propagated it: SELECT, writes, PING, MULTI/EXEC...), with the replication
   * offset just past it. Return false to pause the socket until `resume()`.
   */
  onCommand(argv: Buffer[], offset: number): boolean;
  /** The link failed (closed, timed out, bad bytes): no more commands will come. */
  onError(err: Error): void;
}

type Waiter = { resolve: (v: RespValue) => void; reject: (e: Error) => void; what: string };

export class ReplicaLink {
  private readonly decoder: RespDecoder;
  private waiter: Waiter | null = null;
  private snapshotWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private consumer: SnapshotConsumer | null = null;
  /** Set right before the reply that starts the transfer (+FULLRESYNC) is decoded. */
  private snapshotAfterReply: SnapshotConsumer | null = null;
  private snapshotBytes = 0;
  private snapshotLength: number | null = null;
  private failure: Error | null = null;
  private lastIo = Date.now();
  private paused = false;
  private readonly watchdog: NodeJS.Timeout;
  private closed = false;
  private snapshotEnded = false;
  private stream: CommandStreamHandler | null = null;
  /** Replication offset where the command stream starts (the +FULLRESYNC offset). */
  private streamBase = 0;
  private ackTimer: NodeJS.Timeout | null = null;
  /** Decoder offset where the command stream starts after +CONTINUE (no snapshot before it). */
  private streamStartAt: number | null = null;
  /** `holdStream()` was called: commands arriving before startCommandStream are kept here (socket paused). */
  private early: { argv: Buffer[]; offset: number }[] | null = null;
  /** What REPLCONF ACK reports (default: the bytes of the stream processed). */
  private ackOffset: (() => number) | null = null;

  constructor(
    readonly socket: Duplex,
    readonly peer: string,
    private readonly timeoutMs: number,
    leftover?: Buffer,
  ) {
    this.decoder = new RespDecoder({ onReply: (v) => this.onReply(v), skipNewlines: true });
    socket.on('data', this.onData);
    socket.on('end', this.onClose);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
    this.watchdog = setInterval(() => this.checkIdle(), Math.min(1000, Math.max(50, timeoutMs / 4)));
    this.watchdog.unref();
    if (leftover && leftover.length > 0) this.onData(leftover);
    socket.resume();
  }

  /** Bytes of the snapshot received so far. */
  get receivedSnapshotBytes(): number {
    return this.snapshotBytes;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.lastIo = Date.now();
    if (this.failure) return;
    try {
      this.decoder.write(chunk);
    } catch (err) {
      this.fail(new ReplicationError('protocol', `bad bytes from ${this.peer}: ${(err as Error).message}`, this.peer));
    }
  };

  private readonly onClose = (): void => {
    if (this.closed) return;
    const inSnapshot = this.consumer !== null;
    const got =
      this.snapshotLength !== null ? `${this.snapshotBytes} of ${this.snapshotLength}` : `${this.snapshotBytes}`;
    const message = inSnapshot
      ? `${this.peer} closed the connection after ${got} bytes of the snapshot; the master may have dropped ` +
        'this replica (client-output-buffer-limit replica, or repl-timeout): check its log'
      : `${this.peer} closed the connection${this.waiter ? ` while waiting for the ${this.waiter.what} reply` : ''}`;
    this.fail(new ReplicationError('closed', message, this.peer));
  };

  private readonly onError = (err: Error): void => {
    this.fail(new ReplicationError('closed', `connection to ${this.peer} failed: ${err.message}`, this.peer));
  };

  private checkIdle(): void {
    if (this.paused || this.failure || (!this.waiter && !this.snapshotWaiter && !this.stream)) {
      this.lastIo = Date.now();
      return;
    }
    if (Date.now() - this.lastIo < this.timeoutMs) return;
    const what = this.waiter ? `the ${this.waiter.what} reply` : this.stream ? 'the command stream' : 'snapshot data';
    const hint = this.consumer ? '' : ' (is the master still forking for BGSAVE? raise the timeout)';
    this.fail(
      new ReplicationError(
        'timeout',
        `no data from ${this.peer} for ${Math.round(this.timeoutMs / 1000)} s while waiting for ${what}${hint}`,
        this.peer,
      ),
    );
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const w = this.waiter;
    const s = this.snapshotWaiter;
    this.waiter = null;
    this.snapshotWaiter = null;
    w?.reject(err);
    s?.reject(err);
    this.stream?.onError(err);
  }

  private onReply(value: RespValue): void {
    if (this.stream) return this.onStreamed(value);
    if (this.early !== null && !this.waiter && (this.snapshotEnded || this.streamStartAt !== null)) {
      return this.onEarly(value);
    }
    const next = this.snapshotAfterReply;
    if (next) {
      this.snapshotAfterReply = null;
      if (typeof value === 'string' && value.startsWith('FULLRESYNC')) this.expectSnapshot(next);
      // +CONTINUE: no snapshot, the command stream starts right after this line.
      if (typeof value === 'string' && value.startsWith('CONTINUE')) this.streamStartAt = this.decoder.offset;
    }
    const w = this.waiter;
    this.waiter = null;
    if (w) w.resolve(value);
    else this.fail(new ReplicationError('protocol', `unexpected reply from ${this.peer}: ${String(value)}`, this.peer));
  }

  private streamedCommand(value: RespValue): Buffer[] | null {
    if (!Array.isArray(value) || !value.every((a) => Buffer.isBuffer(a))) {
      this.fail(
        new ReplicationError('protocol', `${this.peer} sent a non-command in the replication stream`, this.peer),
      );
      return null;
    }
    return value as Buffer[];
  }

  /** A command that arrived before startCommandStream (same chunk as the snapshot's end or +CONTINUE). */
  private onEarly(value: RespValue): void {
    const argv = this.streamedCommand(value);
    if (!argv) return;
    this.early!.push({ argv, offset: this.replicationOffset });
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private onStreamed(value: RespValue): void {
    const argv = this.streamedCommand(value);
    if (!argv) return;
    this.deliver(argv, this.replicationOffset);
  }

  private deliver(argv: Buffer[], offset: number): void {
    const first = argv[0];
    if (first && first.length === 8 && first.toString('latin1').toUpperCase() === 'REPLCONF') {
      // REPLCONF GETACK *: the master wants our offset now (it is part of the stream and counted).
      if (argv[1]?.toString('latin1').toUpperCase() === 'GETACK') this.sendAck();
      return;
    }
    if (!this.stream!.onCommand(argv, offset) && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /**
   * Bytes of the command stream processed, counted from the stream's initial offset (+FULLRESYNC offset, or
   * the offset +CONTINUE resumed at).
   */
  get replicationOffset(): number {
    const end = this.decoder.snapshotEndOffset ?? this.streamStartAt ?? this.decoder.offset;
    return this.streamBase + (this.decoder.offset - end);
  }

  /**
   * Keep the command stream that follows the snapshot (or +CONTINUE) until startCommandStream: call before
   * PSYNC when the caller wants the stream (`shake sync`), so commands in the same chunk as the snapshot's
   * end are not taken for unexpected replies. The socket is paused meanwhile.
   */
  holdStream(): void {
    this.early ??= [];
  }

  /**
   * After the snapshot (handshake with rdbOnly false): decode the master's command stream, starting at
   * `initialOffset` (FullResync.offset). Sends REPLCONF ACK at once (a diskless master starts streaming on
   * the first ACK: replication.c repl_start_cmd_stream_on_ack) and then every `ackIntervalMs`, and answers
   * REPLCONF GETACK.
   */
  startCommandStream(
    initialOffset: number,
    handler: CommandStreamHandler,
    ackIntervalMs = 1000,
    ackOffset?: () => number,
  ): void {
    if (!this.snapshotEnded && this.streamStartAt === null) {
      throw new Error('ReplicaLink: the command stream starts after the snapshot (or +CONTINUE)');
    }
    this.stream = handler;
    this.ackOffset = ackOffset ?? null;
    // The link failed while the stream was held (bad bytes in the same chunk as +CONTINUE): say so now.
    if (this.failure) {
      handler.onError(this.failure);
      return;
    }
    // Offsets of commands held so far were counted from 0: shift them to the initial offset.
    const early = this.early ?? [];
    const shift = initialOffset - this.streamBase;
    this.streamBase = initialOffset;
    this.early = null;
    for (const e of early) {
      if (this.failure) return;
      this.deliver(e.argv, e.offset + shift);
    }
    this.sendAck();
    this.ackTimer = setInterval(() => this.sendAck(), ackIntervalMs);
    this.ackTimer.unref();
    if (early.length > 0 && !this.failure) this.resume();
  }

  /** Sends REPLCONF ACK now (the ack offset provider's value, else the bytes processed). */
  sendAck(): void {
    if (this.failure || this.closed) return;
    const offset = this.ackOffset ? this.ackOffset() : this.replicationOffset;
    for (const part of encodeCommand(['REPLCONF', 'ACK', String(offset)])) this.socket.write(part);
  }

  /** Sends a command and waits for its reply (error replies are RespServerError values, not thrown). */
  command(argv: ReadonlyArray<string | Buffer>, what = String(argv[0])): Promise<RespValue> {
    return this.send(argv, what, null);
  }

  /** PSYNC: when the reply is +FULLRESYNC, the bytes right after it are read as the snapshot. */
  psync(argv: ReadonlyArray<string | Buffer>, consumer: SnapshotConsumer): Promise<RespValue> {
    return this.send(argv, 'PSYNC', consumer);
  }

  /**
   * SYNC (no reply line: the snapshot, or an error, comes straight away). `mapError` turns an error line
   * in place of the snapshot into the error to report (default: 'aborted').
   */
  sync(consumer: SnapshotConsumer, mapError?: (err: RespServerError) => Error): void {
    this.expectSnapshot(consumer, mapError);
    for (const part of encodeCommand(['SYNC'])) this.socket.write(part);
  }

  private send(
    argv: ReadonlyArray<string | Buffer>,
    what: string,
    snapshot: SnapshotConsumer | null,
  ): Promise<RespValue> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error('ReplicaLink: one command at a time'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject, what };
      this.snapshotAfterReply = snapshot;
      this.lastIo = Date.now();
      for (const part of encodeCommand(argv)) this.socket.write(part);
    });
  }

  private expectSnapshot(consumer: SnapshotConsumer, mapError?: (err: RespServerError) => Error): void {
    this.decoder.expectSnapshot({
      onSnapshotStart: ({ length, eofMark }) => {
        this.consumer = consumer;
        this.snapshotLength = length;
        consumer.onStart({ length, diskless: eofMark !== null });
      },
      onSnapshotChunk: (piece) => {
        this.snapshotBytes += piece.length;
        if (!consumer.onChunk(piece) && !this.paused) {
          this.paused = true;
          this.socket.pause();
        }
      },
      onSnapshotEnd: () => {
        this.consumer = null;
        consumer.onEnd();
        const s = this.snapshotWaiter;
        this.snapshotWaiter = null;
        this.snapshotEnded = true;
        s?.resolve();
      },
      onSnapshotError: (err: RespServerError) => {
        this.fail(
          mapError?.(err) ??
            new ReplicationError('aborted', `${this.peer} aborted the transfer: ${err.message}`, this.peer),
        );
      },
    });
  }

  /** Resolves when the whole snapshot has been handed to the consumer. */
  snapshotDone(): Promise<void> {
    if (this.snapshotEnded) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.snapshotWaiter = { resolve, reject };
      this.lastIo = Date.now();
    });
  }

  /** Resumes a socket paused by backpressure. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.lastIo = Date.now();
    this.socket.resume();
  }

  /** Fails whatever is waiting with `err` (interrupt, local write error) and closes the socket. */
  abort(err: Error): void {
    this.fail(err);
    this.close();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.watchdog);
    if (this.ackTimer) clearInterval(this.ackTimer);
    this.socket.off('data', this.onData);
    this.socket.destroy();
  }
}
