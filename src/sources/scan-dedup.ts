/**
 * SCAN may return a key more than once (dict.c dictScan: when the table shrinks between two calls,
 * buckets already visited are visited again). A duplicated key makes an RDB file unloadable ("Duplicated
 * key found in RDB file"), so the scan source drops repeats. Keys are remembered as 64-bit hashes in an
 * open-addressing table of uint32 pairs: 8 bytes per slot, at most half full, so about 16 bytes per key
 * whatever the key length. Two different keys with the same 64-bit hash would make the second look like a
 * repeat: with n keys the chance is about n^2 / 2^65 (1e-8 for 1M keys, 3e-4 for 100M).
 */
export class KeyDedup {
  private table = new Uint32Array(2 * 65536);
  private mask = 65535;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** True the first time a key is seen, false for a repeat. */
  add(key: Buffer): boolean {
    const h1 = hash32(key, 0x9747b28c);
    let h2 = hash32(key, 0x5bd1e995);
    if (h1 === 0 && h2 === 0) h2 = 1;
    const t = this.table;
    let i = (h1 ^ Math.imul(h2, 0x85ebca6b)) & this.mask;
    for (;;) {
      const a = t[2 * i]!;
      const b = t[2 * i + 1]!;
      if (a === 0 && b === 0) break;
      if (a === h1 && b === h2) return false;
      i = (i + 1) & this.mask;
    }
    t[2 * i] = h1;
    t[2 * i + 1] = h2;
    if (++this.count * 2 > this.mask + 1) this.grow();
    return true;
  }

  private grow(): void {
    const old = this.table;
    const size = (this.mask + 1) * 2;
    this.table = new Uint32Array(2 * size);
    this.mask = size - 1;
    for (let j = 0; j < old.length; j += 2) {
      const a = old[j]!;
      const b = old[j + 1]!;
      if (a === 0 && b === 0) continue;
      let i = (a ^ Math.imul(b, 0x85ebca6b)) & this.mask;
      while (this.table[2 * i] !== 0 || this.table[2 * i + 1] !== 0) i = (i + 1) & this.mask;
      this.table[2 * i] = a;
      this.table[2 * i + 1] = b;
    }
  }
}

/** MurmurHash3 x86_32 of the key bytes. */
function hash32(key: Buffer, seed: number): number {
  let h = seed >>> 0;
  const n = key.length;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest > 0) {
    let k = key[blocks]!;
    if (rest > 1) k ^= key[blocks + 1]! << 8;
    if (rest > 2) k ^= key[blocks + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
