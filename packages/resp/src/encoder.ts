/**
 * Command encoder: argv -> RESP array of bulk strings. `encodeCommand` returns the wire pieces: header text
 * (with string arguments merged in) and the Buffers themselves, never copying a Buffer payload; write them in
 * order (e.g. with a corked socket). Strings are encoded as UTF-8.
 */
export type CommandArg = string | Buffer;

/**
 * `count` commands already encoded as RESP arrays of bulk strings, back to back in `bytes` (a sink that writes
 * its hot command straight into a batch buffer: no argv array, no second encoding pass). A connection writes
 * the bytes as they are and expects `count` replies; `decodeCommands` gives the argvs back when needed.
 */
export class EncodedCommands {
  constructor(
    readonly bytes: Buffer,
    readonly count: number,
  ) {}
}

/** `*<n>\r\n` at `p`; returns the end. */
export function writeArrayHeader(target: Buffer, p: number, n: number): number {
  target[p++] = 0x2a; // *
  p = writeDecimal(target, p, n);
  target[p++] = 0x0d;
  target[p++] = 0x0a;
  return p;
}

/** `$<n>\r\n` at `p`; returns the end (the caller writes the n bytes and `\r\n`). */
export function writeBulkHeader(target: Buffer, p: number, n: number): number {
  target[p++] = 0x24; // $
  p = writeDecimal(target, p, n);
  target[p++] = 0x0d;
  target[p++] = 0x0a;
  return p;
}

/** Bytes of a bulk string of n bytes on the wire: `$<n>\r\n` + n + `\r\n`. */
export function bulkByteLength(n: number): number {
  return 1 + decimalLength(n) + 2 + n + 2;
}

/**
 * `buf` as a bulk string at `p`; returns the end. The bytes go by TypedArray `set` (one builtin memmove, ~23 ns
 * whatever the size up to a few hundred bytes) except the shortest: a byte loop costs 2-3 ns a byte, and
 * `Buffer#copy` 30-40 ns of argument checks.
 */
export function writeBulk(target: Buffer, p: number, buf: Buffer): number {
  const n = buf.length;
  p = writeBulkHeader(target, p, n);
  p = writeBytes(target, p, buf);
  target[p++] = 0x0d;
  target[p++] = 0x0a;
  return p;
}

/** `buf`'s bytes at `p` of `target` (see writeBulk); returns the end. */
export function writeBytes(target: Uint8Array, p: number, buf: Uint8Array): number {
  const n = buf.length;
  if (n <= 8) for (let i = 0; i < n; i++) target[p++] = buf[i]!;
  else {
    target.set(buf, p);
    p += n;
  }
  return p;
}

/** The decimal digits of a non-negative safe integer (e.g. an expire time) as a bulk string at `p`. */
export function writeDecimalBulk(target: Buffer, p: number, n: number): number {
  p = writeBulkHeader(target, p, decimalLength(n));
  p = writeDecimal(target, p, n);
  target[p++] = 0x0d;
  target[p++] = 0x0a;
  return p;
}

export function encodeCommand(argv: ReadonlyArray<CommandArg>): (string | Buffer)[] {
  const out: (string | Buffer)[] = [];
  let text = `*${argv.length}\r\n`;
  for (const arg of argv) {
    if (typeof arg === 'string') {
      text += `$${stringByteLength(arg)}\r\n${arg}\r\n`;
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
    const len = typeof arg === 'string' ? stringByteLength(arg) : arg.length;
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

/** Short strings and Buffers are copied byte by byte: cheaper than a Buffer.write / copy call. */
const SMALL = 64;

/**
 * Writes the encoded command into `target` at `offset` (the caller ensures room: commandByteLength) and
 * returns the end offset. Used to pack many small commands into one slab.
 */
export function writeCommand(target: Buffer, offset: number, argv: ReadonlyArray<CommandArg>): number {
  let p = offset;
  target[p++] = 0x2a; // *
  p = writeDecimal(target, p, argv.length);
  target[p++] = 0x0d;
  target[p++] = 0x0a;
  for (const arg of argv) {
    const headerAt = p;
    target[p++] = 0x24; // $
    if (typeof arg === 'string') {
      const n = arg.length;
      let ascii = n <= SMALL;
      if (ascii) {
        p = writeDecimal(target, p, n);
        target[p++] = 0x0d;
        target[p++] = 0x0a;
        for (let i = 0; i < n; i++) {
          const c = arg.charCodeAt(i);
          if (c >= 0x80) {
            ascii = false;
            break;
          }
          target[p++] = c;
        }
      }
      if (!ascii) {
        p = headerAt + 1;
        p = writeDecimal(target, p, Buffer.byteLength(arg));
        target[p++] = 0x0d;
        target[p++] = 0x0a;
        p += target.write(arg, p, 'utf8');
      }
    } else {
      const n = arg.length;
      p = writeDecimal(target, p, n);
      target[p++] = 0x0d;
      target[p++] = 0x0a;
      p = writeBytes(target, p, arg);
    }
    target[p++] = 0x0d;
    target[p++] = 0x0a;
  }
  return p;
}

function stringByteLength(s: string): number {
  const n = s.length;
  if (n > SMALL) return Buffer.byteLength(s);
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s);
  return n;
}

/** Writes the decimal digits of a non-negative safe integer at `p`; returns the end. */
export function writeDecimal(target: Buffer, p: number, n: number): number {
  if (n < 10) {
    target[p] = 0x30 + n;
    return p + 1;
  }
  if (n < 100) {
    const t = (n / 10) | 0;
    target[p] = 0x30 + t;
    target[p + 1] = 0x30 + n - t * 10;
    return p + 2;
  }
  const end = p + decimalLength(n);
  let q = end;
  if (n <= 0x7fffffff) {
    // int32 arithmetic while it fits (lengths, counts)
    do {
      const t = (n / 10) | 0;
      target[--q] = 0x30 + n - t * 10;
      n = t;
    } while (n > 0);
    return end;
  }
  do {
    target[--q] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  return end;
}

/** Digits of a non-negative safe integer in decimal. */
export function decimalLength(n: number): number {
  if (n < 10) return 1;
  if (n < 100) return 2;
  if (n < 1000) return 3;
  if (n < 10000) return 4;
  if (n < 100000) return 5;
  let digits = 6;
  n = Math.floor(n / 1000000);
  while (n >= 1) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}
