/**
 * `--trace FILE`: the bytes every connection of the process exchanges with the source and the target, for
 * debugging a migration. One hook (openSocket, socket.ts) sees every socket: what is written (`>`) and read (`<`),
 * per connection id, with the byte offset in that direction, as a hex dump with the printable form beside it:
 *
 *   2026-12-07T01:02:03.456Z conn 3 target 127.0.0.1:6380 > offset 120 len 45
 *     00000000  2a 33 0d 0a 24 37 0d 0a  52 45 53 54 4f 52 45 0d  |*3..$7..RESTORE.|
 *
 * Secrets never reach the file: the arguments of AUTH and the password of HELLO ... AUTH user password are
 * masked (`*`) where they are written, and the connection's password is masked wherever it shows (an echo in an
 * error reply). A record shows at most `recordBytes` of its chunk (the rest counted). The file is rotated when it
 * would pass `maxBytes`: FILE becomes FILE.1 (FILE.1 becomes FILE.2 ...), `files` files are kept in all.
 */
import { closeSync, existsSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';

export interface TraceOptions {
  path: string;
  /** Size of one file before it is rotated. */
  maxBytes: number;
  /** Files kept: FILE and FILE.1 .. FILE.<files-1>. */
  files: number;
  /** Bytes of one chunk shown (the rest is counted, not shown). */
  recordBytes: number;
}

/** What a traced socket is: its side (source / target) and address; `password` is masked wherever it shows. */
export interface TracedPeer {
  side?: string;
  address: string;
  password?: string;
}

const MASK = 0x2a; // '*'

export class ProtocolTrace {
  private fd: number;
  private size = 0;
  private nextId = 1;

  constructor(private readonly opts: TraceOptions) {
    this.fd = openSync(opts.path, 'w', 0o600);
  }

  /** Records what `socket` writes and reads from now on. */
  attach(socket: Socket, peer: TracedPeer): void {
    const id = this.nextId++;
    const who = `conn ${id} ${peer.side ?? 'redis'} ${peer.address}`;
    const secrets = peer.password ? [Buffer.from(peer.password)] : [];
    let outOffset = 0;
    let inOffset = 0;
    this.line(`${new Date().toISOString()} ${who} open\n`);
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : null;
      if (buf) {
        this.record(who, '>', outOffset, maskSecrets(maskAuth(buf), secrets));
        outOffset += buf.length;
      }
      return write(chunk, ...rest);
    }) as Socket['write'];
    socket.on('data', (chunk: Buffer) => {
      this.record(who, '<', inOffset, maskSecrets(chunk, secrets));
      inOffset += chunk.length;
    });
    socket.once('close', () => this.line(`${new Date().toISOString()} ${who} closed\n`));
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private record(who: string, dir: '>' | '<', offset: number, chunk: Buffer): void {
    const shown = chunk.subarray(0, this.opts.recordBytes);
    const more = chunk.length - shown.length;
    this.line(
      `${new Date().toISOString()} ${who} ${dir} offset ${offset} len ${chunk.length}\n${hexDump(shown)}` +
        (more > 0 ? `  ... ${more} more bytes not shown\n` : ''),
    );
  }

  private line(text: string): void {
    if (this.fd < 0) return;
    const bytes = Buffer.from(text);
    if (this.size > 0 && this.size + bytes.length > this.opts.maxBytes) this.rotate();
    writeSync(this.fd, bytes);
    this.size += bytes.length;
  }

  private rotate(): void {
    closeSync(this.fd);
    const { path, files } = this.opts;
    if (files <= 1) rmSync(path, { force: true });
    else {
      for (let i = files - 1; i >= 1; i--) {
        const from = i === 1 ? path : `${path}.${i - 1}`;
        if (existsSync(from)) renameSync(from, `${path}.${i}`);
      }
    }
    this.fd = openSync(path, 'w', 0o600);
    this.size = 0;
  }
}

