/**
 * A compact set of (db, key) without keeping the keys: two 32-bit hashes per key in an open-addressed table
 * (8 bytes a slot, at most half full: about 16 bytes a key whatever its length). Used where a key only has to be
 * recognised again: the keys of an RDB file a check reads (did the file hold this target key?), the keys a SCAN
 * source has returned (SCAN may return a key twice). Two different keys share both hashes with a chance of about
 * n^2 / 2^65 for n keys (1e-8 for 1M keys): the second would look like the first.
 */
import { fmix, hash64 } from './hash.js';

const SEED = 0x811c9dc5;

export class KeyHashSet {
  private table = new Uint32Array(2 * 1024);
  private used = 0;
  /** The two hashes of the key in hand (one pass over its bytes, hash64), the first never 0 (0: an empty slot). */
  private readonly pair = new Uint32Array(2);

  get size(): number {
    return this.used;
  }

  /** Adds (db, key); true when it was not in the set yet. */
  add(db: number, key: Buffer): boolean {
    if ((this.used + 1) * 2 > this.table.length / 2) this.grow();
    this.hash(db, key);
    return this.insert(this.pair[0]!, this.pair[1]!);
  }

  has(db: number, key: Buffer): boolean {
    this.hash(db, key);
    const a = this.pair[0]!;
    const b = this.pair[1]!;
    const mask = this.table.length / 2 - 1;
    for (let i = (a ^ b) & mask; ; i = (i + 1) & mask) {
      const x = this.table[2 * i]!;
      if (x === 0) return false;
      if (x === a && this.table[2 * i + 1] === b) return true;
    }
  }

  private hash(db: number, key: Buffer): void {
    hash64(key, fmix(SEED, db), this.pair);
    if (this.pair[0] === 0) this.pair[0] = 1;
  }

  private insert(a: number, b: number): boolean {
    // Slots are a power of two: the mask keeps the start in range (a ^ b is a signed 32-bit number).
    const mask = this.table.length / 2 - 1;
    for (let i = (a ^ b) & mask; ; i = (i + 1) & mask) {
      const x = this.table[2 * i]!;
      if (x === a && this.table[2 * i + 1] === b) return false;
      if (x === 0) {
        this.table[2 * i] = a;
        this.table[2 * i + 1] = b;
        this.used++;
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.table;
    this.table = new Uint32Array(old.length * 2);
    this.used = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.insert(old[i]!, old[i + 1]!);
  }
}
