/**
 * Redis glob matching (util.c stringmatchlen, as KEYS / SCAN MATCH use it), byte for byte:
 * `*`, `?`, `[abc]`, `[^abc]`, ranges `[a-z]` (ends swapped when reversed, compared as signed chars like
 * the C code), `\` escapes (a trailing `\` is literal), an unterminated `[` runs to the end of the pattern.
 * Iterative: one backtrack point at the last `*` (each other token matches exactly one byte, so this is
 * equivalent to Redis's recursion) — no recursion or blow-up controlled by the pattern or the key.
 */

/** Signed value of a byte, as a C `char` on x86/ARM64 Linux builds of Redis. */
function sc(b: number): number {
  return (b << 24) >> 24;
}

/**
 * Matches one non-`*` token of `pat` at `p` against byte `c`. Returns the index after the token when it
 * matches, or -1.
 */
function matchToken(pat: Buffer, p: number, c: number): number {
  const len = pat.length;
  const t = pat[p] as number;
  if (t === 0x3f /* ? */) return p + 1;
  if (t === 0x5b /* [ */) {
    p++;
    const not = p < len && pat[p] === 0x5e; /* ^ */
    if (not) p++;
    let match = false;
    for (;;) {
      const rest = len - p;
      if (rest >= 2 && pat[p] === 0x5c /* \ */) {
        p++;
        if (pat[p] === c) match = true;
      } else if (rest === 0) {
        // unterminated class: it ends with the pattern
        return not !== match ? len : -1;
      } else if (pat[p] === 0x5d /* ] */) {
        break;
      } else if (rest >= 3 && pat[p + 1] === 0x2d /* - */) {
        let start = sc(pat[p] as number);
        let end = sc(pat[p + 2] as number);
        if (start > end) [start, end] = [end, start];
        const v = sc(c);
        if (v >= start && v <= end) match = true;
        p += 2;
      } else if (pat[p] === c) {
        match = true;
      }
      p++;
    }
    return not !== match ? p + 1 : -1;
  }
  if (t === 0x5c /* \ */ && len - p >= 2) p++;
  return pat[p] === c ? p + 1 : -1;
}

export function globMatch(pattern: Buffer, key: Buffer): boolean {
  const plen = pattern.length;
  const slen = key.length;
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  while (s < slen) {
    if (p < plen && pattern[p] === 0x2a /* * */) {
      while (p < plen && pattern[p] === 0x2a) p++;
      if (p === plen) return true;
      starP = p;
      starS = s;
      continue;
    }
    const next = p < plen ? matchToken(pattern, p, key[s] as number) : -1;
    if (next >= 0) {
      p = next;
      s++;
      continue;
    }
    if (starP < 0) return false;
    p = starP;
    s = ++starS;
  }
  while (p < plen && pattern[p] === 0x2a) p++;
  return p === plen;
}

/** A matcher for one pattern; a pattern without special bytes is compared directly. */
export function compileGlob(pattern: Buffer): (key: Buffer) => boolean {
  if (!/[*?[\\]/.test(pattern.toString('latin1'))) return (key) => key.equals(pattern);
  return (key) => globMatch(pattern, key);
}
