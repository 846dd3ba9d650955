/** Keys named `__shake:*`: shake's own state in a target (sync's checkpoints, `__shake:sync:...`; docs/sync.md). */
const SHAKE_STATE_PREFIX = Buffer.from('__shake:');

/** Whether key[start, end) is a key of shake's own state: never user data, never compared by a check. */
export function isShakeStateKey(key: Buffer, start = 0, end = key.length): boolean {
  // Byte by byte: asked for every key of a check (a subarray + equals per key cost a check of 1M keys 0.4 s).
  const n = SHAKE_STATE_PREFIX.length;
  if (end - start < n) return false;
  for (let i = 0; i < n; i++) if (key[start + i] !== SHAKE_STATE_PREFIX[i]) return false;
  return true;
}
