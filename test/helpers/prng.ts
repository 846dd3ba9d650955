/**
 * The one seeded pseudo-random generator of the tests and benches (mulberry32): tests must not depend on
 * Math.random, and the same seed must give the same run so a failure reproduces.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A whole number in [0, n) from `rnd`. */
export function randomInt(rnd: () => number, n: number): number {
  return Math.floor(rnd() * n);
}
