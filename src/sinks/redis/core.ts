/**
 * The shared machinery of the Redis sink: the pipelined writers of every master, key -> node routing,
 * re-sending commands that were redirected or met a transient reply (what to do is decided by the cluster
 * router, src/cluster/router.ts: MOVED updates that slot, ASK goes once to the named node, LOADING / READONLY /
 * MASTERDOWN / TRYAGAIN / CLUSTERDOWN back off within a bound), the outcome of every key (written / conflict /
 * failed) into the Counters, and the --on-error stop request.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RespServerError } from '@shake/resp';
import { crc16, decideStandalone, type RouteState } from '../../cluster/index.js';
import { holdsRefusal } from '../../redis/errors.js';
import type { DbMapper } from './db-map.js';
import type { Counters } from '../../core/counters.js';
import type { Argv } from '../../rewrite/key-rewriter.js';
import { ConnWriter, type ConnLimits, type ReplyTag } from './conn-writer.js';
import { KeyWrite, SingleCommandTag, type KeyOutcomes } from './key-write.js';
import { DROPPED_TTL_KEYS_SHOWN, type RedisSinkStats } from './stats.js';
import type { RedisTarget, TargetNode, WriteDecision } from './target.js';

export type ConflictPolicy = 'replace' | 'skip' | 'error';
export type ErrorPolicy = 'stop' | 'skip';

/** Thrown by the sink after draining when --on-error stop met a failed key. */
export class RestoreStoppedError extends Error {
  override readonly name = 'RestoreStoppedError';
}

interface Retry {
  tag: ReplyTag;
  argv: Argv;
  /** The db it ran in. */
  db: number;
  /** The key to route by (null: the command has none). */
  key: Buffer | null;
  from: TargetNode;
  decision: Extract<WriteDecision, { action: 'retry' }>;
}

export class SinkCore implements KeyOutcomes {
  private readonly writers = new Map<TargetNode, ConnWriter[]>();
  private rr = 0;
  private retries: Retry[] = [];
  private readonly routeStates = new WeakMap<Argv, RouteState>();
  stopReason: string | null = null;
  /** The stop is a refusal of the target (its message says what to do). */
  private refusal = false;

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

  /**
   * One key name can come more than once (source dbs merged into one target db): each name always takes the same
   * connection, so its writes land in the order they were read (the last one wins under --on-conflict replace).
   */
  sameKeySameConnection = false;

