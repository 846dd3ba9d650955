/**
 * The shared machinery of the Redis sink: the pipelined writers of every master, key -> node routing,
 * re-sending commands that a cluster redirected (MOVED: refresh the slot map, re-route; ASK: ASKING on the
 * named node; TRYAGAIN/CLUSTERDOWN: back off, retry), the outcome of every key (written / conflict / failed)
 * into the Counters, and the --on-error stop request.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RespServerError } from '@shake/resp';
import type { Counters } from '../../core/counters.js';
import type { Argv } from '../../rewrite/key-rewriter.js';
import { ConnWriter, type ConnLimits, type ReplyTag } from './conn-writer.js';
import { KeyWrite, SingleCommandTag, redirectOf, type KeyOutcomes } from './key-write.js';
import type { RedisSinkStats } from './stats.js';
import type { RedisTarget, TargetNode } from './target.js';

export type ConflictPolicy = 'replace' | 'skip' | 'error';
export type ErrorPolicy = 'stop' | 'skip';

/** Thrown by the sink after draining when --on-error stop met a failed key. */
export class RestoreStoppedError extends Error {
  override readonly name = 'RestoreStoppedError';
}

interface Retry {
  tag: ReplyTag;
  argv: Argv;
  kind: 'MOVED' | 'ASK' | 'TRYAGAIN' | 'CLUSTERDOWN';
  addr: string;
  /** The key to route by (null: the command has none). */
  key: Buffer | null;
}

const MAX_REDIRECTS = 16;

export class SinkCore implements KeyOutcomes {
  private readonly writers = new Map<TargetNode, ConnWriter[]>();
  private rr = 0;
  private retries: Retry[] = [];
  private readonly attempts = new WeakMap<Argv, number>();
  stopReason: string | null = null;

  constructor(
    readonly target: RedisTarget,
    readonly counters: Counters,
    readonly stats: RedisSinkStats,
    private readonly limits: ConnLimits,
    readonly onConflict: ConflictPolicy,
    readonly onError: ErrorPolicy,
  ) {}

  get canSelect(): boolean {
    return this.target.profile.features.select;
  }

  writersOf(node: TargetNode): ConnWriter[] {
    let ws = this.writers.get(node);
    if (!ws) {
      ws = node.conns.map((c) => new ConnWriter(node, c, this.limits, this.canSelect));
      if (ws.length === 0) throw new Error(`no connection to ${node.addr}`);
      this.writers.set(node, ws);
    }
    return ws;
  }

  nodeForKey(key: Buffer): TargetNode {
    const r = this.target.routing;
    if (r) return r.nodeForKey(key);
    return this.target.masters()[0] as TargetNode;
  }

  /** A writer for a new key: spread over the node's connections (a key's commands stay on one). */
  writerForKey(key: Buffer): ConnWriter {
    const ws = this.writersOf(this.nodeForKey(key));
    return ws[this.rr++ % ws.length] as ConnWriter;
  }

  /** The node's first connection: where order-sensitive commands (replayed AOF, retries) go. */
  orderedWriter(node: TargetNode): ConnWriter {
    return this.writersOf(node)[0] as ConnWriter;
  }

  allWriters(): ConnWriter[] {
    return [...this.writers.values()].flat();
  }

  async drainAll(): Promise<void> {
    for (;;) {
      await Promise.all(this.allWriters().map((w) => w.drain()));
      if (this.retries.length === 0) return;
      await this.processRetries();
    }
  }

  // ---- outcomes ----

  private readonly singleTags = new Map<number, SingleCommandTag>();

  /** The shared reply tag of one-command keys (RESTORE) in target db `db`. */
  singleTag(db: number): SingleCommandTag {
    let t = this.singleTags.get(db);
    if (!t) {
      t = new SingleCommandTag(db, this);
      this.singleTags.set(db, t);
    }
    return t;
  }

  written(): void {
    this.counters.keysWritten++;
  }

  keyDone(k: KeyWrite): void {
    if (k.failure !== null) {
      this.fail(k.key, k.db, k.failure);
    } else if (k.conflict) {
      this.conflict(k.key, k.db);
    } else {
      this.counters.keysWritten++;
    }
  }

  /** An existing key met under skip or error policy. */
  conflict(key: Buffer, db: number): void {
    if (this.onConflict === 'skip') this.counters.skip('conflict');
    else this.fail(key, db, 'the key exists in the target (--on-conflict error; use replace or skip)');
  }

  fail(key: Buffer | null, db: number | null, message: string): void {
    this.counters.fail({ key, db, message });
    if (this.onError === 'stop' && this.stopReason === null) this.stopReason = message;
  }

  /** After draining, throws RestoreStoppedError when --on-error stop saw a failure. */
  async checkStop(): Promise<void> {
    if (this.stopReason === null) return;
    await this.drainAll();
    throw new RestoreStoppedError(`stopped after the first failure (--on-error stop): ${this.stopReason}`);
  }

  // ---- cluster redirections ----

  redirect(tag: ReplyTag, argv: Argv, reply: RespServerError, _conn: ConnWriter): void {
    const kind = redirectOf(reply);
    if (!kind) return;
    const n = (this.attempts.get(argv) ?? 0) + 1;
    this.attempts.set(argv, n);
    const key = tag instanceof KeyWrite ? tag.key : ((argv[1] as Buffer | undefined) ?? null);
    if (n > MAX_REDIRECTS || !this.target.routing) {
      const why = this.target.routing
        ? `still redirected after ${MAX_REDIRECTS} tries`
        : 'a redirection from a non-cluster target';
      if (tag instanceof KeyWrite) {
        tag.fail(`${String(argv[0])}: ${reply.message} (${why})`);
        tag.answered();
      } else {
        this.fail(key, null, `${String(argv[0])}: ${reply.message} (${why})`);
      }
      return;
    }
    const parts = reply.message.split(' ');
    this.retries.push({ tag, argv, kind, addr: parts[2] ?? '', key: Buffer.isBuffer(key) ? key : null });
    this.stats.redirects++;
  }

  get hasRetries(): boolean {
    return this.retries.length > 0;
  }

  /** Re-sends redirected commands, in the order their replies arrived. */
  async processRetries(): Promise<void> {
    const routing = this.target.routing;
    if (this.retries.length === 0 || !routing) return;
    const list = this.retries;
    this.retries = [];
    if (list.some((r) => r.kind !== 'ASK')) {
      const backoff = list.some((r) => r.kind === 'TRYAGAIN' || r.kind === 'CLUSTERDOWN');
      if (backoff) await sleep(100);
      await routing.refresh();
    }
    for (const r of list) {
      if (r.kind === 'ASK') {
        const node = await routing.nodeAt(r.addr);
        this.orderedWriter(node).pushAsking(r.argv, r.tag);
      } else {
        const node = r.key ? routing.nodeForKey(r.key) : (this.target.masters()[0] as TargetNode);
        this.orderedWriter(node).push(r.argv, r.tag);
      }
    }
  }
}
