/**
 * Applies the master's command stream to the target in checkpointed batches, exactly once:
 *
 * - standalone: one MULTI ... EXEC per batch holding every command of the batch (SELECT as the stream had it,
 *   through the db map) and, last, `SET __shake:sync:<name> "<replid> <offset> <db>"` in db 0. The batch and
 *   its checkpoint land together or not at all. The source's own MULTI/EXEC blocks are never cut by a batch
 *   boundary, so they stay atomic inside the batch's transaction.
 * - cluster: the batch is split per hash slot (order within a slot kept); each slot's commands go in one
 *   MULTI ... EXEC with `SET __shake:sync:<name>:{<slot tag>} ...` of that slot. After a restart, a command whose
 *   slot checkpoint already covers its offset is skipped. MSET/DEL/UNLINK whose keys span slots are split per
 *   slot; a source transaction spanning slots is applied per slot (counted). Keyless commands (FLUSHALL,
 *   FUNCTION, SCRIPT) end the batch and go to every master, then the base checkpoint moves past them.
 *
 * What is not applied: PING (the master's keepalive), PUBLISH unless asked, SELECT (tracked, sent only before
 * the commands of that db), the source's MULTI/EXEC markers (the batch transaction replaces them).
 * A command the target does not know is dropped and counted loudly; a command the target rejects inside
 * EXEC is counted as a failure with its key (the rest of the batch stands, as on a Redis replica).
 *
 * Expiries: a Redis replica never executes an expiry (expire.c checkAlreadyExpired() is false with a master
 * set); the master sends DEL when the key expires. The target is a master, so an absolute expiry that has
 * passed when it is applied (shake lagging; decided by the target's own clock for expiries within a minute)
 * is written deferred (src/transforms/
 * loading-expiry.ts): a PERSIST, SET or later PEXPIREAT the master ran before the expiry still finds the key,
 * and the master's DEL removes it. At the cut-over point (caught up) sweepExpiries() gives every key still
 * deferred its real expiry back, or deletes it when that has passed.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RespServerError, type RespValue } from '@shake/resp';
import type { Counters } from '../core/counters.js';
import type { Argv } from '../rewrite/key-rewriter.js';
import { commandName, commandRoute } from '../redis/command-keys.js';
import type { ConnWriter, ReplyTag } from '../sinks/redis/conn-writer.js';
import type { SinkCore } from '../sinks/redis/core.js';
import { DbMapError, type DbMapper } from '../sinks/redis/db-map.js';
import type { RedisTarget, TargetNode } from '../sinks/redis/target.js';
import { checkpointKey, encodeCheckpoint, slotCheckpointKey, type Checkpoint } from './checkpoint.js';
import { LoadingExpiry, type LoadingExpiryStats } from '../transforms/loading-expiry.js';
import type { CommandSelector } from '../transforms/filter.js';
import { printableKey } from '../core/printable-key.js';
import { clientForm } from './master-rewrite.js';
import type { SpooledCommand } from './spool.js';

export interface ApplyStats {
  /** Expiries written deferred (the stream applied after their time) and what the cut-over sweep did. */
  expiry?: LoadingExpiryStats;
  /** Batches applied (standalone: transactions; cluster: batches, each one transaction per slot). */
  batches: number;
  /** Source MULTI/EXEC blocks seen. */
  transactions: number;
  /** Source transactions whose keys span several cluster slots (applied per slot). */
  splitTransactions: number;
  /** Multi-key commands split per slot (MSET, DEL, UNLINK on a cluster target). */
  splitCommands: number;
  /** PUBLISH not forwarded. */
  publishSkipped: number;
  /** MOVE, COPY (onto the same key) and SWAPDB between source dbs that --db-map merges: nothing to do there. */
  mergedDbNoops: number;
  /** FLUSHDB of a source db that --db-map merges with others (the target db's other keys went too; warned). */
  mergedFlushes: number;
  /** Commands skipped after a restart because their slot's checkpoint already covered them (cluster). */
  alreadyApplied: number;
  /** Commands dropped because the target does not know them, by name. */
  unknown: Map<string, number>;
  /** Key selection (--db, --key, --type ...): commands left out, cut to their selected keys, applied though they
   * also name keys outside the selection (see commandSelector in transforms/filter.ts). */
  filtered: number;
  filterCut: number;
  filterMixed: number;
}

export interface ApplierOptions {
  target: RedisTarget;
  core: SinkCore;
  counters: Counters;
  dbs: DbMapper;
  /** Checkpoint key name part (source master host:port unless configured). */
  name: string;
  start: Checkpoint;
  /** Cluster target after a restart: per slot, the offset its checkpoint covers. */
  slotOffsets?: Map<number, number>;
  forwardPublish: boolean;
  /** Lowercase command names the target knows (null: do not check). */
  knownCommands: ReadonlySet<string> | null;
  /**
   * A command the target does not have or refuses ([sync] on_error): `stop` (default) ends the run with the key
   * named, before the command when it is refused before running (unknown, refused when queued: nothing of its
   * batch applied), just after its transaction when it failed while running; `skip` counts it and goes on.
   */
  onError?: 'stop' | 'skip';
  /** Statistics to add to (those of the run's earlier sessions); default: new ones. */
  stats?: ApplyStats;
  /** The key selection on stream commands (null: every command). */
  select?: CommandSelector | null;
  onWarning?: (message: string) => void;
}

