/**
 * Builds RESP commands (arrays of bulk strings) into a ByteBuilder: `*<n>\r\n` then `$<len>\r\n<bytes>\r\n`
 * per argument. Arguments are copied in place; nothing is allocated per argument.
 */
import { ByteBuilder } from './byte-builder.js';

export class RespWriter {
  readonly buf = new ByteBuilder();
  commands = 0;

  /** Starts a command of `argc` arguments; follow with exactly argc arg()/text() calls. */
  begin(argc: number): this {
    this.commands++;
    this.buf.ascii(`*${argc}\r\n`);
    return this;
  }

  arg(b: Uint8Array): this {
    this.buf.ascii(`$${b.length}\r\n`).bytes(b).ascii('\r\n');
    return this;
  }

  /** An ASCII argument (command names, numbers, ids). */
  text(s: string): this {
    this.buf.ascii(`$${s.length}\r\n${s}\r\n`);
    return this;
  }

  /** A whole command of ASCII words and byte strings. */
  command(...args: (string | Uint8Array)[]): this {
    this.begin(args.length);
    for (const a of args) {
      if (typeof a === 'string') this.text(a);
      else this.arg(a);
    }
    return this;
  }
}
