/**
 * The hash slot of a key, exactly as Redis's keyHashSlot (cluster.c): crc16 of the key & 16383, except
 * that when the key holds a `{` followed later by a `}` with at least one byte between them, only the
 * bytes between the FIRST `{` and the first `}` after it are hashed. `{}` (empty tag) hashes the whole key.
 */
import { crc16 } from './crc16.js';

export const CLUSTER_SLOTS = 16384;
const OPEN = 0x7b; // '{'
const CLOSE = 0x7d; // '}'

export function keySlot(key: Uint8Array | string): number {
  const k = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const s = k.indexOf(OPEN);
  if (s !== -1) {
    const e = k.indexOf(CLOSE, s + 1);
    if (e !== -1 && e !== s + 1) return crc16(k, s + 1, e) & 0x3fff;
  }
  return crc16(k) & 0x3fff;
}