/** A standalone batch whose EXEC is sent and not yet answered. */
interface PendingTx {
  node: TargetNode;
  w: ConnWriter;
  tag: TxTag;
  ops: Op[];
  checkpoint: Argv;
  end: Checkpoint;
}

interface Op {
  argv: Buffer[];
  /** The key routing the command (cluster), from command-keys.ts. */
  key: Buffer | null;
  /** Source db. */
  db: number;
  offset: number;
}

const SPLITTABLE = new Set(['mset', 'del', 'unlink']);
/** Commands naming source dbs in their arguments (mapped through --db-map). */
const DB_ARGS = new Set(['move', 'copy', 'swapdb', 'flushdb']);
const NOT_APPLIED = new Set(['ping', 'multi', 'exec', 'select', 'replconf']);
const MAX_TX_RETRIES = 16;
/**
 * Replies that say the target takes no writes now (memory, role, persistence, loading, a busy script, ACL), not
 * that one command is wrong: the batch is not applied and the run stops with the checkpoint where it is.
 */
const TARGET_STATE = /^(OOM|READONLY|MISCONF|LOADING|BUSY|MASTERDOWN|NOREPLICAS|NOPERM)\b/;

/** The target refuses writes (OOM, READONLY, ...): the run stops, the checkpoint intact. */
export class TargetRefusedError extends Error {
  override readonly name = 'TargetRefusedError';
}

/** Collects the replies of one MULTI ... EXEC. */
class TxTag implements ReplyTag {
  /** Argvs the target queued, in order (EXEC's array answers them). */
  readonly queued: Argv[] = [];
  readonly rejected: { argv: Argv; error: RespServerError }[] = [];
  exec: RespValue | undefined;
  multiError: RespServerError | null = null;

  /** The MULTI and EXEC argvs of this transaction (told apart by identity: no per-reply string work). */
  readonly multi: Argv = ['MULTI'];
  readonly execArgv: Argv = ['EXEC'];
  /** SELECTs queued in the transaction (EXEC answers them too; they are not counted as commands). */
  readonly selects = new Set<Argv>();

  onReply(reply: RespValue, argv: Argv): void {
    if (argv === this.multi) {
      if (reply instanceof RespServerError) this.multiError = reply;
    } else if (argv === this.execArgv) {
      this.exec = reply;
    } else if (reply instanceof RespServerError) {
      this.rejected.push({ argv, error: reply });
    } else {
      this.queued.push(argv);
    }
  }
}

/** Statistics of an applier that has applied nothing yet. */
export function emptyApplyStats(): ApplyStats {
  return {
    batches: 0,
    transactions: 0,
    splitTransactions: 0,
    splitCommands: 0,
    publishSkipped: 0,
    mergedDbNoops: 0,
    mergedFlushes: 0,
    alreadyApplied: 0,
    unknown: new Map(),
    filtered: 0,
    filterCut: 0,
    filterMixed: 0,
  };
}

export class BatchApplier {
  readonly stats: ApplyStats;
  /** The checkpoint the target holds (what was applied): replid, offset, source db there. */
  readonly applied: Checkpoint;
  /** Source db SELECTed by the stream at the end of what was read so far. */
  private db: number;
  /** Commands of a source transaction not yet closed by its EXEC (held for the next batch). */
  private carry: SpooledCommand[] = [];
  private readonly cluster: boolean;
  private readonly proxy: boolean;
  private lastBase = 0;
  private baseOffset = -1;
  private readonly warned = new Set<string>();
  /** Expiries deferred as a replica keeps them (see the file comment). */
  readonly expiry: LoadingExpiry;
  /** Script bodies seen in the stream (EVAL, SCRIPT LOAD) by SHA1: an EVALSHA is sent as EVAL of its body. */
  private readonly scripts = new Map<string, Buffer>();
  /** on_error = stop: the command that failed inside a transaction that ran (the run ends once it is committed). */
  private rejected: string | null = null;
  private readonly stopOnError: boolean;
  /** Standalone: the batch whose EXEC is in flight (see applyStandalone). */
  private pending: PendingTx | null = null;

  constructor(private readonly opts: ApplierOptions) {
    this.stats = opts.stats ?? emptyApplyStats();
    this.applied = { ...opts.start };
    this.db = opts.start.db;
    this.cluster = opts.target.routing !== null;
    this.proxy = opts.target.profile.kind === 'proxy';
    this.stopOnError = (opts.onError ?? 'stop') === 'stop';
    // Passed when the batch is built: deferred. Due within a minute: the target decides when it runs the
    // command (it may be stalled meanwhile). Later: applied as it is.
    this.expiry = new LoadingExpiry(opts.counters, Date.now, false, 0, 60_000);
    this.stats.expiry = this.expiry.stats;
  }

