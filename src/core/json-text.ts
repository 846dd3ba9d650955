/**
 * One line of JSON for what shake writes for machines (--json, --log-format json): Maps as objects, byte strings
 * (Buffers) as printable keys (never a Buffer's {type,data}), bigints as strings.
 */
import { printableKey } from './printable-key.js';

export function toJsonText(value: unknown): string {
  return JSON.stringify(value, function replacer(this: Record<string, unknown>, key: string, v: unknown) {
    const raw = key === '' ? v : this[key];
    if (Buffer.isBuffer(raw)) return printableKey(raw);
    if (raw instanceof Map) return Object.fromEntries(raw);
    if (typeof v === 'bigint') return v.toString();
    return v;
  });
}
