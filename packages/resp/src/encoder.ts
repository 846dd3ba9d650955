/**
 * Command encoder: argv -> RESP array of bulk strings. `encodeCommand` returns the wire pieces: header text
 * (with string arguments merged in) and the Buffers themselves, never copying a Buffer payload; write them in
 * order (e.g. with a corked socket). Strings are encoded as UTF-8.
 */
export type CommandArg = string | Buffer;

export function encodeCommand(argv: ReadonlyArray<CommandArg>): (string | Buffer)[] {
  const out: (string | Buffer)[] = [];
  let text = `*${argv.length}\r\n`;
  for (const arg of argv) {
    if (typeof arg === 'string') {
      text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
    } else {
      text += `$${arg.length}\r\n`;
      out.push(text, arg);
      text = '\r\n';
    }
  }
  out.push(text);
  return out;
}

/** Bytes the encoded command takes on the wire. */
export function commandByteLength(argv: ReadonlyArray<CommandArg>): number {
  let n = 1 + decimalLength(argv.length) + 2;
  for (const arg of argv) {
    const len = typeof arg === 'string' ? Buffer.byteLength(arg) : arg.length;
    n += 1 + decimalLength(len) + 2 + len + 2;
  }
  return n;
}

/** The whole command in one Buffer (one allocation, payloads copied once). */
export function encodeCommandToBuffer(argv: ReadonlyArray<CommandArg>): Buffer {
  const out = Buffer.allocUnsafe(commandByteLength(argv));
  const end = writeCommand(out, 0, argv);
  return end === out.length ? out : out.subarray(0, end);
}

/** Writes the encoded command into `target` at `offset` (caller ensures room: commandByteLength); returns the end. */
export function writeCommand(target: Buffer, offset: number, argv: ReadonlyArray<CommandArg>): number {
  let p = offset;
  p += target.write(`*${argv.length}\r\n`, p, 'latin1');
  for (const arg of argv) {
    if (typeof arg === 'string') {
      const len = Buffer.byteLength(arg);
      p += target.write(`$${len}\r\n`, p, 'latin1');
      p += target.write(arg, p, 'utf8');
    } else {
      p += target.write(`$${arg.length}\r\n`, p, 'latin1');
      p += arg.copy(target, p);
    }
    target[p++] = 0x0d;
    target[p++] = 0x0a;
  }
  return p;
}

function decimalLength(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}
