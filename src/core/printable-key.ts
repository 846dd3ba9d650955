/**
 * A key as messages show it (failure lists, error lines): JSON-quoted when it is printable UTF-8, else the hex
 * of its first 48 bytes; at most about 120 characters either way. The one spelling for every report of shake.
 */
export function printableKey(key: Buffer | null): string {
  if (key === null) return '-';
  const s = key.toString('utf8');
  const clean = Buffer.from(s, 'utf8').equals(key) && !/[\x00-\x1f\x7f]/.test(s);
  const shown = clean ? JSON.stringify(s) : `0x${key.subarray(0, 48).toString('hex')}${key.length > 48 ? '…' : ''}`;
  return shown.length > 120 ? `${shown.slice(0, 120)}…` : shown;
}
