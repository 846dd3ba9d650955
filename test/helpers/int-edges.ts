/**
 * Integers at the edges of Redis's integer encodings: ziplist/listpack immediates (0..12), then where 8, 16, 24,
 * 32 and 64 bits stop being enough, both signs; also the edges of an RDB int-encoded string (8/16/32 bit).
 */
export const INT_EDGES: (number | bigint)[] = [
  0,
  12,
  13,
  -1,
  127,
  -128,
  128,
  32767,
  -32768,
  32768,
  8388607,
  -8388608,
  8388608,
  2147483647,
  -2147483648,
  2147483648,
  2n ** 63n - 1n,
  -(2n ** 63n),
];
