/**
 * The EXISTS pre-check that keeps `--on-conflict skip|error` from touching an existing key when the key is
 * written as commands (RESTORE without REPLACE checks by itself: BUSYKEY). Keys wait here, with their
 * commands, until a batch of them is checked in one round trip per connection; then the commands of the
 * keys that do not exist are queued. Memory: bounded by maxKeys / maxBytes of queued commands.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RespServerError, type RespValue } from '@shake/resp';
import type { RouteState } from '../../cluster/index.js';
import type { Argv } from '../../rewrite/key-rewriter.js';
import { argvBytes, type ConnWriter } from './conn-writer.js';
import type { SinkCore } from './core.js';
import type { KeyWrite } from './key-write.js';

export interface PendingKey {
  writer: ConnWriter;
  ref: KeyWrite;
  db: number;
  key: Buffer;
  cmds: Argv[];
  /** Redirects and retries of its EXISTS so far (the router's bound applies). */
  route?: RouteState;
}

/** What a round of EXISTS asks for before the keys it could not check are checked again. */
interface Again {
  keys: PendingKey[];
  delayMs: number;
  refresh: boolean;
}

export class Prechecks {
  private queue: PendingKey[] = [];
  private bytes = 0;

  constructor(
    private readonly core: SinkCore,
    private readonly maxKeys = 256,
    private readonly maxBytes = 8 << 20,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  add(p: PendingKey): Promise<void> | undefined {
    this.queue.push(p);
    for (const a of p.cmds) this.bytes += argvBytes(a);
    if (this.queue.length >= this.maxKeys || this.bytes >= this.maxBytes) return this.flush();
    return undefined;
  }

  /** Checks every queued key and queues the commands of those that do not exist. */
  async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const q = this.queue;
      this.queue = [];
      this.bytes = 0;
      const groups = new Map<ConnWriter, PendingKey[]>();
      for (const p of q) {
        const g = groups.get(p.writer);
        if (g) g.push(p);
        else groups.set(p.writer, [p]);
      }
      const again: Again = { keys: [], delayMs: 0, refresh: false };
      await Promise.all([...groups].map(([w, keys]) => this.check(w, keys, again)));
      if (again.keys.length > 0) {
        await this.beforeAgain(again.delayMs, again.refresh);
        for (const p of again.keys) {
          p.writer = this.core.writerForKey(p.key);
          this.queue.push(p);
        }
      }
    }
  }

  /** The router's backoff and slot-map refresh before EXISTS is sent again (a MOVED already updated its slot). */
  private async beforeAgain(delayMs: number, refresh: boolean): Promise<void> {
    if (delayMs > 0) await sleep(delayMs);
    if (refresh) await this.core.target.routing?.refresh().catch(() => undefined);
  }

  /** One key, now (a big key about to stream): true when it exists. */
  async existsNow(w: ConnWriter, db: number, key: Buffer): Promise<boolean> {
    const state: RouteState = { redirects: 0, retries: 0 };
    for (;;) {
      const [reply] = await this.exists(w, [{ db, key }]);
      if (!(reply instanceof RespServerError)) return reply === 1;
      const d = this.core.decide(key, reply, w.node, state);
      // ASK: the slot is migrating; the commands themselves will follow the ASK (no conflict check possible).
      if (d.action === 'retry' && d.asking) return false;
      if (d.action !== 'retry') {
        const why = d.action === 'fail' ? d.message : reply.message;
        throw new Error(`EXISTS failed on ${w.node.addr}: ${why}`);
      }
      await this.beforeAgain(d.delayMs, d.refresh);
      w = this.core.writerForKey(key);
    }
  }

  private async check(w: ConnWriter, keys: PendingKey[], again: Again): Promise<void> {
    const replies = await this.exists(w, keys);
    keys.forEach((p, i) => {
      const r = replies[i];
      if (r instanceof RespServerError) {
        p.route ??= { redirects: 0, retries: 0 };
        const d = this.core.decide(p.key, r, w.node, p.route);
        if (d.action === 'retry' && d.asking) {
          // The slot is migrating: the commands themselves will follow the ASK; no conflict check possible.
          this.send(p);
        } else if (d.action === 'retry') {
          again.keys.push(p);
          again.delayMs = Math.max(again.delayMs, d.delayMs);
          again.refresh ||= d.refresh;
        } else {
          this.core.fail(p.key, p.db, `EXISTS: ${d.action === 'fail' ? d.message : r.message}`);
        }
      } else if (r === 1) {
        this.core.conflict(p.key, p.db);
      } else {
        this.send(p);
      }
    });
  }

  private send(p: PendingKey): void {
    for (const a of p.cmds) {
      p.ref.sent();
      p.writer.push(a, p.ref, p.db);
    }
    p.ref.close();
  }

  /** EXISTS for each key in its db, on the writer's connection, leaving the connection's db as it was. */
  private async exists(w: ConnWriter, keys: readonly { db: number; key: Buffer }[]): Promise<RespValue[]> {
    const argvs: Argv[] = [];
    const at: number[] = [];
    let db = w.db;
    for (const k of keys) {
      if (k.db !== db && this.core.canSelect) {
        argvs.push(['SELECT', String(k.db)]);
        db = k.db;
      }
      at.push(argvs.length);
      argvs.push(['EXISTS', k.key]);
    }
    if (db !== w.db) argvs.push(['SELECT', String(w.db)]);
    const replies = await w.direct(argvs);
    return at.map((i) => replies[i] ?? null);
  }
}
