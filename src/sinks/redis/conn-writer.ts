/**
 * One pipelined connection as the sink sees it: commands are appended to a batch, a full batch is written in
 * one go (TargetConnection.sendBatch), and replies are dispatched per command to a small tag object (the key
 * the command belongs to, or a shared handler), never one promise per key. In-flight batches are bounded:
 * `ready()` waits while the target is behind (backpressure); `drain()` waits for every reply.
 * The hot command (RESTORE of a small key) is not an argv at all: its encoder writes it straight into the
 * batch's slab (pushEncoded), so a key costs no argv array, no payload Buffer and no second encoding pass; its
 * argv is decoded back from those bytes only when its reply is an error (for the message, or to send it again).
 */
import { decodeCommands, EncodedCommands, type RespValue } from '@shake/resp';
import { defaultConfig, type ShakeConfig } from '../../config/schema.js';
import type { Argv } from '../../rewrite/key-rewriter.js';
import type { TargetConnection, TargetNode } from './target.js';

/**
 * Receives the reply of one command (`db`: the db the command ran in, for sending it again). For a command
 * pushed encoded (pushEncoded), `argv` is empty unless the reply is an error.
 */
export interface ReplyTag {
  onReply(reply: RespValue, argv: Argv, conn: ConnWriter, db: number): void;
  /** For a command pushed encoded: whether this (not an error) reply needs the argv too. */
  argvFor?(reply: RespValue): boolean;
}

/** A command that writes its own RESP bytes (see pushEncoded); set up per command, reused across commands. */
export interface CommandEncoder {
  /** Bytes `write` will write. */
  readonly length: number;
  /** Writes the command at `p`; returns the end (p + length). */
  write(target: Buffer, p: number): number;
  /** The same command as an argv (a command too big for the slab). */
  argv(): Argv;
}

/** Encoded commands go into slabs of this size; one bigger than a quarter of it is pushed as an argv. */
const SLAB_SIZE = 256 * 1024;
/**
 * Slabs kept for reuse per connection. A slab is free again once every batch written from it is answered (the
 * target has read all its bytes). Reused, the memory of a run stays what is in flight: fresh slabs would wait for
 * a garbage collection to be freed, and a run that makes few JS objects per byte (MSET batches) piled up ~40 MB.
 */
const SPARE_SLABS = 4;
const NO_ARGV: Argv = [];

export interface ConnLimits {
  /** Commands per batch (one write). */
  batchCommands: number;
  /** Payload bytes per batch. */
  batchBytes: number;
  /** Batches written but not yet answered. */
  maxInflightBatches: number;
}

/** Payload bytes per batch: a fixed bound (not a setting), so one batch never holds more than this. */
export const BATCH_BYTES = 1 << 20;

/** The limits from the [restore] settings (`pipeline`, `inflight_batches`), shared by restore, rump and sync. */
export function connLimitsOf(r: Pick<ShakeConfig['restore'], 'pipeline' | 'inflight_batches'>): ConnLimits {
  return { batchCommands: r.pipeline, batchBytes: BATCH_BYTES, maxInflightBatches: r.inflight_batches };
}

/** For library callers that give none: the schema's defaults. */
export const DEFAULT_CONN_LIMITS: ConnLimits = connLimitsOf(defaultConfig().restore);

/** Errors on SELECT / ASKING are not about any key: the connection is unusable. */
export class ConnectionFatalError extends Error {
  override readonly name = 'ConnectionFatalError';
}

const CONTROL_TAG: ReplyTag = {
  onReply(reply, argv, conn) {
    if (reply instanceof Error) {
      throw new ConnectionFatalError(`${String(argv[0])} failed on ${conn.node.addr}: ${reply.message}`);
    }
  },
};

/**
 * What a queued command costs in memory: its bytes plus the JS objects behind each argument (a Buffer view
 * is ~100 bytes of heap), so a batch of many tiny arguments is bounded as well as one of big ones.
 */
export function argvBytes(argv: Argv): number {
  let n = 64;
  for (const a of argv) n += a.length + 48;
  return n;
}

