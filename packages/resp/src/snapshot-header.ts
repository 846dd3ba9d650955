/**
 * The line that opens a replication transfer (replication.c readSyncBulkPayload): an empty line is a
 * keepalive, `-...` the master giving up, `$EOF:<40-byte mark>` the diskless form, `$<len>` the plain form.
 */
import { RDB_EOF_MARK_SIZE } from './eof-mark.js';
import { RespError } from './errors.js';
import { RespServerError } from './types.js';

export type SnapshotHeader =
  | { kind: 'keepalive' }
  | { kind: 'error'; error: RespServerError }
  | { kind: 'eof'; mark: Buffer }
  | { kind: 'length'; length: number };

const EOF_PREFIX = '$EOF:';

/** `text` is the line without its line end; `abs` its stream offset (for errors). */
export function parseSnapshotHeader(text: string, abs: number): SnapshotHeader {
  if (text === '') return { kind: 'keepalive' };
  if (text[0] === '-') return { kind: 'error', error: new RespServerError(text.slice(1)) };
  if (text.startsWith(EOF_PREFIX)) {
    const mark = Buffer.from(text.slice(EOF_PREFIX.length), 'latin1');
    if (mark.length !== RDB_EOF_MARK_SIZE) {
      throw new RespError(`EOF mark of ${mark.length} bytes, expected ${RDB_EOF_MARK_SIZE}`, abs);
    }
    return { kind: 'eof', mark };
  }
  if (!/^\$\d{1,15}$/.test(text)) {
    throw new RespError(
      `expected '$<length>' or '$EOF:<mark>' for the replication transfer, got ${JSON.stringify(text.slice(0, 64))}`,
      abs,
      text.charCodeAt(0),
    );
  }
  return { kind: 'length', length: Number(text.slice(1)) };
}
