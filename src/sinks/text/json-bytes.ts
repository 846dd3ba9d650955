/**
 * How a Redis byte string appears in decode's JSON: a JSON string when the bytes are valid UTF-8 with
 * no control characters other than tab, LF and CR (and no C1 controls), else {"base64":"..."}.
 * Lossless: a reader turns a JSON string back into its UTF-8 bytes, and base64 into its bytes.
 */
import { isUtf8 } from 'node:buffer';
import type { ByteBuilder } from './byte-builder.js';

export type StringMode = 'auto' | 'base64';

/** True when `b` is valid UTF-8 and has no control character other than \t \n \r. */
export function isPrintableUtf8(b: Buffer): boolean {
  const n = b.length;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = b[i] as number;
    if (c < 0x20) {
      if (c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
    } else if (c === 0x7f) {
      return false;
    } else if (c >= 0x80) {
      ascii = false;
      // C1 controls U+0080..U+009F are encoded as C2 80..C2 9F
      if (c === 0xc2 && i + 1 < n && (b[i + 1] as number) < 0xa0) return false;
    }
  }
  return ascii || isUtf8(b);
}

/** JSON text for a byte string (see the module comment). */
export function jsonBytes(b: Buffer, mode: StringMode = 'auto'): string {
  if (mode === 'auto') {
    if (isPlainAscii(b)) return `"${b.toString('latin1')}"`;
    if (isPrintableUtf8(b)) return JSON.stringify(b.toString('utf8'));
  }
  return `{"base64":"${b.toString('base64')}"}`;
}

/** True when every byte is printable ASCII other than `"` and `\\`: the bytes are their own JSON string body. */
function isPlainAscii(b: Buffer): boolean {
  const n = b.length;
  for (let i = 0; i < n; i++) {
    const c = b[i] as number;
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** Appends the JSON text of a byte string (as jsonBytes) to `out`, copying plain ASCII bytes as they are. */
export function writeJsonBytes(out: ByteBuilder, b: Buffer, mode: StringMode = 'auto'): void {
  if (mode === 'auto') {
    if (out.jsonPlainString(b)) return;
    if (isPrintableUtf8(b)) {
      out.utf8(JSON.stringify(b.toString('utf8')));
      return;
    }
  }
  out.ascii('{"base64":"').base64(b).ascii('"}');
}

/** The inverse of jsonBytes, for readers of the format (restore, tests). */
export function bytesFromJson(v: unknown): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v !== null && typeof v === 'object' && typeof (v as { base64?: unknown }).base64 === 'string') {
    return Buffer.from((v as { base64: string }).base64, 'base64');
  }
  throw new TypeError(`expected a string or {"base64":...}, got ${JSON.stringify(v)}`);
}