  /** What the target holds (`applied`) lags the last apply() by the batch in flight; settle() waits for it. */
  get appliedOffset(): number {
    return this.applied.offset;
  }

  /** Applies commands in stream order; returns once the target has them (and their checkpoint). */
  async apply(cmds: SpooledCommand[]): Promise<void> {
    const all = this.carry.length > 0 ? [...this.carry, ...cmds] : cmds;
    this.carry = [];
    // Never cut a source transaction: hold from the last MULTI that has no EXEC yet.
    let open = -1;
    for (let i = 0; i < all.length; i++) {
      const first = (all[i] as SpooledCommand).argv[0];
      const len = first?.length ?? 0;
      if (len !== 4 && len !== 5 && len !== 7) continue; // exec, multi, discard
      const n = commandName((all[i] as SpooledCommand).argv);
      if (n === 'multi') open = i;
      else if (n === 'exec' || n === 'discard') open = -1;
    }
    const take = open >= 0 ? all.slice(0, open) : all;
    if (open >= 0) this.carry = all.slice(open);
    if (take.length === 0) return;
    if (this.cluster) await this.applyCluster(take);
    else if (this.proxy) await this.applyProxy(take);
    else await this.applyStandalone(take);
  }

  /** Turns stream commands into ops: SELECT tracked, PING/markers dropped, rewrites, unknown commands counted. */
  private *ops(cmds: SpooledCommand[]): Generator<Op | { barrier: Op } | { tx: 'start' | 'end' }> {
    for (const c of cmds) {
      let name = commandName(c.argv);
      if (NOT_APPLIED.has(name)) {
        if (name === 'select') this.db = Number(c.argv[1]?.toString('latin1') ?? '0');
        else if (name === 'multi') {
          this.stats.transactions++;
          yield { tx: 'start' };
        } else if (name === 'exec') yield { tx: 'end' };
        continue;
      }
      this.opts.counters.commandsRead++;
      const selected = this.selected(c.argv, name);
      if (selected === null) continue;
      if (selected !== c.argv) name = commandName(selected);
      if ((name === 'publish' || name === 'spublish') && !this.opts.forwardPublish) {
        this.stats.publishSkipped++;
        continue;
      }
      if (name === 'restore-asking') {
        // A source cluster node receiving a key MIGRATE moves from another shard: that shard's link sends
        // its DEL, and the two links are applied independently, so the key could end up deleted.
        throw new ReshardError(
          `${describeCommand(c.argv, this.db)} at offset ${c.offset}: a slot migration on the source cluster (a ` +
            'key MIGRATEd into this shard); sync follows a failover of a shard, not a reshard (the key leaves ' +
            'through one link and arrives through another): stopped before it. Run it again with --flush-target ' +
            'once the reshard is over (a new full sync)',
        );
      }
      const known = this.opts.knownCommands;
      if (known && !known.has(name)) {
        this.stats.unknown.set(name, (this.stats.unknown.get(name) ?? 0) + 1);
        this.opts.counters.skip('unsupported');
        this.opts.counters.fail({
          key: c.argv[1] ?? null,
          db: this.db,
          message: `${name.toUpperCase()}: the target does not have this command; not applied`,
        });
        if (this.stopOnError) {
          const lacks = this.proxy
            ? `the proxy does not forward ${name.toUpperCase()}`
            : `the target does not have ${name.toUpperCase()}`;
          const fix = this.proxy ? 'Sync into a standalone or cluster target' : 'Upgrade the target';
          throw new CommandRejectedError(
            `${describeCommand(c.argv, this.db)} at offset ${c.offset}: ${lacks}, so it cannot follow this ` +
              `source; stopped before it (nothing of its batch applied). ${fix}, or give --on-error skip to leave ` +
              'such commands out (counted; the keys they write then differ from the source)',
          );
        }
        continue;
      }
      const sent = this.scriptForm(clientForm(selected, name), name);
      const rewritten = this.expiry.rewrite(this.db, sent);
      const argv = DB_ARGS.has(name) ? this.mapDbArgs(rewritten, name) : rewritten;
      if (argv === null) {
        this.stats.mergedDbNoops++;
        continue;
      }
      // Routing by key matters on a cluster only (an expiry the target decides is an EVAL now).
      const route = this.cluster ? commandRoute(argv, argv === sent ? name : commandName(argv)) : null;
      const op: Op = { argv, key: route?.kind === 'key' ? route.key : null, db: this.db, offset: c.offset };
      if (this.cluster && op.key === null) yield { barrier: op };
      else yield op;
    }
  }

