/**
 * `RESTORE key ttl payload [ABSTTL] [REPLACE]` for a value body captured from an RDB: the command writes
 * itself (ConnWriter.pushEncoded), the DUMP payload built in place in the batch (type byte, body, RDB version,
 * CRC64 over those bytes where they lie), so a small key costs one copy of its body and no allocation; or a whole
 * DUMP payload (as the source wrote it, its CRC left to the target, or one re-encoded for the target), copied as it
 * is. One object is set up per key (head, then body or payload) and reused. The only place the sink lays out a
 * RESTORE; a command too big for the batch slab goes as argv().
 */
import {
  bulkByteLength,
  decimalLength,
  writeArrayHeader,
  writeBulk,
  writeBulkHeader,
  writeBytes,
  writeDecimalBulk,
} from '@shake/resp';
import { buildDumpPayloadBuffer, dumpPayloadLength, writeDumpPayload } from '@shake/rdb';
import type { Argv } from '../../rewrite/key-rewriter.js';
import type { CommandEncoder } from './conn-writer.js';

const RESTORE = Buffer.from('$7\r\nRESTORE\r\n');
const ABSTTL = Buffer.from('$6\r\nABSTTL\r\n');
const REPLACE = Buffer.from('$7\r\nREPLACE\r\n');

export class RestoreCommand implements CommandEncoder {
  private key: Buffer = Buffer.alloc(0);
  private ttl = 0;
  private absTtl = false;
  private replace = false;
  private rdbType = 0;
  private raw: Buffer = Buffer.alloc(0);
  private rdbVersion = 0;
  /** A whole payload sent as it is (payload()), else null: built from the body. */
  private whole: Buffer | null = null;
  length = 0;

  /**
   * Starts the command of one key: `ttl` is 0 (none), an absolute unix time in ms (absTtl) or a relative one.
   * Then body() or payload() gives the value.
   */
  head(key: Buffer, ttl: number, absTtl: boolean, replace: boolean): this {
    this.key = key;
    this.ttl = ttl;
    this.absTtl = absTtl;
    this.replace = replace;
    return this;
  }

  /** The value as a captured body: its DUMP payload is built for `rdbVersion` as the command is written. */
  body(rdbType: number, body: Buffer, rdbVersion: number): this {
    this.rdbType = rdbType;
    this.raw = body;
    this.rdbVersion = rdbVersion;
    this.whole = null;
    return this.measure(dumpPayloadLength(body.length));
  }

  /** The value as a whole DUMP payload, sent byte for byte. */
  payload(payload: Buffer): this {
    this.whole = payload;
    return this.measure(payload.length);
  }

  private measure(payloadLength: number): this {
    const { key, ttl, absTtl, replace } = this;
    const args = 4 + (absTtl ? 1 : 0) + (replace ? 1 : 0);
    this.length =
      3 +
      decimalLength(args) +
      RESTORE.length +
      bulkByteLength(key.length) +
      bulkByteLength(decimalLength(ttl)) +
      bulkByteLength(payloadLength) +
      (absTtl ? ABSTTL.length : 0) +
      (replace ? REPLACE.length : 0);
    return this;
  }

  write(target: Buffer, p: number): number {
    p = writeArrayHeader(target, p, 4 + (this.absTtl ? 1 : 0) + (this.replace ? 1 : 0));
    target.set(RESTORE, p);
    p += RESTORE.length;
    p = writeBulk(target, p, this.key);
    p = writeDecimalBulk(target, p, this.ttl);
    if (this.whole !== null) {
      p = writeBulk(target, p, this.whole);
    } else {
      p = writeBulkHeader(target, p, dumpPayloadLength(this.raw.length));
      p = writeDumpPayload(target, p, this.rdbType, this.raw, this.rdbVersion);
      target[p++] = 0x0d;
      target[p++] = 0x0a;
    }
    if (this.absTtl) p = writeBytes(target, p, ABSTTL);
    if (this.replace) p = writeBytes(target, p, REPLACE);
    return p;
  }

  argv(): Argv {
    const argv: Argv = [
      'RESTORE',
      this.key,
      String(this.ttl),
      this.whole ?? buildDumpPayloadBuffer(this.rdbType, this.raw, this.rdbVersion),
    ];
    if (this.absTtl) argv.push('ABSTTL');
    if (this.replace) argv.push('REPLACE');
    return argv;
  }
}