/** Sixteen bytes a row: offset, hex, printable ASCII (anything else as '.'). */
export function hexDump(buf: Buffer): string {
  let out = '';
  for (let i = 0; i < buf.length; i += 16) {
    const row = buf.subarray(i, i + 16);
    let hex = '';
    let text = '';
    for (let j = 0; j < 16; j++) {
      if (j === 8) hex += ' ';
      const b = row[j];
      hex += b === undefined ? '   ' : `${b.toString(16).padStart(2, '0')} `;
      if (b !== undefined) text += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    out += `  ${i.toString(16).padStart(8, '0')}  ${hex} |${text}|\n`;
  }
  return out;
}

/** `chunk` with every occurrence of a secret replaced by '*' (a copy when there was one). */
function maskSecrets(chunk: Buffer, secrets: Buffer[]): Buffer {
  let out = chunk;
  for (const s of secrets) {
    if (s.length === 0) continue;
    for (let at = out.indexOf(s); at >= 0; at = out.indexOf(s, at + s.length)) {
      if (out === chunk) out = Buffer.from(chunk);
      out.fill(MASK, at, at + s.length);
    }
  }
  return out;
}

/**
 * The commands of an encoded chunk with the secret arguments masked: AUTH [user] password (all arguments), and
 * HELLO ... AUTH user password (the password). Commands are found as RESP arrays of bulk strings; anything the
 * scan cannot follow is left as it is (a command split across two writes is masked by value, maskSecrets).
 */
export function maskAuth(chunk: Buffer): Buffer {
  let out = chunk;
  let pos = 0;
  while (pos < chunk.length) {
    const args = readArray(chunk, pos);
    if (args === null) break;
    const name = chunk
      .subarray(args.bulks[0]?.[0] ?? 0, args.bulks[0]?.[1] ?? 0)
      .toString('latin1')
      .toUpperCase();
    const hide: number[] = [];
    if (name === 'AUTH') for (let i = 1; i < args.bulks.length; i++) hide.push(i);
    if (name === 'HELLO') {
      for (let i = 1; i < args.bulks.length; i++) {
        const [s, e] = args.bulks[i]!;
        if (chunk.subarray(s, e).toString('latin1').toUpperCase() === 'AUTH') hide.push(i + 2);
      }
    }
    for (const i of hide) {
      const b = args.bulks[i];
      if (!b) continue;
      if (out === chunk) out = Buffer.from(chunk);
      out.fill(MASK, b[0], b[1]);
    }
    pos = args.end;
  }
  return out;
}

/** `*N\r\n` then N `$len\r\n<bytes>\r\n` at `pos`: the bulks' [start, end) and where the array ends; else null. */
function readArray(buf: Buffer, pos: number): { bulks: [number, number][]; end: number } | null {
  const head = readLine(buf, pos, 0x2a);
  if (head === null) return null;
  const bulks: [number, number][] = [];
  let p = head.next;
  for (let i = 0; i < head.n; i++) {
    const len = readLine(buf, p, 0x24);
    if (len === null || len.next + len.n + 2 > buf.length) return null;
    bulks.push([len.next, len.next + len.n]);
    p = len.next + len.n + 2;
  }
  return { bulks, end: p };
}

function readLine(buf: Buffer, pos: number, prefix: number): { n: number; next: number } | null {
  if (buf[pos] !== prefix) return null;
  const cr = buf.indexOf(0x0d, pos);
  if (cr < 0 || cr - pos > 20 || buf[cr + 1] !== 0x0a) return null;
  const n = Number(buf.toString('latin1', pos + 1, cr));
  return Number.isInteger(n) && n >= 0 ? { n, next: cr + 2 } : null;
}

let active: ProtocolTrace | null = null;

/** The process's trace (--trace), or null: openSocket attaches every new socket to it. */
export function activeTrace(): ProtocolTrace | null {
  return active;
}

export function startTrace(opts: TraceOptions): ProtocolTrace {
  active?.close();
  active = new ProtocolTrace(opts);
  return active;
}

export function stopTrace(): void {
  active?.close();
  active = null;
}