  /**
   * MOVE, COPY ... DB, SWAPDB, FLUSHDB name source dbs: mapped through --db-map like SELECT. Between two source
   * dbs that land in one target db, MOVE and SWAPDB change nothing there (null: skipped, counted) and COPY ... DB
   * is a COPY in that db. A SWAPDB that would carry other source dbs' keys along (one side merged with other
   * dbs) cannot be applied: the run stops (the checkpoint stays before it). A FLUSHDB of a merged db is applied
   * (the master emptied that db) and warned: it also empties what the other source dbs put there.
   */
  private mapDbArgs(argv: Buffer[], name: string): Buffer[] | null {
    const dbs = this.opts.dbs;
    const num = (a: Buffer | undefined): number | null => {
      const t = a?.toString('latin1') ?? '';
      return /^\d+$/.test(t) ? Number(t) : null;
    };
    const here = dbs.map(this.db);
    switch (name) {
      case 'move': {
        const to = num(argv[2]);
        if (to === null) return argv;
        const mapped = dbs.map(to);
        if (mapped === here) return null;
        return mapped === to ? argv : [argv[0] as Buffer, argv[1] as Buffer, Buffer.from(String(mapped))];
      }
      case 'copy': {
        const at = argv.findIndex((a, i) => i > 2 && a.toString('latin1').toLowerCase() === 'db');
        const to = at > 0 ? num(argv[at + 1]) : null;
        if (to === null) return argv;
        const mapped = dbs.map(to);
        if (mapped !== here) {
          if (mapped === to) return argv;
          const out = [...argv];
          out[at + 1] = Buffer.from(String(mapped));
          return out;
        }
        if ((argv[1] as Buffer).equals(argv[2] as Buffer)) return null;
        return argv.filter((_, i) => i !== at && i !== at + 1);
      }
      case 'swapdb': {
        const x = num(argv[1]);
        const y = num(argv[2]);
        if (x === null || y === null) return argv;
        const mx = dbs.map(x);
        const my = dbs.map(y);
        if (mx === my) return null;
        for (const [db, to] of [
          [x, mx],
          [y, my],
        ] as const) {
          if (dbs.merges(db)) {
            throw new DbMapError(
              `SWAPDB ${x} ${y}: --db-map merges source db ${db} with other dbs into target db ${to}, so swapping ` +
                `target dbs ${mx} and ${my} would move the other dbs' keys too; map each of the two dbs to a db ` +
                `of its own (the checkpoint stays before this command)`,
            );
          }
        }
        return mx === x && my === y ? argv : [argv[0] as Buffer, Buffer.from(String(mx)), Buffer.from(String(my))];
      }
      case 'flushdb':
        if (dbs.merges(this.db)) {
          this.stats.mergedFlushes++;
          this.warnOnce(
            `FLUSHDB of source db ${this.db}: --db-map merges it with other dbs into target db ${here}, so the ` +
              "target's FLUSHDB also removed what the other source dbs put there (counted in the summary)",
            'merged-flushdb',
          );
        }
        return argv;
      default:
        return argv;
    }
  }

  /** The command as the key selection keeps it (cut to its selected keys, guarded), or null when left out. */
  private selected(argv: Buffer[], name: string): Buffer[] | null {
    const select = this.opts.select;
    if (!select) return argv;
    const v = select(this.db, argv, name);
    switch (v.keep) {
      case 'all':
        return argv;
      case 'none':
        this.stats.filtered++;
        return null;
      case 'some':
        this.stats.filterCut++;
        return v.argv;
      case 'guarded':
        return v.argv;
      case 'mixed':
        this.stats.filterMixed++;
        this.warnOnce(
          `${name.toUpperCase()} names keys inside and outside the key selection (db ${this.db}` +
            `${v.key ? `, e.g. ${printableKey(v.key)} left out` : ''}): applied as it is, so what it writes may ` +
            'differ from the source (counted in the summary)',
          name,
        );
        return argv;
    }
  }

  /**
   * Masters before 5.0 replicate scripts themselves and send EVALSHA once they have sent the body: the target
   * may not have it (restarted, SCRIPT FLUSHed, or a resume past the EVAL), so EVALSHA goes as EVAL of the body
   * when the stream carried it. An unknown one goes as is (a NOSCRIPT reply is counted as a failure).
   */
  private scriptForm(argv: Buffer[], name: string): Buffer[] {
    if (name === 'eval' && argv[1]) this.scripts.set(sha1(argv[1]), argv[1]);
    else if (name === 'script' && argv[1]?.toString('latin1').toLowerCase() === 'load' && argv[2]) {
      this.scripts.set(sha1(argv[2]), argv[2]);
    } else if (name === 'evalsha' && argv[1]) {
      const body = this.scripts.get(argv[1].toString('latin1').toLowerCase());
      if (body) return [Buffer.from('EVAL'), body, ...argv.slice(2)];
    } else if (name === 'script' && argv[1]?.toString('latin1').toLowerCase() === 'flush') this.scripts.clear();
    return argv;
  }

  private lastOffset(cmds: SpooledCommand[]): number {
    return (cmds[cmds.length - 1] as SpooledCommand).offset;
  }

  // ---- standalone ----

