/**
 * The reply bookkeeping of one key being written: how many of its commands are still unanswered, whether
 * one failed (and why), whether it met an existing key. When the last reply is in and the key is closed
 * (no more commands will come), the outcome goes to the sink: written, skipped as a conflict, or failed.
 * Cluster redirections (MOVED/ASK/TRYAGAIN/CLUSTERDOWN) are handed to the sink to re-send; they do not count
 * as answered.
 */
import { RespServerError, type RespValue } from '@shake/resp';
import type { Argv } from '../../rewrite/key-rewriter.js';
import type { ConnWriter, ReplyTag } from './conn-writer.js';

export type Redirect = 'MOVED' | 'ASK' | 'TRYAGAIN' | 'CLUSTERDOWN';

export function redirectOf(reply: RespValue): Redirect | null {
  if (!(reply instanceof RespServerError)) return null;
  const c = reply.code;
  return c === 'MOVED' || c === 'ASK' || c === 'TRYAGAIN' || c === 'CLUSTERDOWN' ? c : null;
}

export interface KeyOutcomes {
  keyDone(k: KeyWrite): void;
  redirect(tag: ReplyTag, argv: Argv, reply: RespServerError, conn: ConnWriter): void;
}

export class KeyWrite implements ReplyTag {
  outstanding = 0;
  closed = false;
  /** First failure message; null while everything succeeded. */
  failure: string | null = null;
  /** The key existed (BUSYKEY from RESTORE without REPLACE, or the EXISTS pre-check). */
  conflict = false;

  constructor(
    readonly db: number,
    readonly key: Buffer,
    private readonly outcomes: KeyOutcomes,
  ) {}

  /** Counts one more command sent for this key. */
  sent(): void {
    this.outstanding++;
  }

  onReply(reply: RespValue, argv: Argv, conn: ConnWriter): void {
    if (reply instanceof RespServerError) {
      if (redirectOf(reply) !== null) {
        this.outcomes.redirect(this, argv, reply, conn);
        return;
      }
      if (reply.code === 'BUSYKEY') this.conflict = true;
      else this.failure ??= `${String(argv[0])}: ${reply.message}`;
    }
    this.answered();
  }

  /** One command is settled (replied, or given up after redirections). */
  answered(): void {
    this.outstanding--;
    if (this.closed && this.outstanding === 0) this.outcomes.keyDone(this);
  }

  fail(message: string): void {
    this.failure ??= message;
  }

  /** No more commands for this key. */
  close(): void {
    this.closed = true;
    if (this.outstanding === 0) this.outcomes.keyDone(this);
  }
}

/**
 * The reply tag of a key written by ONE command (RESTORE): no per-key object, the key is argv[1] and the db
 * is the tag's (one tag per target db), so the common path allocates nothing for bookkeeping.
 */
export class SingleCommandTag implements ReplyTag {
  constructor(
    readonly db: number,
    private readonly outcomes: KeyOutcomes & {
      written(): void;
      conflict(key: Buffer, db: number): void;
      fail(key: Buffer | null, db: number | null, message: string): void;
    },
  ) {}

  onReply(reply: RespValue, argv: Argv, conn: ConnWriter): void {
    if (!(reply instanceof RespServerError)) {
      this.outcomes.written();
      return;
    }
    if (redirectOf(reply) !== null) {
      this.outcomes.redirect(this, argv, reply, conn);
      return;
    }
    const key = argv[1] as Buffer;
    if (reply.code === 'BUSYKEY') this.outcomes.conflict(key, this.db);
    else this.outcomes.fail(key, this.db, `${String(argv[0])}: ${reply.message}`);
  }
}
