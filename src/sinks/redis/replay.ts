/**
 * Replays commands (AOF, replication stream) on the target, in order: all through each node's first
 * connection. A MULTI ... EXEC block stays one transaction where the target allows it (standalone; a cluster
 * when every key of the block is in one slot); on a proxy, or across slots, its commands are sent one by one
 * and the split is counted. Keyless FLUSHDB/FLUSHALL/FUNCTION/SCRIPT go to every master.
 */
import { RespServerError, type RespValue } from '@shake/resp';
import type { CommandEntry } from '../../core/entry.js';
import type { Argv } from '../../rewrite/key-rewriter.js';
import { commandName, commandRoute } from '../../redis/command-keys.js';
import type { ConnWriter, ReplyTag } from './conn-writer.js';
import type { SinkCore } from './core.js';
import type { DbMapper } from './db-map.js';
import type { TargetNode } from './target.js';

/** Reply handling of a replayed command outside a transaction. */
class CommandTag implements ReplyTag {
  constructor(private readonly core: SinkCore) {}
  onReply(reply: RespValue, argv: Argv, conn: ConnWriter, db: number): void {
    if (reply instanceof RespServerError) {
      if (!this.core.reroute(this, argv, reply, conn, db)) {
        this.core.fail(keyOf(argv), null, `${String(argv[0])}: ${reply.message}`);
      }
      return;
    }
    this.core.counters.commandsWritten++;
  }
}

/**
 * A command of shake's own (CommandEntry.onReply, e.g. the sweep after an AOF): its entry sees the reply;
 * failures count as usual, a success is not counted as a replayed command of the input.
 */
class CallbackTag implements ReplyTag {
  constructor(
    private readonly core: SinkCore,
    private readonly callback: (reply: RespValue) => void,
  ) {}
  onReply(reply: RespValue, argv: Argv, conn: ConnWriter, db: number): void {
    if (reply instanceof RespServerError) {
      if (!this.core.reroute(this, argv, reply, conn, db)) {
        this.core.fail(keyOf(argv), null, `${String(argv[0])}: ${reply.message}`);
      }
      return;
    }
    this.callback(reply);
  }
}

/** Reply handling inside MULTI/EXEC: QUEUED per command, then EXEC's array of replies. */
class TransactionTag implements ReplyTag {
  constructor(private readonly core: SinkCore) {}
  onReply(reply: RespValue, argv: Argv): void {
    const name = String(argv[0]).toLowerCase();
    if (reply instanceof RespServerError) {
      if (name === 'exec') this.core.fail(null, null, `EXEC: ${reply.message}`);
      else if (name !== 'multi') this.core.fail(keyOf(argv), null, `${String(argv[0])} (in MULTI): ${reply.message}`);
      else this.core.fail(null, null, `MULTI: ${reply.message}`);
      return;
    }
    // MULTI and EXEC themselves count as replayed; the queued commands count by EXEC's replies.
    if (name === 'multi') this.core.counters.commandsWritten++;
    if (name === 'exec' && Array.isArray(reply)) {
      this.core.counters.commandsWritten++;
      for (const r of reply) {
        if (r instanceof RespServerError) this.core.fail(null, null, `command in EXEC: ${r.message}`);
        else this.core.counters.commandsWritten++;
      }
    }
  }
}

function keyOf(argv: Argv): Buffer | null {
  if (!argv.every((a) => Buffer.isBuffer(a))) return null;
  const route = commandRoute(argv as Buffer[]);
  return route.kind === 'key' ? route.key : null;
}

export class CommandReplayer {
  private readonly tag: CommandTag;
  private readonly txTag: TransactionTag;
  private tx: CommandEntry[] | null = null;

  constructor(
    private readonly core: SinkCore,
    private readonly dbs: DbMapper,
  ) {
    this.tag = new CommandTag(core);
    this.txTag = new TransactionTag(core);
  }

  get inTransaction(): boolean {
    return this.tx !== null;
  }

  /** One command entry; returns a promise only when the caller must wait (backpressure). */
  command(e: CommandEntry): Promise<void> | undefined {
    const name = commandName(e.argv);
    if (this.tx) {
      this.tx.push(e);
      if (name === 'exec') {
        const tx = this.tx;
        this.tx = null;
        return this.transaction(tx);
      }
      if (name === 'discard') this.tx = null;
      return undefined;
    }
    if (name === 'multi') {
      this.tx = [e];
      return undefined;
    }
    return this.single(e, name);
  }

  private single(e: CommandEntry, name: string): Promise<void> | undefined {
    const db = this.dbs.map(e.db);
    const route = commandRoute(e.argv, name);
    const masters = this.core.target.masters();
    let nodes: TargetNode[];
    if (route.kind === 'key') nodes = [this.core.nodeForKey(route.key)];
    else if (route.kind === 'all-masters') nodes = masters;
    else nodes = [masters[0] as TargetNode];
    let wait: Promise<void> | undefined;
    for (const node of nodes) {
      const w = this.core.orderedWriter(node);
      w.push(e.argv, e.onReply ? new CallbackTag(this.core, e.onReply) : this.tag, db);
      if (w.busy) wait = w.ready();
    }
    return wait;
  }

  private async transaction(tx: CommandEntry[]): Promise<void> {
    const inner = tx.slice(1, -1);
    const node = this.transactionNode(inner);
    if (!node) {
      this.core.stats.splitTransactions++;
      for (const e of inner) {
        const p = this.single(e, commandName(e.argv));
        if (p) await p;
      }
      return;
    }
    const w = this.core.orderedWriter(node);
    const first = tx[0] as CommandEntry;
    w.push(first.argv, this.txTag, this.dbs.map(first.db));
    for (const e of inner) w.push(e.argv, this.txTag, this.dbs.map(e.db));
    const last = tx[tx.length - 1] as CommandEntry;
    w.push(last.argv, this.txTag, this.dbs.map(last.db));
    if (w.busy) await w.ready();
  }

  /** Where the whole block can run atomically, or null when it cannot stay one transaction. */
  private transactionNode(inner: CommandEntry[]): TargetNode | null {
    const f = this.core.target.profile.features;
    if (!f.multi) return null;
    const masters = this.core.target.masters();
    const routing = this.core.target.routing;
    if (!routing) return masters[0] as TargetNode;
    let slot = -1;
    let key: Buffer | null = null;
    for (const e of inner) {
      const r = commandRoute(e.argv);
      if (r.kind === 'all-masters') return null;
      if (r.kind !== 'key') continue;
      const s = routing.slotOf(r.key);
      if (slot === -1) {
        slot = s;
        key = r.key;
      } else if (s !== slot) {
        return null;
      }
    }
    return key ? routing.nodeForKey(key) : (masters[0] as TargetNode);
  }
}
