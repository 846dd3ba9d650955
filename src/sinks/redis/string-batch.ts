/**
 * Strings without a TTL, into a standalone target, go many keys to one command: `MSET k1 v1 k2 v2 ...` under
 * --on-conflict replace, `MSETNX ...` under skip and error (atomic: it sets every key or, when one exists,
 * none). Redis spends about a third less CPU on a key in an MSET of a hundred than on its own RESTORE (no
 * command dispatch, no DUMP payload to check and load per key; 540k 48-byte strings: 0.81-0.86 s vs 1.19-1.36 s
 * of server CPU), and shake reads one reply instead of a hundred and computes no CRC-64. The value is written
 * from the key's serialized body (@shake/rdb writeStringBody: plain, integer or LZF) straight into the command.
 *
 * Only where the order of keys cannot matter: every key of an RDB is unique in its db, so this is used only when
 * no two source dbs can land in one target db (no merging --db-map). Outcomes: an MSET's +OK (or MSETNX's 1)
 * counts every key written; MSETNX's 0 (some key exists) sends each key again alone as `SET key value NX`, so
 * each existing key is a conflict and the others are written, as RESTORE without REPLACE would; an error reply
 * is first offered to routing (LOADING and the like: the whole command is sent again), else fails every key of
 * the command with its message.
 */
import {
  decimalLength,
  RespServerError,
  writeArrayHeader,
  writeBulkHeader,
  writeBytes,
  type RespValue,
} from '@shake/resp';
import {
  buildDumpPayloadBuffer,
  encodeString,
  parseStringBody,
  RDB_TYPE,
  writeStringBody,
  type StringBodyForm,
} from '@shake/rdb';
import type { Argv } from '../../rewrite/key-rewriter.js';
import type { CommandEncoder, ConnWriter, ReplyTag } from './conn-writer.js';
import type { SinkCore } from './core.js';
import { RestoreCommand } from './restore-command.js';

/** Keys per command. */
export const STRING_BATCH_KEYS = 100;
/** Bytes per command at most (a command stays well inside the connection's slab, see conn-writer.ts). */
const BATCH_BYTES = 48 * 1024;
/** A key whose key and value take more than this goes as its own RESTORE. */
const MAX_PAIR_BYTES = 8 * 1024;

const MSET = Buffer.from('$4\r\nMSET\r\n');
const MSETNX = Buffer.from('$6\r\nMSETNX\r\n');

/** The keys gathered for one connection: their bulk strings laid out in `buf`, the header written at push. */
class StringBatch implements CommandEncoder {
  readonly buf = Buffer.allocUnsafe(BATCH_BYTES);
  pos = 0;
  count = 0;
  db = 0;
  length = 0;

  constructor(private readonly nx: boolean) {}

  fits(pairBytes: number): boolean {
    return this.count < STRING_BATCH_KEYS && this.pos + pairBytes <= BATCH_BYTES;
  }

  /** Lays out one pair; on a malformed value (RdbError) nothing of it is kept. */
  add(key: Buffer, body: Buffer, form: StringBodyForm): void {
    let p = writeBulkHeader(this.buf, this.pos, key.length);
    p = writeBytes(this.buf, p, key);
    this.buf[p++] = 0x0d;
    this.buf[p++] = 0x0a;
    p = writeBulkHeader(this.buf, p, form.length);
    p = writeStringBody(body, this.buf, p, form);
    this.buf[p++] = 0x0d;
    this.buf[p++] = 0x0a;
    this.pos = p;
    this.count++;
  }

  /** Fixes the command's length (header + the pairs) before ConnWriter.pushEncoded reads it. */
  seal(): this {
    const args = 1 + 2 * this.count;
    this.length = 3 + decimalLength(args) + (this.nx ? MSETNX : MSET).length + this.pos;
    return this;
  }

  write(target: Buffer, p: number): number {
    p = writeArrayHeader(target, p, 1 + 2 * this.count);
    p = writeBytes(target, p, this.nx ? MSETNX : MSET);
    target.set(this.buf.subarray(0, this.pos), p);
    return p + this.pos;
  }

  argv(): Argv {
    throw new Error('a string batch is never bigger than a connection slab');
  }

  reset(): void {
    this.pos = 0;
    this.count = 0;
  }
}

/** The reply of one MSET / MSETNX: every key of it written, sent again one by one, or failed. */
class StringBatchTag implements ReplyTag {
  constructor(
    private readonly core: SinkCore,
    private readonly count: number,
    private readonly batches: StringBatches,
  ) {}

