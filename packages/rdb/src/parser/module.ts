/**
 * Module values (RDB_TYPE_MODULE_2, 7) and module aux data (RDB_OPCODE_MODULE_AUX): a 64-bit module id,
 * then typed fields (RDB_MODULE_OPCODE_SINT/UINT: a length-encoded integer; FLOAT: 4 bytes; DOUBLE: 8
 * bytes; STRING: an RDB string) until RDB_MODULE_OPCODE_EOF (rdb.c rdbLoadCheckModuleValue). They can
 * be walked without the module; the exact bytes are kept so the value can be restored as is.
 * RDB_TYPE_MODULE_PRE_GA (6) has no such annotations and cannot be walked.
 */
import { RDB_MODULE_OPCODE } from '../constants.js';
import type { KeyHeader, ModuleValue } from '../types.js';
import { moduleTypeName } from '../module-id.js';
import type { DecodeContext, ValueDecoder } from './context.js';
import type { Cursor } from './cursor.js';

/** Read module fields, one per unit, until the EOF opcode. Returns when the EOF opcode was read. */
export function readModuleFields(cur: Cursor, name: string): void {
  for (;;) {
    const at = cur.pos;
    const opcode = cur.len();
    switch (opcode) {
      case RDB_MODULE_OPCODE.EOF:
        cur.mark = cur.pos;
        return;
      case RDB_MODULE_OPCODE.SINT:
      case RDB_MODULE_OPCODE.UINT:
        cur.lenBig();
        break;
      case RDB_MODULE_OPCODE.FLOAT:
        cur.skip(4);
        break;
      case RDB_MODULE_OPCODE.DOUBLE:
        cur.skip(8);
        break;
      case RDB_MODULE_OPCODE.STRING:
        cur.string();
        break;
      default:
        throw cur.error(`unknown module opcode ${opcode} in a value of module type ${name}`, cur.at(at));
    }
    if (cur.capturedLength > cur.maxElementSize) {
      throw cur.error(`module ${name} value exceeds maxElementSize ${cur.maxElementSize}`, cur.at(at));
    }
    cur.mark = cur.pos;
  }
}

/** RDB_TYPE_MODULE_2: the parser starts the capture at the module id; this decoder ends it at EOF. */
export class ModuleDecoder implements ValueDecoder {
  private moduleId = 0n;
  private name = '';
  private encver = 0;
  captured: Buffer | null = null;

  constructor(
    private readonly ctx: DecodeContext,
    private readonly preGa: boolean,
  ) {}

  begin(_header: KeyHeader): undefined {
    const cur = this.ctx.cur;
    const at = cur.pos;
    this.moduleId = cur.lenBig();
    const { name, encver } = moduleTypeName(this.moduleId);
    if (this.preGa) {
      throw cur.error(
        `module value of type ${name} (pre-GA module format) cannot be parsed without the module`,
        cur.at(at),
      );
    }
    this.name = name;
    this.encver = encver;
    return undefined;
  }

  step(): void {
    const cur = this.ctx.cur;
    readModuleFields(cur, this.name);
    const raw = cur.endCapture();
    if (!raw) throw cur.error(`module ${this.name} value exceeds maxElementSize ${cur.maxElementSize}`);
    this.captured = raw;
    const value: ModuleValue = { moduleId: this.moduleId, name: this.name, encver: this.encver, raw };
    this.ctx.emit({ kind: 'module', value });
  }
}