  /** A writer for a new key: spread over the node's connections (a key's commands stay on one). */
  writerForKey(key: Buffer): ConnWriter {
    const ws = this.writersOf(this.nodeForKey(key));
    if (ws.length === 1) return ws[0] as ConnWriter;
    if (this.sameKeySameConnection) return ws[crc16(key) % ws.length] as ConnWriter;
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
      if (k.droppedFieldTtls > 0) this.droppedFieldTtls(k);
    }
  }

  /** A written key that lost hash field TTLs: counted, and named among the first few. */
  private droppedFieldTtls(k: KeyWrite): void {
    const s = this.stats;
    s.droppedFieldTtls += k.droppedFieldTtls;
    s.keysWithDroppedFieldTtls++;
    if (s.droppedFieldTtlKeys.length < DROPPED_TTL_KEYS_SHOWN) {
      s.droppedFieldTtlKeys.push({ db: k.db, key: Buffer.from(k.key) });
    }
  }

  /** How source dbs map into target dbs, and what the target held at the start (for the conflict message). */
  merges: { mapper: DbMapper; atStart: ReadonlyMap<number, number> | null } | null = null;

  /** An existing key met under skip or error policy. */
  conflict(key: Buffer, db: number): void {
    if (this.onConflict === 'skip') this.counters.skip('conflict');
    else this.fail(key, db, this.conflictMessage(db));
  }

  /**
   * A target db that was empty at the start, into which several source dbs are merged: the key came from
   * another source db of this run (a db-merge collision), not from the target.
   */
  private conflictMessage(db: number): string {
    const from = this.merges?.mapper.sourcesOf(db);
    const atStart = this.merges?.atStart;
    if (from && from.size > 1 && atStart && (atStart.get(db) ?? 0) === 0) {
      return (
        `db-merge collision: the same key came from another source db merged into target db ${db} ` +
        `(source dbs ${[...from].sort((a, b) => a - b).join(', ')}; the target db was empty at the start): ` +
        'keep the first with --on-conflict skip or the last with replace, or map the dbs apart (--db-map)'
      );
    }
    return 'the key exists in the target (--on-conflict error; use replace or skip)';
  }

  fail(key: Buffer | null, db: number | null, message: string): void {
    this.counters.fail({ key, db, message });
    if (this.stopReason !== null) return;
    // A refusal (NOPERM, NOAUTH) will meet every key alike: stop whatever --on-error says.
    if (holdsRefusal(message)) this.refusal = true;
    if (this.onError === 'stop' || this.refusal) this.stopReason = message;
  }

  /** After draining, throws RestoreStoppedError when --on-error stop saw a failure. */
  async checkStop(): Promise<void> {
    if (this.stopReason === null) return;
    await this.drainAll();
    if (this.refusal) throw new RestoreStoppedError(this.stopReason);
    throw new RestoreStoppedError(`stopped after the first failure (--on-error stop): ${this.stopReason}`);
  }

  // ---- redirections and transient replies: src/cluster/router.ts decides ----

  /** The router's decision for an error reply (decideStandalone's for a target that is not a cluster). */
  decide(key: Buffer | null, reply: RespServerError, from: TargetNode, state: RouteState): WriteDecision {
    const routing = this.target.routing;
    if (routing) return routing.decide(key ? routing.slotOf(key) : -1, reply, from, state);
    const d = decideStandalone(reply, true, state);
    if (d.action === 'retry') return { ...d, node: null };
    return d.action === 'fail' ? { action: 'fail', message: d.error.message } : d;
  }

  /**
   * An error reply that routing may answer: MOVED/ASK (cluster) and the wait-and-retry replies (LOADING,
   * READONLY, MASTERDOWN, TRYAGAIN, CLUSTERDOWN) queue the command to be sent again; past the policy's bound the
   * key fails with the router's reason. False when the reply is an ordinary error (the caller reports it).
   */
  reroute(tag: ReplyTag, argv: Argv, reply: RespServerError, conn: ConnWriter, db: number): boolean {
    let state = this.routeStates.get(argv);
    if (!state) {
      state = { redirects: 0, retries: 0 };
      this.routeStates.set(argv, state);
    }
    const key = tag instanceof KeyWrite ? tag.key : Buffer.isBuffer(argv[1]) ? argv[1] : null;
    const d = this.decide(key, reply, conn.node, state);
    if (d.action === 'done') return false;
    if (d.action === 'fail') {
      const message = `${String(argv[0])}: ${d.message}`;
      if (tag instanceof KeyWrite) {
        tag.fail(message);
        tag.answered();
      } else {
        this.fail(key, tag instanceof SingleCommandTag ? tag.db : null, message);
      }
      return true;
    }
    if (d.node) this.stats.redirects++;
    else this.stats.retried++;
    this.retries.push({ tag, argv, db, key, from: conn.node, decision: d });
    return true;
  }

  /** Sends a command once more, as a retry does (after this batch's replies; its tag sees the new reply). */
  resend(tag: ReplyTag, argv: Argv, db: number, from: ConnWriter): void {
    const decision = { action: 'retry', node: null, asking: false, delayMs: 0, refresh: false } as const;
    this.retries.push({ tag, argv, db, key: Buffer.isBuffer(argv[1]) ? argv[1] : null, from: from.node, decision });
  }

  get hasRetries(): boolean {
    return this.retries.length > 0;
  }

  /**
   * Sends the rerouted commands again, in the order their replies arrived: after the longest backoff any of
   * them asks for (one wait for the lot) and a slot-map refresh when one asks for it; to the node a MOVED/ASK
   * named, else to the key's owner (the node it came from for a standalone target or a keyless command).
   */
  async processRetries(): Promise<void> {
    if (this.retries.length === 0) return;
    const list = this.retries;
    this.retries = [];
    let delay = 0;
    let refresh = false;
    for (const r of list) {
      delay = Math.max(delay, r.decision.delayMs);
      refresh ||= r.decision.refresh;
    }
    if (delay > 0) await sleep(delay);
    const routing = this.target.routing;
    if (refresh && routing) await routing.refresh().catch(() => undefined);
    for (const r of list) {
      const d = r.decision;
      const node = d.node ?? (routing && r.key ? routing.nodeForKey(r.key) : r.from);
      const w = this.orderedWriter(node);
      if (d.asking) w.pushAsking(r.argv, r.tag);
      else w.push(r.argv, r.tag, r.db);
    }
  }
}