  /**
   * Standalone batches overlap: batch N+1's MULTI, commands and checkpoint are sent (the target queues them)
   * while batch N's EXEC runs, and N+1's EXEC is sent only once N's EXEC has answered that it applied. So the
   * target never idles while shake builds the next batch, and the order stays the stream's: a batch the target
   * refused whole (EXECABORT) is sent again before anything after it runs (the queued next one is DISCARDed and
   * sent again after it). Each transaction holds its own checkpoint, so after a crash or a reset connection
   * the checkpoint read back is exactly what the target holds (a transaction whose EXEC was sent and whose
   * reply was lost either ran whole, checkpoint included, or not at all).
   */
  private async applyStandalone(cmds: SpooledCommand[]): Promise<void> {
    const ops: Op[] = [];
    try {
      for (const o of this.ops(cmds)) if ('argv' in o) ops.push(o);
    } catch (err) {
      // Stopped before a command (on_error = stop): the batch in flight lands first, so the run ends at it.
      await this.settlePending();
      throw err;
    }
    const end: Checkpoint = { replid: this.applied.replid, offset: this.lastOffset(cmds), db: this.db };
    const node = this.opts.target.masters()[0] as TargetNode;
    const checkpoint: Argv = ['SET', checkpointKey(this.opts.name), encodeCheckpoint(end)];
    const w = this.opts.core.orderedWriter(node);
    const prev = this.pending;
    this.pending = null;
    const tag = this.queueTx(w, ops, checkpoint);
    w.flush();
    const again = prev ? await this.settle(prev) : null;
    if (again !== null && prev) {
      // The previous batch was refused whole and this one is queued behind it: drop this one, send the
      // previous one again (without what the target refused), then this one, each waited for.
      w.push(['DISCARD'], null);
      await w.drain();
      w.db = -1;
      await this.transaction(node, again, prev.checkpoint, 1);
      this.commit(prev.end);
      await this.transaction(node, ops, checkpoint);
      this.commit(end);
      return;
    }
    w.push(tag.execArgv, tag);
    w.flush();
    this.pending = { node, w, tag, ops, checkpoint, end };
  }

  /**
   * Waits for the EXEC of a sent batch: null when it applied (its checkpoint is the target's now), else the
   * commands to send again (those the target refused at queue time are counted and left out).
   */
  private async settle(tx: PendingTx): Promise<Op[] | null> {
    await tx.w.until(() => tx.tag.exec !== undefined);
    if (tx.tag.exec === undefined) throw new Error(`no reply to EXEC from ${tx.node.addr}`);
    const again = this.outcome(tx.node, tx.w, tx.tag, tx.checkpoint, tx.ops, 0);
    if (again === null) this.commit(tx.end);
    return again;
  }

  /** The batch sent last (standalone) has applied, or has been sent again and applied. */
  private async settlePending(): Promise<void> {
    const tx = this.pending;
    if (!tx) return;
    this.pending = null;
    const again = await this.settle(tx);
    if (again === null) return;
    await this.transaction(tx.node, again, tx.checkpoint, 1);
    this.commit(tx.end);
  }

  private commit(end: Checkpoint): void {
    this.stats.batches++;
    Object.assign(this.applied, end);
    this.stopIfRejected();
  }

  /** on_error = stop and a command failed inside a transaction that ran: end the run, the key named. */
  private stopIfRejected(): void {
    if (this.rejected === null) return;
    throw new CommandRejectedError(
      `${this.rejected}; the rest of its transaction ran (the checkpoint is at offset ${this.applied.offset}), ` +
        'so that key may now differ from the source: stopped. Make the key equal again (e.g. shake rump --key ' +
        'with its name) or start over with --flush-target; --on-error skip counts such failures and goes on',
    );
  }

  /** MULTI, the ops (with SELECTs), the checkpoint SET (db 0 on standalone): queued on `w`, no EXEC yet. */
  private queueTx(w: ConnWriter, ops: Op[], checkpoint: Argv): TxTag {
    const selects = this.opts.core.canSelect;
    const tag = new TxTag();
    w.push(tag.multi, tag);
    for (const op of ops) {
      if (selects) this.select(w, this.opts.dbs.map(op.db), tag);
      else this.opts.dbs.map(op.db);
      w.push(op.argv, tag);
    }
    if (selects) this.select(w, 0, tag);
    w.push(checkpoint, tag);
    return tag;
  }

  /**
   * MULTI, the ops, the checkpoint, EXEC; waits for EXEC. Commands the target refuses at queue time abort the
   * transaction (EXECABORT): they are counted and the rest is sent again.
   */
  private async transaction(node: TargetNode, ops: Op[], checkpoint: Argv, firstAttempt = 0): Promise<void> {
    let list = ops;
    for (let attempt = firstAttempt; ; attempt++) {
      const w = this.opts.core.orderedWriter(node);
      const tag = this.queueTx(w, list, checkpoint);
      w.push(tag.execArgv, tag);
      await w.drain();
      const again = this.outcome(node, w, tag, checkpoint, list, attempt);
      if (again === null) return;
      list = again;
    }
  }

