/**
 * shake's Redis client, for every connection it makes at run time (control commands as well as the data path):
 * one net/tls socket, pipelined commands, FIFO reply matching, bounded in-flight work; built for hundreds of
 * thousands of RESTORE/DUMP/SCAN commands per second and for handing a socket to the replication client.
 * (ioredis is only a test dependency: the tests' independent client.)
 *
 * - `call(argv)` resolves with the reply; an error reply is a RespServerError VALUE (use `callOrThrow` to throw).
 * - `sendBatch(argvs)` writes the commands in one corked write and resolves with all replies in order.
 * - Calls made in the same tick are written together (one corked flush on the next tick).
 * - Bounded: at most `maxInflightCommands` / `maxInflightBytes` written and unanswered; the rest waits in a
 *   local queue. A producer bounds its memory with `await conn.ready()` before adding more work: it resolves
 *   at once under the limits; once they are reached it waits until pending work is below half of them (so
 *   work goes out in batches, not one command per reply), and while the socket's write buffer is full.
 * - Small commands (< 16 KiB) are encoded into a shared slab, larger ones are written as pieces so their
 *   payload Buffers are never copied. A batch may also hold EncodedCommands (commands the caller encoded
 *   itself): their bytes are written as they are and count as that many commands.
 * - An error reply that only the user can fix (NOAUTH, WRONGPASS, NOPERM) comes back with its message described
 *   (errors.ts describeRefusal: server, side, how to give the password), its `code` unchanged.
 * - The socket closing or failing rejects every pending call with a RedisConnectionError naming host:port.
 * - Replies hold zero-copy views into socket chunks: copy a small Buffer you keep for long.
 * - `detach()` / `takeOver()` hand the raw socket to a replication client (see there).
 */
import type { Socket } from 'node:net';
import {
  commandByteLength,
  EncodedCommands,
  encodeCommand,
  RespDecoder,
  RespServerError,
  writeCommand,
  type CommandArg,
  type RespDecoderOptions,
  type RespValue,
} from '@shake/resp';
import { describeReply, RedisConnectionError, type describeRefusal } from './errors.js';
import { Fifo } from './fifo.js';
import { CONNECTION_DEFAULTS, type ConnectionOptions } from './options.js';
import { addressOf } from './socket.js';

export type Reply = RespValue;
export type Argv = ReadonlyArray<CommandArg>;

const COPY_MAX = 16 * 1024;
const SLAB_SIZE = 256 * 1024;
const RESOLVED = Promise.resolve();
const NO_ARGV: Argv = [];

interface Batch {
  results: Reply[];
  left: number;
  settled: boolean;
  resolve(replies: Reply[]): void;
  reject(err: Error): void;
}

interface Command {
  argv: Argv;
  /** Pre-encoded commands (EncodedCommands.bytes): written as they are; `argv` is then empty. */
  raw: Buffer | null;
  /** Replies still expected: 1 for an argv, the run's count for pre-encoded commands. */
  replies: number;
  bytes: number;
  batch: Batch | null;
  /** Where the next reply goes in batch.results. */
  index: number;
  resolve: ((reply: Reply) => void) | null;
  reject: ((err: Error) => void) | null;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/** A socket handed over by `takeOver`: the new owner decodes with its own RespDecoder. */
export interface TakenOverSocket {
  socket: Socket;
  decoder: RespDecoder;
  /** Writes a command without expecting a reply slot (e.g. REPLCONF ACK); returns socket.write()'s answer. */
  send(argv: Argv): boolean;
}

export class RedisConnection {
  /** host:port, for messages. */
  readonly address: string;
  /** RESP3 pushes received and dropped (the data path speaks RESP2). */
  droppedPushes = 0;

  private readonly decoder: RespDecoder;
  private readonly maxCommands: number;
  private readonly maxBytes: number;
  private readonly queue = new Fifo<Command>();
  private readonly inflight = new Fifo<Command>();
  private queuedBytes = 0;
  private inflightBytes = 0;
  /** Commands (replies expected) queued / in flight: an EncodedCommands entry counts as its `count`. */
  private queuedReplies = 0;
  private inflightReplies = 0;
  private flushScheduled = false;
  private readyWaiters: Waiter[] = [];
  private idleWaiters: Waiter[] = [];
  private failure: RedisConnectionError | null = null;
  private lastSocketError: Error | null = null;
  private closing = false;
  private readonly who: Parameters<typeof describeRefusal>[1];

  private slab = Buffer.allocUnsafe(SLAB_SIZE);
  private slabStart = 0;
  private slabPos = 0;

