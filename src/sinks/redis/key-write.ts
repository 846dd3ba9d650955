/**
 * The reply bookkeeping of one key being written: how many of its commands are still unanswered, whether
 * one failed (and why), whether it met an existing key. When the last reply is in and the key is closed
 * (no more commands will come), the outcome goes to the sink: written, skipped as a conflict, or failed.
 * Every error reply is first offered to the sink's reroute() (the cluster router decides: MOVED/ASK, or a
 * wait-and-retry reply such as LOADING or TRYAGAIN): a command sent again does not count as answered.
 */
import { RespServerError, type RespValue } from '@shake/resp';
import type { Argv } from '../../rewrite/key-rewriter.js';
import type { ConnWriter, ReplyTag } from './conn-writer.js';

export interface KeyOutcomes {
  keyDone(k: KeyWrite): void;
  /** True when the reply was handled by routing (sent again, or given up and reported); false: a plain error. */
  reroute(tag: ReplyTag, argv: Argv, reply: RespServerError, conn: ConnWriter, db: number): boolean;
}

export class KeyWrite implements ReplyTag {
  outstanding = 0;
  closed = false;
  /** First failure message; null while everything succeeded. */
  failure: string | null = null;
  /** The key existed (BUSYKEY from RESTORE without REPLACE, or the EXISTS pre-check). */
  conflict = false;
  /** Hash field TTLs its commands leave out (a target before 7.4): reported only when the key is written. */
  droppedFieldTtls = 0;

  constructor(
    readonly db: number,
    readonly key: Buffer,
    private readonly outcomes: KeyOutcomes,
  ) {}

  /** Counts one more command sent for this key. */
  sent(): void {
    this.outstanding++;
  }

  onReply(reply: RespValue, argv: Argv, conn: ConnWriter, db: number): void {
    if (reply instanceof RespServerError) {
      if (reply.code === 'BUSYKEY') this.conflict = true;
      else if (this.outcomes.reroute(this, argv, reply, conn, db)) return;
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

  onReply(reply: RespValue, argv: Argv, conn: ConnWriter, db: number): void {
    if (!(reply instanceof RespServerError)) {
      this.outcomes.written();
      return;
    }
    const key = argv[1] as Buffer;
    if (reply.code === 'BUSYKEY') this.outcomes.conflict(key, this.db);
    else if (!this.outcomes.reroute(this, argv, reply, conn, db)) {
      this.outcomes.fail(key, this.db, `${String(argv[0])}: ${reply.message}`);
    }
  }
}