  /**
   * What a transaction's EXEC answered: null when it applied (replies counted); else the ops to send again
   * without those refused at queue time (counted). Throws when the target refuses writes (state), on
   * redirections (cluster) and when it keeps failing.
   */
  private outcome(
    node: TargetNode,
    w: ConnWriter,
    tag: TxTag,
    checkpoint: Argv,
    list: Op[],
    attempt: number,
  ): Op[] | null {
    if (tag.multiError) throw new Error(`MULTI failed on ${node.addr}: ${tag.multiError.message}`);
    const exec = tag.exec;
    if (Array.isArray(exec)) {
      this.execReplies(tag, exec, checkpoint, list);
      return null;
    }
    // Not applied at all: the SELECTs did not run either.
    w.db = -1;
    const refusal = [exec, ...tag.rejected.map((r) => r.error)].find(
      (e): e is RespServerError => e instanceof RespServerError && TARGET_STATE.test(e.message),
    );
    if (refusal) {
      throw new TargetRefusedError(
        `${node.addr} refused the writes: ${refusal.message}; nothing of the batch was applied and the checkpoint ` +
          `stays at offset ${this.applied.offset}: fix the target, then run the same command again to continue`,
      );
    }
    if (attempt >= MAX_TX_RETRIES) {
      throw new Error(`EXEC on ${node.addr} kept failing: ${exec instanceof Error ? exec.message : String(exec)}`);
    }
    const redirected = tag.rejected.some((r) => /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /.test(r.error.message));
    if (redirected) throw new MovedError(tag.rejected[0]?.error.message ?? 'MOVED');
    if (tag.rejected.length === 0) {
      throw new Error(`EXEC on ${node.addr} failed: ${exec instanceof Error ? exec.message : String(exec)}`);
    }
    const bad = new Set(tag.rejected.map((r) => r.argv));
    if (this.stopOnError) {
      const r = tag.rejected.find((x) => x.argv !== checkpoint) as { argv: Argv; error: RespServerError };
      const op = list.find((o) => o.argv === r.argv);
      this.opts.counters.fail({
        key: Buffer.isBuffer(r.argv[1]) ? r.argv[1] : null,
        db: op?.db ?? null,
        message: `${String(r.argv[0])}: ${r.error.message} (refused by the target; not applied)`,
      });
      throw new CommandRejectedError(
        `${describeCommand(r.argv, op?.db ?? null)}${op ? ` at offset ${op.offset}` : ''} was refused by ` +
          `${node.addr}: ${r.error.message}; stopped before it (nothing of its batch applied, the checkpoint stays ` +
          `at offset ${this.applied.offset}). Give --on-error skip to leave such commands out (counted)`,
      );
    }
    for (const r of tag.rejected) {
      if (r.argv === checkpoint)
        throw new Error(`the checkpoint write was refused by ${node.addr}: ${r.error.message}`);
      this.opts.counters.fail({
        key: Buffer.isBuffer(r.argv[1]) ? r.argv[1] : null,
        db: null,
        message: `${String(r.argv[0])}: ${r.error.message} (refused by the target; not applied)`,
      });
    }
    return list.filter((op) => !bad.has(op.argv));
  }

  private select(w: ConnWriter, db: number, tag: TxTag): void {
    if (w.db === db) return;
    const argv = ['SELECT', String(db)];
    tag.selects.add(argv);
    w.push(argv, tag);
    w.db = db;
  }

  private execReplies(tag: TxTag, replies: RespValue[], checkpoint: Argv, list: Op[]): void {
    const c = this.opts.counters;
    for (let i = 0; i < replies.length; i++) {
      const r = replies[i];
      const argv = tag.queued[i];
      if (argv === undefined || tag.selects.has(argv)) continue;
      if (r instanceof RespServerError) {
        if (argv === checkpoint) throw new Error(`the checkpoint write failed: ${r.message}`);
        const op = this.stopOnError || this.rejected === null ? list.find((o) => o.argv === argv) : undefined;
        c.fail({
          key: Buffer.isBuffer(argv[1]) ? argv[1] : null,
          db: op?.db ?? null,
          message: `${String(argv[0])}: ${r.message}`,
        });
        // The transaction ran (its checkpoint too): with on_error = stop the run ends once it is committed.
        if (this.stopOnError && this.rejected === null) {
          this.rejected =
            `${describeCommand(argv, op?.db ?? null)}${op ? ` at offset ${op.offset}` : ''} failed on the ` +
            `target: ${r.message}`;
        }
      } else if (argv !== checkpoint) {
        c.commandsWritten++;
      }
    }
  }

  // ---- proxy ----

