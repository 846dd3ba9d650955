/**
 * One side of a check (the live source or the target) as check reads it: per-key commands for a page of
 * keys of one db, pipelined, sent to the node that serves each key (a standalone server, or the slot's master
 * of a cluster, through the routing of sinks/redis/open-target.ts), replies back in key order. Check only
 * reads; a MOVED/ASK (resharding during the check) fails the check with a message instead of guessing.
 */
import { RespServerError, type RespValue } from '@shake/resp';
import { RefusalReply } from '../redis/errors.js';
import type { TargetFeatures } from '../rewrite/features.js';
import type { Argv } from '../rewrite/key-rewriter.js';
import type { RedisTarget, TargetNode } from '../sinks/redis/target.js';

export class CheckError extends Error {
  override readonly name = 'CheckError';
}

export class CheckSide {
  private turn = 0;
  /**
   * MEMORY USAGE answers (false after the first refusal: every key is then taken as small). A proxy (twemproxy)
   * closes the connection on it: never sent there; the source's answer alone sorts the keys into small and big.
   */
  memoryUsage: boolean;

  constructor(
    /** 'source' or 'target', for messages. */
    readonly name: string,
    readonly server: RedisTarget,
  ) {
    this.memoryUsage = !this.proxy;
  }

  /** A proxy (twemproxy): per-key commands only (no INFO, SCAN, SELECT, MEMORY, FUNCTION, PEXPIRETIME). */
  get proxy(): boolean {
    return this.server.profile.kind === 'proxy';
  }

  get features(): TargetFeatures {
    return this.server.profile.features;
  }

  get cluster(): boolean {
    return this.server.profile.kind === 'cluster';
  }

  /** PEXPIRETIME (7.0+) gives absolute expiries; else PTTL, compared with a tolerance. */
  get absoluteTtl(): boolean {
    const v = this.features.version;
    return v[0] >= 7 && !this.proxy;
  }

  /**
   * For each key, the commands `argvs(key)` returns, sent in db `db`; resolves with each key's replies.
   * Error replies are values (RespServerError); a redirect or a refusal (NOPERM) throws.
   */
  async perKey(db: number, keys: readonly Buffer[], argvs: (key: Buffer) => Argv[]): Promise<RespValue[][]> {
    if (keys.length === 0) return [];
    const groups = new Map<TargetNode, number[]>();
    const routing = this.server.routing;
    if (routing && db !== 0) throw new CheckError(`db ${db}: the ${this.name} is a cluster and has only db 0`);
    for (let i = 0; i < keys.length; i++) {
      const node = routing ? routing.nodeForKey(keys[i]!) : this.server.masters()[0]!;
      let g = groups.get(node);
      if (!g) groups.set(node, (g = []));
      g.push(i);
    }
    const out: RespValue[][] = new Array<RespValue[]>(keys.length);
    await Promise.all(
      [...groups].map(async ([node, idx]) => {
        const batch: Argv[] = [];
        const counts: number[] = [];
        if (!routing && this.features.select) batch.push(['SELECT', String(db)]);
        for (const i of idx) {
          const cmds = argvs(keys[i]!);
          counts.push(cmds.length);
          for (const c of cmds) batch.push(c);
        }
        const conn = node.conns[this.turn++ % node.conns.length]!;
        const replies = await conn.sendBatch(batch);
        let at = !routing && this.features.select ? 1 : 0;
        if (at === 1 && replies[0] instanceof RespServerError) {
          throw new CheckError(`SELECT ${db} on the ${this.name} ${node.addr} failed: ${replies[0].message}`);
        }
        idx.forEach((i, j) => {
          const n = counts[j]!;
          const mine = replies.slice(at, at + n);
          at += n;
          for (const r of mine) {
            // NOPERM (or NOAUTH): every key would differ; the message says what to do (redis/errors.ts).
            if (r instanceof RefusalReply) throw new CheckError(r.message);
            if (r instanceof RespServerError && /^(MOVED|ASK) /.test(r.message)) {
              throw new CheckError(
                `the ${this.name} cluster answered ${r.message} during the check (resharding?): run the check again`,
              );
            }
          }
          out[i] = mine;
        });
      }),
    );
    return out;
  }

  /** Commands for one key. */
  async forKey(db: number, key: Buffer, argvs: Argv[]): Promise<RespValue[]> {
    const [r] = await this.perKey(db, [key], () => argvs);
    return r!;
  }

  /** One command on every master (e.g. FUNCTION LIST); replies in master order. */
  async everyMaster(argv: Argv): Promise<RespValue[]> {
    return Promise.all(this.server.masters().map(async (n) => (await n.conns[0]!.sendBatch([argv]))[0]!));
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** A reply that must not be an error: throws a CheckError naming the command and side. */
export function ok(reply: RespValue | undefined, what: string, side: CheckSide): RespValue {
  if (reply instanceof RespServerError) throw new CheckError(`${what} on the ${side.name} failed: ${reply.message}`);
  if (reply === undefined) throw new CheckError(`${what} on the ${side.name}: no reply`);
  return reply;
}

export function int(reply: RespValue | undefined): number {
  if (typeof reply === 'number') return reply;
  if (typeof reply === 'bigint') return Number(reply);
  if (Buffer.isBuffer(reply)) return Number(reply.toString('latin1'));
  if (typeof reply === 'string') return Number(reply);
  return NaN;
}