  constructor(
    private readonly socket: Socket,
    opts: ConnectionOptions,
  ) {
    this.address = addressOf(opts);
    this.who = { address: this.address, side: opts.side, username: opts.username };
    this.maxCommands = opts.maxInflightCommands ?? CONNECTION_DEFAULTS.maxInflightCommands;
    this.maxBytes = opts.maxInflightBytes ?? CONNECTION_DEFAULTS.maxInflightBytes;
    this.decoder = new RespDecoder({
      onReply: (v) => this.onReply(v),
      onPush: () => this.droppedPushes++,
      maxBulkLength: opts.maxBulkLength,
    });
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  /** Our end's address of the socket (the address the server sees us at, without NAT). */
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  /** Commands written and not yet answered. */
  get inflightCount(): number {
    return this.inflightReplies;
  }

  /** Commands waiting to be written (over the in-flight limits or behind a full socket buffer). */
  get queuedCount(): number {
    return this.queuedReplies;
  }

  get closed(): boolean {
    return this.failure !== null;
  }

  call(argv: Argv): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Reply>((resolve, reject) => {
      this.enqueue({
        argv,
        raw: null,
        replies: 1,
        bytes: commandByteLength(argv),
        batch: null,
        index: 0,
        resolve,
        reject,
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(this.flush);
      }
    });
  }

  /** Like call, but an error reply rejects (with the RespServerError). */
  async callOrThrow(argv: Argv): Promise<Reply> {
    const reply = await this.call(argv);
    if (reply instanceof RespServerError) throw reply;
    return reply;
  }

  /** Writes all commands in one corked write (as far as the limits allow); resolves with the replies in order. */
  sendBatch(argvs: ReadonlyArray<Argv | EncodedCommands>): Promise<Reply[]> {
    if (this.failure) return Promise.reject(this.failure);
    let total = 0;
    for (const a of argvs) total += a instanceof EncodedCommands ? a.count : 1;
    if (total === 0) return Promise.resolve([]);
    return new Promise<Reply[]>((resolve, reject) => {
      const batch: Batch = {
        results: new Array<Reply>(total),
        left: total,
        settled: false,
        resolve,
        reject,
      };
      let index = 0;
      for (let i = 0; i < argvs.length; i++) {
        const a = argvs[i]!;
        if (a instanceof EncodedCommands) {
          if (a.count === 0) continue;
          this.enqueue({
            argv: NO_ARGV,
            raw: a.bytes,
            replies: a.count,
            bytes: a.bytes.length,
            batch,
            index,
            resolve: null,
            reject: null,
          });
          index += a.count;
        } else {
          this.enqueue({
            argv: a,
            raw: null,
            replies: 1,
            bytes: commandByteLength(a),
            batch,
            index: index++,
            resolve: null,
            reject: null,
          });
        }
      }
      this.flush();
    });
  }

  /** Resolves when there is room under the in-flight limits and the socket buffer is not full. */
  ready(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.hasRoom()) return RESOLVED;
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Resolves when every command sent so far has been answered. */
  idle(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queue.length === 0 && this.inflight.length === 0) return RESOLVED;
    return new Promise((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  /** Waits for pending replies, then closes the socket. */
  async close(): Promise<void> {
    if (this.failure) return;
    await this.idle().catch(() => {});
    if (this.failure) return;
    this.closing = true;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  /** Closes at once; pending calls reject with `err` (or a "closed" error). */
  destroy(err?: Error): void {
    this.fail(
      err instanceof RedisConnectionError
        ? err
        : new RedisConnectionError(
            `connection to ${this.address} destroyed${err ? `: ${err.message}` : ''}`,
            this.address,
            {
              cause: err,
            },
          ),
    );
    this.socket.destroy();
  }

  /**
   * Hands the raw socket (connected, authenticated, db selected) to a new owner, e.g. the replication client:
   * no command may be pending. The socket is returned paused with all of this connection's listeners removed;
   * `leftover` holds bytes received but not consumed (always empty here: replies are decoded as they arrive).
   * The new owner attaches its listeners and calls `socket.resume()`. This connection is unusable afterwards.
   */
  detach(): { socket: Socket; leftover: Buffer } {
    if (this.failure) throw this.failure;
    if (this.queue.length > 0 || this.inflight.length > 0 || !this.decoder.idle) {
      throw new Error(`cannot detach the connection to ${this.address}: commands still in flight`);
    }
    this.socket.pause();
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('drain', this.onDrain);
    this.socket.removeListener('error', this.onError);
    this.socket.removeListener('close', this.onClose);
    this.fail(new RedisConnectionError(`connection to ${this.address} was handed over (detach)`, this.address));
    return { socket: this.socket, leftover: Buffer.alloc(0) };
  }

  /**
   * detach(), then decode the socket with a fresh RespDecoder using `options` (e.g. skipNewlines for a
   * replica, and call `decoder.expectSnapshot(...)` from onReply of +FULLRESYNC). A RespError from the
   * decoder destroys the socket with it. The caller listens for the socket's 'close' / 'error'.
   */
  takeOver(options: RespDecoderOptions): TakenOverSocket {
    const { socket } = this.detach();
    const decoder = new RespDecoder(options);
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.write(chunk);
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
    socket.resume();
    return {
      socket,
      decoder,
      send: (argv) => {
        socket.cork();
        let ok = true;
        for (const piece of encodeCommand(argv)) ok = socket.write(piece);
        socket.uncork();
        return ok;
      },
    };
  }

  // ---- internals ----

  /** Room under the limits; waiters are only woken below half of them, so work is added in batches. */
  private hasRoom(fraction = 1): boolean {
    return (
      this.inflightReplies + this.queuedReplies < this.maxCommands * fraction &&
      this.inflightBytes + this.queuedBytes < this.maxBytes * fraction &&
      !this.socket.writableNeedDrain
    );
  }

  private enqueue(cmd: Command): void {
    this.queue.push(cmd);
    this.queuedBytes += cmd.bytes;
    this.queuedReplies += cmd.replies;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.failure || this.queue.length === 0) return;
    const socket = this.socket;
    socket.cork();
    while (this.queue.length > 0 && !socket.writableNeedDrain) {
      const cmd = this.queue.peek()!;
      if (
        this.inflight.length > 0 &&
        (this.inflightReplies >= this.maxCommands || this.inflightBytes + cmd.bytes > this.maxBytes)
      ) {
        break;
      }
      this.queue.shift();
      this.queuedBytes -= cmd.bytes;
      this.queuedReplies -= cmd.replies;
      this.inflight.push(cmd);
      this.inflightBytes += cmd.bytes;
      this.inflightReplies += cmd.replies;
      this.writeCommand(cmd);
    }
    this.flushSlab();
    socket.uncork();
  };

  private writeCommand(cmd: Command): void {
    if (cmd.raw !== null) {
      this.flushSlab();
      this.socket.write(cmd.raw);
    } else if (cmd.bytes <= COPY_MAX) {
      if (this.slabPos + cmd.bytes > this.slab.length) {
        this.flushSlab();
        this.slab = Buffer.allocUnsafe(SLAB_SIZE);
        this.slabStart = this.slabPos = 0;
      }
      this.slabPos = writeCommand(this.slab, this.slabPos, cmd.argv);
      if (this.slabPos - this.slabStart >= SLAB_SIZE / 4) this.flushSlab();
    } else {
      this.flushSlab();
      for (const piece of encodeCommand(cmd.argv)) this.socket.write(piece);
    }
  }

  /** Writes the encoded-but-unwritten part of the slab (a view: the slab is only ever appended to). */
  private flushSlab(): void {
    if (this.slabPos > this.slabStart) {
      this.socket.write(this.slab.subarray(this.slabStart, this.slabPos));
      this.slabStart = this.slabPos;
    }
  }

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.decoder.write(chunk);
    } catch (err) {
      this.destroy(
        new RedisConnectionError(`protocol error from ${this.address}: ${(err as Error).message}`, this.address, {
          cause: err,
        }),
      );
      return;
    }
    if (this.queue.length > 0) this.flush();
    this.wakeWaiters();
  };

  private onReply(reply: Reply): void {
    const cmd = this.inflight.peek();
    if (cmd === undefined) {
      this.destroy(
        new RedisConnectionError(`unexpected reply from ${this.address} with no command in flight`, this.address),
      );
      return;
    }
    this.inflightReplies--;
    if (--cmd.replies === 0) {
      this.inflight.shift();
      this.inflightBytes -= cmd.bytes;
    }
    if (reply instanceof RespServerError) reply = describeReply(reply, this.who);
    const batch = cmd.batch;
    if (batch === null) {
      cmd.resolve!(reply);
    } else {
      batch.results[cmd.index++] = reply;
      if (--batch.left === 0 && !batch.settled) {
        batch.settled = true;
        batch.resolve(batch.results);
      }
    }
  }

  private readonly onDrain = (): void => {
    if (this.queue.length > 0) this.flush();
    this.wakeWaiters();
  };

  private wakeWaiters(): void {
    if (this.readyWaiters.length > 0 && this.hasRoom(0.5)) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const w of waiters) w.resolve();
    }
    if (this.idleWaiters.length > 0 && this.queue.length === 0 && this.inflight.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w.resolve();
    }
  }