  /**
   * A proxy (twemproxy) has no MULTI/EXEC: the batch's commands are sent one by one (pipelined; the source's
   * transactions are not atomic there), and once every reply is in, the checkpoint is written. At least once: a
   * crash or a dropped connection between the two sends the commands since the last checkpoint again.
   */
  private async applyProxy(cmds: SpooledCommand[]): Promise<void> {
    const ops: Op[] = [];
    for (const o of this.ops(cmds)) if ('argv' in o) ops.push(o);
    const end: Checkpoint = { replid: this.applied.replid, offset: this.lastOffset(cmds), db: this.db };
    const node = this.opts.target.masters()[0] as TargetNode;
    const w = this.opts.core.orderedWriter(node);
    const tag: ReplyTag = {
      onReply: (reply: RespValue, argv: Argv) => {
        if (!(reply instanceof RespServerError)) {
          this.opts.counters.commandsWritten++;
          return;
        }
        const op = ops.find((o) => o.argv === argv);
        this.opts.counters.fail({
          key: Buffer.isBuffer(argv[1]) ? argv[1] : null,
          db: op?.db ?? null,
          message: `${String(argv[0])}: ${reply.message}`,
        });
        if (this.stopOnError) {
          this.rejected ??=
            `${describeCommand(argv, op?.db ?? null)}${op ? ` at offset ${op.offset}` : ''} failed on the ` +
            `target: ${reply.message}`;
        }
      },
    };
    for (const op of ops) {
      this.opts.dbs.map(op.db);
      w.push(op.argv, tag);
      if (w.busy) await w.ready();
    }
    await w.drain();
    const [r] = await w.direct([['SET', checkpointKey(this.opts.name), encodeCheckpoint(end)]]);
    if (r instanceof RespServerError) throw new Error(`the checkpoint write failed on ${node.addr}: ${r.message}`);
    this.commit(end);
  }

  // ---- cluster ----

  private async applyCluster(cmds: SpooledCommand[]): Promise<void> {
    const routing = this.opts.target.routing!;
    let groups = new Map<number, Op[]>();
    let txSlots: Set<number> | null = null;
    let groupEnd = this.applied.offset;
    const flushGroups = async (offset: number, db: number): Promise<void> => {
      if (groups.size > 0) await this.applySlotGroups(groups, { replid: this.applied.replid, offset, db });
      groups = new Map();
    };
    for (const o of this.ops(cmds)) {
      if ('tx' in o) {
        if (o.tx === 'start') txSlots = new Set();
        else {
          if (txSlots && txSlots.size > 1) this.stats.splitTransactions++;
          txSlots = null;
        }
        continue;
      }
      if ('barrier' in o) {
        await flushGroups(groupEnd, o.barrier.db);
        await this.applyKeyless(o.barrier);
        groupEnd = o.barrier.offset;
        continue;
      }
      groupEnd = o.offset;
      for (const part of this.splitBySlot(o, routing.slotOf.bind(routing))) {
        const slot = routing.slotOf(part.key as Buffer);
        txSlots?.add(slot);
        const covered = this.opts.slotOffsets?.get(slot);
        if (covered !== undefined && part.offset <= covered) {
          this.stats.alreadyApplied++;
          continue;
        }
        let g = groups.get(slot);
        if (!g) groups.set(slot, (g = []));
        g.push(part);
      }
    }
    const end: Checkpoint = { replid: this.applied.replid, offset: this.lastOffset(cmds), db: this.db };
    await flushGroups(end.offset, end.db);
    this.stats.batches++;
    Object.assign(this.applied, end);
    if (this.rejected !== null) await this.writeBase();
    this.stopIfRejected();
    if (Date.now() - this.lastBase >= 1000) await this.writeBase();
  }

  private splitBySlot(op: Op, slotOf: (k: Buffer) => number): Op[] {
    const name = commandName(op.argv);
    if (!SPLITTABLE.has(name)) return [op];
    const step = name === 'mset' ? 2 : 1;
    const bySlot = new Map<number, Buffer[]>();
    for (let i = 1; i + step - 1 < op.argv.length; i += step) {
      const s = slotOf(op.argv[i] as Buffer);
      let args = bySlot.get(s);
      if (!args) bySlot.set(s, (args = [op.argv[0] as Buffer]));
      for (let j = 0; j < step; j++) args.push(op.argv[i + j] as Buffer);
    }
    if (bySlot.size <= 1) return [op];
    this.stats.splitCommands++;
    return [...bySlot.values()].map((argv) => ({ argv, key: argv[1] as Buffer, db: op.db, offset: op.offset }));
  }

  /** One transaction per slot (with its checkpoint), every node in parallel, every slot of a node in order. */
  private async applySlotGroups(groups: Map<number, Op[]>, end: Checkpoint): Promise<void> {
    const routing = this.opts.target.routing!;
    for (let attempt = 0; ; attempt++) {
      const byNode = new Map<TargetNode, [number, Op[]][]>();
      for (const [slot, ops] of groups) {
        const node = routing.nodeForKey((ops[0] as Op).key as Buffer);
        let l = byNode.get(node);
        if (!l) byNode.set(node, (l = []));
        l.push([slot, ops]);
      }
      const done = new Set<number>();
      try {
        await Promise.all(
          [...byNode].map(async ([node, list]) => {
            for (const [slot, ops] of list) {
              await this.transaction(node, ops, [
                'SET',
                slotCheckpointKey(this.opts.name, slot),
                encodeCheckpoint(end),
              ]);
              done.add(slot);
              (this.opts.slotOffsets ??= new Map()).set(slot, end.offset);
            }
          }),
        );
        return;
      } catch (err) {
        if (!(err instanceof MovedError) || attempt >= MAX_TX_RETRIES) throw err;
        this.opts.core.stats.redirects++;
        for (const s of done) groups.delete(s);
        await sleep(50);
        await routing.refresh();
      }
    }
  }