export class ConnWriter {
  /** The db this connection will be in once everything queued has run (-1: unknown, SELECT before use). */
  db = 0;
  /** What the current batch sends: argvs, and runs of encoded commands (views of the slab). */
  private items: (Argv | EncodedCommands)[] = [];
  /** Per command of the current batch: its argv (null: encoded, at [starts, ends) of bufs), its tag. */
  private argvs: (Argv | null)[] = [];
  private bufs: (Buffer | null)[] = [];
  private starts: number[] = [];
  private ends: number[] = [];
  private tags: (ReplyTag | null)[] = [];
  private slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE);
  private slabPos = 0;
  /** Batches written from each slab and not answered yet; slabs free for reuse. */
  private readonly slabUsers = new Map<Buffer, number>();
  private readonly spareSlabs: Buffer[] = [];
  /** The slabs the current batch writes from. */
  private batchSlabs: Buffer[] = [];
  /** Start of the encoded run not yet closed into `items`, and how many commands it holds. */
  private runStart = 0;
  private runCount = 0;
  /** The db the current batch starts in (its SELECTs change it as the replies are read). */
  private batchDb = 0;
  private bytes = 0;
  private inflight = 0;
  private inflightBytes = 0;
  private waiters: (() => void)[] = [];
  private fatal: Error | null = null;

  constructor(
    readonly node: TargetNode,
    private readonly conn: TargetConnection,
    private readonly limits: ConnLimits,
    /** Whether SELECT may be sent (standalone); else every db must be 0. */
    private readonly canSelect: boolean,
  ) {}

  get inflightCount(): number {
    return this.inflight;
  }

  /** True when the caller should `await ready()` before queueing more (the target is behind). */
  get busy(): boolean {
    return this.inflight >= this.limits.maxInflightBatches || this.fatal !== null;
  }

  /** Bytes queued or in flight on this connection. */
  get pendingBytes(): number {
    return this.bytes + this.inflightBytes;
  }

  /** Appends one command (preceded by SELECT when `db` differs from the connection's). */
  push(argv: Argv, tag: ReplyTag | null, db: number | null = null): void {
    if (this.fatal) throw this.fatal;
    if (db !== null && db !== this.db) this.select(db);
    this.add(argv, tag);
  }

  /**
   * Appends one command that encodes itself into the batch's slab (like push; the encoder is read at once and
   * may be reused for the next command). A command bigger than a quarter of the slab goes as its argv.
   */
  pushEncoded(cmd: CommandEncoder, tag: ReplyTag | null, db: number): void {
    if (this.fatal) throw this.fatal;
    if (db !== this.db) this.select(db);
    const n = cmd.length;
    if (n > SLAB_SIZE / 4) {
      this.add(cmd.argv(), tag);
      return;
    }
    if (this.argvs.length === 0) this.batchDb = this.db;
    if (this.slabPos + n > this.slab.length) {
      this.closeRun();
      const old = this.slab;
      this.slab = this.spareSlabs.pop() ?? Buffer.allocUnsafe(SLAB_SIZE);
      this.slabPos = this.runStart = 0;
      if (!this.slabUsers.has(old) && !this.batchSlabs.includes(old)) this.spare(old);
    }
    if (this.batchSlabs[this.batchSlabs.length - 1] !== this.slab) this.batchSlabs.push(this.slab);
    const start = this.slabPos;
    const end = cmd.write(this.slab, start);
    this.slabPos = end;
    this.runCount++;
    this.argvs.push(null);
    this.bufs.push(this.slab);
    this.starts.push(start);
    this.ends.push(end);
    this.tags.push(tag);
    this.bytes += n + 64;
    if (this.argvs.length >= this.limits.batchCommands || this.bytes >= this.limits.batchBytes) this.flush();
  }

  private select(db: number): void {
    if (!this.canSelect) throw new ConnectionFatalError(`db ${db} on a target that has only db 0`);
    this.add(['SELECT', String(db)], CONTROL_TAG);
    this.db = db;
  }

  /** Closes the encoded run into the batch's items (before an argv, at a new slab, at flush). */
  private closeRun(): void {
    if (this.runCount === 0) return;
    this.items.push(new EncodedCommands(this.slab.subarray(this.runStart, this.slabPos), this.runCount));
    this.runStart = this.slabPos;
    this.runCount = 0;
  }

  /** Appends ASKING + the command (cluster ASK redirection). */
  pushAsking(argv: Argv, tag: ReplyTag | null): void {
    this.add(['ASKING'], CONTROL_TAG);
    this.add(argv, tag);
  }

  private add(argv: Argv, tag: ReplyTag | null): void {
    if (this.argvs.length === 0) this.batchDb = this.db;
    this.closeRun();
    this.items.push(argv);
    this.argvs.push(argv);
    this.bufs.push(null);
    this.starts.push(0);
    this.ends.push(0);
    this.tags.push(tag);
    this.bytes += argvBytes(argv);
    if (this.argvs.length >= this.limits.batchCommands || this.bytes >= this.limits.batchBytes) this.flush();
  }

  /** Writes the current batch (if any) without waiting for its replies. */
  flush(): void {
    if (this.argvs.length === 0) return;
    this.closeRun();
    const { items, argvs, bufs, starts, ends, tags } = this;
    const bytes = this.bytes;
    const slabs = this.batchSlabs;
    this.batchSlabs = [];
    for (const b of slabs) this.slabUsers.set(b, (this.slabUsers.get(b) ?? 0) + 1);
    let db = this.batchDb;
    this.items = [];
    this.argvs = [];
    this.bufs = [];
    this.starts = [];
    this.ends = [];
    this.tags = [];
    this.bytes = 0;
    this.inflight++;
    this.inflightBytes += bytes;
    this.conn.sendBatch(items).then(
      (replies) => {
        try {
          for (let i = 0; i < argvs.length; i++) {
            const tag = tags[i];
            const reply = replies[i] ?? null;
            let argv = argvs[i] as Argv | null;
            if (argv === null) {
              argv =
                reply instanceof Error || tag?.argvFor?.(reply) === true
                  ? encodedArgv(bufs[i] as Buffer, starts[i] as number, ends[i] as number)
                  : NO_ARGV;
            }
            if (tag === CONTROL_TAG && argv[0] === 'SELECT') db = Number(argv[1]);
            if (tag) tag.onReply(reply, argv, this, db);
          }
        } catch (err) {
          this.fatal ??= err instanceof Error ? err : new Error(String(err));
        }
        this.release(slabs);
        this.settle(bytes);
      },
      (err: unknown) => {
        this.fatal ??= err instanceof Error ? err : new Error(String(err));
        this.settle(bytes);
      },
    );
  }

  /** A batch is answered: its slabs are free once no other batch writes from them and they are not current. */
  private release(slabs: Buffer[]): void {
    for (const b of slabs) {
      const n = (this.slabUsers.get(b) ?? 1) - 1;
      if (n > 0) {
        this.slabUsers.set(b, n);
        continue;
      }
      this.slabUsers.delete(b);
      if (b !== this.slab && !this.batchSlabs.includes(b)) this.spare(b);
    }
  }

  private spare(slab: Buffer): void {
    if (this.spareSlabs.length < SPARE_SLABS) this.spareSlabs.push(slab);
  }

  private settle(bytes: number): void {
    this.inflight--;
    this.inflightBytes -= bytes;
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once fewer than the allowed batches are in flight (backpressure); throws a connection failure. */
  async ready(): Promise<void> {
    while (this.inflight >= this.limits.maxInflightBatches && !this.fatal) await this.wait();
    if (this.fatal) throw this.fatal;
  }

  /** Flushes and waits until every reply has arrived and been handled. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inflight > 0) await this.wait();
    if (this.fatal) throw this.fatal;
  }

  /**
   * Waits until `done()` holds (checked each time a batch's replies have been handled) or nothing is in flight
   * any more; throws a connection failure. Flush first what `done()` waits for.
   */
  async until(done: () => boolean): Promise<void> {
    while (!done() && this.inflight > 0 && !this.fatal) await this.wait();
    if (this.fatal) throw this.fatal;
  }

  /** Sends one batch outside the pipeline's bookkeeping and waits for it (pre-checks, control commands). */
  direct(argvs: readonly Argv[]): Promise<RespValue[]> {
    this.flush();
    return this.conn.sendBatch(argvs);
  }
}

/**
 * The argv of an encoded command, decoded back from a copy of its bytes (its reply was an error): the decoder's
 * arguments are views, and the slab is reused once the batch is answered while a retry may hold the argv.
 */
function encodedArgv(buf: Buffer, start: number, end: number): Argv {
  return decodeCommands(Buffer.from(buf.subarray(start, end)))[0] as Argv;
}