  private readonly onError = (err: Error): void => {
    this.lastSocketError = err;
  };

  private readonly onClose = (): void => {
    const pending = this.inflightReplies + this.queuedReplies;
    const why = this.lastSocketError ? `: ${this.lastSocketError.message}` : '';
    const what = this.closing && pending === 0 ? 'closed' : 'closed by the server or the network';
    this.fail(
      new RedisConnectionError(
        `connection to ${this.address} ${what}${why}${pending > 0 ? ` with ${pending} commands pending` : ''}`,
        this.address,
        { cause: this.lastSocketError ?? undefined },
      ),
    );
  };

  private fail(err: RedisConnectionError): void {
    if (this.failure) return;
    this.failure = err;
    for (const cmd of [...this.inflight.drain(), ...this.queue.drain()]) {
      if (cmd.batch === null) cmd.reject!(err);
      else if (!cmd.batch.settled) {
        cmd.batch.settled = true;
        cmd.batch.reject(err);
      }
    }
    this.inflightBytes = this.queuedBytes = 0;
    this.inflightReplies = this.queuedReplies = 0;
    const waiters = [...this.readyWaiters, ...this.idleWaiters];
    this.readyWaiters = [];
    this.idleWaiters = [];
    for (const w of waiters) w.reject(err);
  }
}