  /** A keyless command on a cluster target: every master (FLUSHALL, FUNCTION, SCRIPT) or any one of them. */
  private async applyKeyless(op: Op): Promise<void> {
    const name = commandName(op.argv);
    const route = commandRoute(op.argv, name);
    const masters = this.opts.target.masters();
    const nodes = route.kind === 'all-masters' ? masters : [masters[0] as TargetNode];
    if (name === 'swapdb' || name === 'move' || (name === 'copy' && op.argv.some((a) => /^db$/i.test(a.toString())))) {
      throw new Error(
        `${name.toUpperCase()} in the source's stream: a cluster target has only db 0 (filter that db out or sync into a standalone target)`,
      );
    }
    this.opts.dbs.map(op.db);
    await Promise.all(
      nodes.map(async (node) => {
        const [reply] = await this.opts.core.orderedWriter(node).direct([op.argv]);
        if (reply instanceof RespServerError) {
          this.opts.counters.fail({
            key: null,
            db: op.db,
            message: `${name.toUpperCase()} on ${node.addr}: ${reply.message}`,
          });
          if (this.stopOnError) {
            this.rejected ??= `${describeCommand(op.argv, op.db)} at offset ${op.offset} failed on ${node.addr}: ${reply.message}`;
          }
        } else this.opts.counters.commandsWritten++;
      }),
    );
    // FLUSHALL removed the slot checkpoints too: the base moves past it.
    Object.assign(this.applied, { offset: op.offset, db: op.db });
    if (name === 'flushall' || name === 'flushdb') this.opts.slotOffsets?.clear();
    await this.writeBase();
    this.stopIfRejected();
  }

  /**
   * At a cut-over point (everything the master sent is applied): one script per key still holding a deferred
   * expiry gives it back its real one, or deletes it (counted as expired) when that has passed, as the master
   * has or will (it no longer serves an expired key, so nothing later in the stream can revive it).
   */
  async sweepExpiries(): Promise<void> {
    await this.settlePending();
    const sweep = this.expiry.sweep();
    if (sweep.length === 0) return;
    const tag: ReplyTag = {
      onReply: (reply: RespValue, argv: Argv) => {
        if (reply instanceof RespServerError) {
          this.opts.counters.fail({
            key: Buffer.isBuffer(argv[3]) ? argv[3] : null,
            db: null,
            message: `the expiry sweep failed: ${reply.message}`,
          });
        } else this.expiry.swept(reply);
      },
    };
    const used = new Set<ConnWriter>();
    for (const { db, argv } of sweep) {
      const node = this.cluster ? this.opts.core.nodeForKey(argv[3] as Buffer) : this.opts.target.masters()[0]!;
      const w = this.opts.core.orderedWriter(node);
      w.push(argv, tag, this.opts.core.canSelect ? this.opts.dbs.map(db) : null);
      used.add(w);
      if (w.busy) await w.ready();
    }
    for (const w of used) await w.drain();
  }

  /** Nothing more to apply for now: the batch in flight applied, the cluster base checkpoint up to date. */
  async idle(): Promise<void> {
    await this.settlePending();
    if (this.cluster && this.baseOffset !== this.applied.offset) await this.writeBase();
  }

  /** Cluster: every slot is applied up to `applied.offset`; record it in the base key. */
  async writeBase(): Promise<void> {
    if (!this.cluster) return;
    this.baseOffset = this.applied.offset;
    const key = checkpointKey(this.opts.name);
    const node = this.opts.core.nodeForKey(Buffer.from(key));
    const [r] = await this.opts.core.orderedWriter(node).direct([['SET', key, encodeCheckpoint(this.applied)]]);
    if (r instanceof RespServerError) throw new Error(`the checkpoint write failed on ${node.addr}: ${r.message}`);
    this.lastBase = Date.now();
  }

  warnOnce(message: string, id = message): void {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.opts.onWarning?.(message);
  }
}

/** A command the target does not have or refused, with [sync] on_error = stop: the run ends (key named). */
export class CommandRejectedError extends Error {
  override readonly name = 'CommandRejectedError';
}

/** A slot migration seen in a source cluster node's stream: the run stops (a reshard is not followed). */
export class ReshardError extends Error {
  override readonly name = 'ReshardError';
}

/** `INCR "key" (db 0)` for messages (the command's name and first key, printable). */
function describeCommand(argv: Argv, db: number | null): string {
  const key = argv[1];
  const k = key === undefined ? '' : ` ${printableKey(Buffer.isBuffer(key) ? key : Buffer.from(key))}`;
  return `${String(argv[0]).toUpperCase()}${k}${db === null ? '' : ` (db ${db})`}`;
}

class MovedError extends Error {
  override readonly name = 'MovedError';
}

function sha1(body: Buffer): string {
  return createHash('sha1').update(body).digest('hex');
}