  /** MSETNX's 0 needs the keys and values back from the command's bytes. */
  argvFor(reply: RespValue): boolean {
    return reply === 0;
  }

  onReply(reply: RespValue, argv: Argv, conn: ConnWriter, db: number): void {
    if (reply instanceof RespServerError) {
      if (reply.code === 'NOPERM') {
        // A user allowed RESTORE but not MSET/MSETNX: from now on, and for these keys, one RESTORE per key.
        this.batches.off = true;
        this.asRestores(argv, conn, db);
        return;
      }
      if (this.core.reroute(this, argv, reply, conn, db)) return;
      for (let i = 1; i + 1 < argv.length; i += 2) {
        this.core.fail(argv[i] as Buffer, db, `${String(argv[0])}: ${reply.message}`);
      }
      return;
    }
    if (reply === 0) {
      // MSETNX met an existing key and set none: each key alone, so only the existing ones are conflicts.
      for (let i = 1; i + 1 < argv.length; i += 2) {
        const key = argv[i] as Buffer;
        this.core.resend(new SetNxTag(this.core, key), ['SET', key, argv[i + 1] as Buffer, 'NX'], db, conn);
      }
      return;
    }
    for (let i = 0; i < this.count; i++) this.core.written();
  }

  private asRestores(argv: Argv, conn: ConnWriter, db: number): void {
    const { rdbVersion, features } = this.core.target.profile;
    // NOPERM means ACLs, so Redis 6+: RESTORE has REPLACE.
    const replace = this.core.onConflict === 'replace' && features.restoreReplace;
    const tag = this.core.singleTag(db);
    const cmd = new RestoreCommand();
    this.core.stats.stringBatched -= this.count;
    this.core.stats.restoreEncoded += this.count;
    for (let i = 1; i + 1 < argv.length; i += 2) {
      const payload = buildDumpPayloadBuffer(RDB_TYPE.STRING, encodeString(argv[i + 1] as Buffer), rdbVersion);
      this.core.resend(
        tag,
        cmd
          .head(argv[i] as Buffer, 0, false, replace)
          .payload(payload)
          .argv(),
        db,
        conn,
      );
    }
  }
}

/** `SET key value NX` of one key of an MSETNX that met an existing key. */
class SetNxTag implements ReplyTag {
  constructor(
    private readonly core: SinkCore,
    private readonly key: Buffer,
  ) {}

  onReply(reply: RespValue, argv: Argv, conn: ConnWriter, db: number): void {
    if (reply instanceof RespServerError) {
      if (!this.core.reroute(this, argv, reply, conn, db)) this.core.fail(this.key, db, `SET: ${reply.message}`);
    } else if (reply === null) {
      this.core.conflict(this.key, db);
    } else {
      this.core.written();
    }
  }
}

export class StringBatches {
  private readonly open = new Map<ConnWriter, StringBatch>();
  /** Set when the target refused MSET/MSETNX (NOPERM): every key goes as its RESTORE. */
  off = false;

  constructor(private readonly core: SinkCore) {}

  /**
   * Adds a string key (its serialized value `body`, no TTL) for connection `w` in target db `db`; false when it
   * is not one for a batch (too big): the caller sends it alone. Returns a promise when the caller must wait.
   */
  add(w: ConnWriter, db: number, key: Buffer, body: Buffer): Promise<void> | undefined | false {
    if (this.off) return false;
    const form = parseStringBody(body);
    const pair = 2 * 16 + key.length + form.length;
    if (pair > MAX_PAIR_BYTES) return false;
    let b = this.open.get(w);
    if (b === undefined) {
      b = new StringBatch(this.core.onConflict !== 'replace');
      b.db = db;
      this.open.set(w, b);
    }
    if (b.count > 0 && (b.db !== db || !b.fits(pair))) this.send(w, b);
    b.db = db;
    b.add(key, body, form);
    this.core.stats.stringBatched++;
    return w.busy ? w.ready() : undefined;
  }

  /** Sends every batch gathered so far (before the sink drains or switches to commands). */
  flush(): void {
    for (const [w, b] of this.open) if (b.count > 0) this.send(w, b);
  }

  private send(w: ConnWriter, b: StringBatch): void {
    w.pushEncoded(b.seal(), new StringBatchTag(this.core, b.count, this), b.db);
    b.reset();
  }
}
