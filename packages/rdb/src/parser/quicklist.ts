/**
 * RDB_TYPE_LIST_QUICKLIST (14): a node count, then one ziplist string per node (possibly LZF-compressed).
 * RDB_TYPE_LIST_QUICKLIST_2 (18): a node count, then per node a container (1 PLAIN: the string is one
 * element; 2 PACKED: the string is a listpack) and the string (rdb.c rdbLoadObject). One node is one unit.
 */
import { decodeListpack, decodeZiplist } from '../encodings/index.js';
import { QUICKLIST_NODE_CONTAINER } from '../constants.js';
import type { KeyHeader } from '../types.js';
import { type DecodeContext, type ValueDecoder } from './context.js';

export class QuicklistDecoder implements ValueDecoder {
  private nodes = 0;
  private batch: Buffer[] = [];

  constructor(
    private readonly ctx: DecodeContext,
    private readonly version2: boolean,
  ) {}

  begin(_header: KeyHeader): undefined {
    this.nodes = this.ctx.cur.count('quicklist node count');
    return undefined;
  }

  step(): void {
    const cur = this.ctx.cur;
    const size = this.ctx.batchSize;
    while (this.nodes > 0) {
      const nodeAt = cur.pos;
      let container: number = QUICKLIST_NODE_CONTAINER.PACKED;
      if (this.version2) {
        container = cur.len();
        if (container !== QUICKLIST_NODE_CONTAINER.PACKED && container !== QUICKLIST_NODE_CONTAINER.PLAIN) {
          throw cur.error(`invalid quicklist node container ${container}`, cur.at(nodeAt));
        }
      }
      const dataAt = cur.pos;
      const data = cur.string();
      if (data.length === 0) throw cur.error('empty quicklist node', cur.at(dataAt));
      let items: Buffer[];
      if (container === QUICKLIST_NODE_CONTAINER.PLAIN) {
        items = [data];
      } else {
        items = cur.decodeBlob(this.version2 ? decodeListpack : decodeZiplist, data, dataAt);
      }
      this.nodes--;
      cur.mark = cur.pos;
      for (const item of items) {
        this.batch.push(item);
        if (this.batch.length >= size) {
          this.ctx.emit({ kind: 'list-items', items: this.batch });
          this.batch = [];
        }
      }
    }
    if (this.batch.length > 0) {
      this.ctx.emit({ kind: 'list-items', items: this.batch });
      this.batch = [];
    }
  }
}
