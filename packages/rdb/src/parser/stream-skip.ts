/**
 * Keys-only parsing (`values: false`) of a stream: its value walked by its framing (the layout in stream.ts)
 * and skipped, as skip.ts does for the other types: node keys and node listpacks skipped as they arrive (no
 * LZF, no listpack decoding, no entry objects), ids and counts read, PEL ids and times skipped. Like skip.ts it
 * checks only the framing (a node listpack's contents, a PEL id that no group holds, are not looked at).
 *
 * Units, each read whole and then committed (`cur.mark = cur.pos`): one string header (a string's payload is
 * skipped in pieces), the metadata, the rest of a group header, one group PEL entry, the consumer count, the
 * rest of a consumer header, one consumer PEL id.
 */
import { RDB_TYPE } from '../constants.js';
import type { KeyHeader } from '../types.js';
import type { ValueDecoder } from './context.js';
import { hex, type Cursor } from './cursor.js';
import { skipStringHeader } from './skip.js';

const PHASE = {
  NODE_KEY: 0,
  NODE_LISTPACK: 1,
  META: 2,
  GROUP_NAME: 3,
  GROUP_REST: 4,
  GROUP_PEL: 5,
  CONSUMER_COUNT: 6,
  CONSUMER_NAME: 7,
  CONSUMER_REST: 8,
  CONSUMER_PEL: 9,
  DONE: 10,
} as const;

/** Whether a value type id is a stream (the same ids under both magics). */
export function isStreamType(rdbType: number): boolean {
  return (
    rdbType === RDB_TYPE.STREAM_LISTPACKS ||
    rdbType === RDB_TYPE.STREAM_LISTPACKS_2 ||
    rdbType === RDB_TYPE.STREAM_LISTPACKS_3
  );
}

/** Reused for every stream key of a parser: reset() with the key's type id, then begin/step. */
export class StreamSkipDecoder implements ValueDecoder {
  private version = 1;
  private phase: number = PHASE.NODE_KEY;
  /** Nodes, or PEL entries of the current group or consumer, left. */
  private left = 0;
  private groupsLeft = 0;
  private consumersLeft = 0;
  /** Payload bytes of the current string still to skip. */
  private skipLeft = 0;

  constructor(private readonly cur: Cursor) {}

  reset(rdbType: number): this {
    this.version = rdbType === RDB_TYPE.STREAM_LISTPACKS ? 1 : rdbType === RDB_TYPE.STREAM_LISTPACKS_2 ? 2 : 3;
    this.phase = PHASE.NODE_KEY;
    this.skipLeft = 0;
    return this;
  }

  begin(_header: KeyHeader): undefined {
    this.left = this.cur.count('stream node count');
    return undefined;
  }

  step(): void {
    const cur = this.cur;
    for (;;) {
      if (this.skipLeft > 0) {
        this.skipLeft -= cur.skipAvailable(this.skipLeft);
        cur.mark = cur.pos;
        if (this.skipLeft > 0) cur.need(1); // starved: wait for the next chunk
      }
      switch (this.phase) {
        case PHASE.NODE_KEY:
          if (this.left === 0) {
            this.phase = PHASE.META;
            continue;
          }
          this.skipLeft = skipStringHeader(cur);
          this.phase = PHASE.NODE_LISTPACK;
          break;
        case PHASE.NODE_LISTPACK:
          this.skipLeft = skipStringHeader(cur);
          this.left--;
          this.phase = PHASE.NODE_KEY;
          break;
        case PHASE.META:
          cur.count('stream length');
          skipIds(cur, this.version >= 2 ? 3 : 1);
          if (this.version >= 2) skipLen(cur); // entries added
          this.groupsLeft = cur.count('stream group count');
          this.phase = PHASE.GROUP_NAME;
          break;
        case PHASE.GROUP_NAME:
          if (this.groupsLeft === 0) {
            this.phase = PHASE.DONE;
            return;
          }
          this.skipLeft = skipStringHeader(cur);
          this.phase = PHASE.GROUP_REST;
          break;
        case PHASE.GROUP_REST:
          skipIds(cur, 1); // last delivered id
          if (this.version >= 2) skipLen(cur); // entries read
          this.left = cur.count('stream PEL size');
          this.phase = PHASE.GROUP_PEL;
          break;
        case PHASE.GROUP_PEL:
          if (this.left === 0) {
            this.phase = PHASE.CONSUMER_COUNT;
            continue;
          }
          cur.skip(16 + 8); // raw id, delivery time
          cur.count('stream delivery count');
          this.left--;
          break;
        case PHASE.CONSUMER_COUNT:
          this.consumersLeft = cur.count('stream consumer count');
          this.phase = PHASE.CONSUMER_NAME;
          break;
        case PHASE.CONSUMER_NAME:
          if (this.consumersLeft === 0) {
            this.groupsLeft--;
            this.phase = PHASE.GROUP_NAME;
            continue;
          }
          this.skipLeft = skipStringHeader(cur);
          this.phase = PHASE.CONSUMER_REST;
          break;
        case PHASE.CONSUMER_REST:
          cur.skip(this.version >= 3 ? 16 : 8); // seen time [, active time]
          this.left = cur.count('stream consumer PEL size');
          this.phase = PHASE.CONSUMER_PEL;
          break;
        case PHASE.CONSUMER_PEL:
          if (this.left === 0) {
            this.consumersLeft--;
            this.phase = PHASE.CONSUMER_NAME;
            continue;
          }
          cur.skip(16); // raw id
          this.left--;
          break;
        default:
          return;
      }
      cur.mark = cur.pos;
    }
  }
}

/** Skips `n` stream ids (ms and seq, each an RDB length of up to 64 bits). */
function skipIds(cur: Cursor, n: number): void {
  for (let i = 0; i < 2 * n; i++) skipLen(cur);
}

/** Skips an RDB length of up to 64 bits (as Cursor.lenBig reads it, without making a bigint). */
function skipLen(cur: Cursor): void {
  const start = cur.pos;
  const b = cur.u8();
  const t = b >> 6;
  if (t === 0) return;
  if (t === 1) cur.skip(1);
  else if (b === 0x80) cur.skip(4);
  else if (b === 0x81) cur.skip(8);
  else throw cur.error(`invalid length encoding byte 0x${hex(b)}`, cur.at(start));
}
