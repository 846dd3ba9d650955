/**
 * ISO 8601 UTC text of Unix milliseconds, as Date.prototype.toISOString spells it, written straight into
 * a ByteBuilder for the common years 0000..9999 (days to civil date: H. Hinnant's algorithm), with Date
 * itself for the rest.
 */
import type { ByteBuilder } from './byte-builder.js';

/** First and last ms of years 0000..9999 (toISOString's 4-digit form). */
const MIN_MS = -62167219200000;
const MAX_MS = 253402300799999;
const DAY_MS = 86400000;

/** ISO 8601 text of a unix ms time, or null when Date cannot represent it. */
export function isoTime(ms: number): string | null {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
}

function two(out: ByteBuilder, v: number): void {
  const t = Math.floor(v / 10);
  out.byte(0x30 + t).byte(0x30 + (v - t * 10));
}

/** Appends isoTime(ms) (without quotes); returns false, writing nothing, when isoTime would be null. */
export function writeIsoTime(out: ByteBuilder, ms: number): boolean {
  if (!(ms >= MIN_MS && ms <= MAX_MS) || !Number.isInteger(ms)) {
    const s = isoTime(ms);
    if (s === null) return false;
    out.ascii(s);
    return true;
  }
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3600000);
  rest -= hours * 3600000;
  const minutes = Math.floor(rest / 60000);
  rest -= minutes * 60000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  two(out, Math.floor(year / 100));
  two(out, year % 100);
  out.byte(0x2d);
  two(out, month);
  out.byte(0x2d);
  two(out, day);
  out.byte(0x54);
  two(out, hours);
  out.byte(0x3a);
  two(out, minutes);
  out.byte(0x3a);
  two(out, seconds);
  out.byte(0x2e);
  const h = Math.floor(millis / 100);
  out.byte(0x30 + h);
  two(out, millis - h * 100);
  out.byte(0x5a);
  return true;
}
