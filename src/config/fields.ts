/**
 * Field builders for the config schema. Every value arrives as a string (INI file, environment) or as
 * a typed flag value; these builders coerce and validate it, and word their errors as
 * `<value> is not <what is allowed>` so that the loader can prefix `section.key:`.
 */
import * as z from 'zod';

/** How a rejected value is shown in an error message. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'nothing';
  return String(v);
}

export function str(def: string) {
  return z.string({ error: (iss) => `${showValue(iss.input)} is not a string` }).default(def);
}

const TRUE = new Set(['yes', 'true', 'on', '1']);
const FALSE = new Set(['no', 'false', 'off', '0']);

function toBool(v: unknown): unknown {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
  }
  return v;
}

export function bool(def: boolean) {
  return z
    .preprocess(
      toBool,
      z.boolean({ error: (iss) => `${showValue(iss.input)} is not a boolean (yes/no, true/false, on/off, 1/0)` }),
    )
    .default(def);
}

function toInt(v: unknown): unknown {
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return Number(v.trim());
  return v;
}

export function int(def: number, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return z
    .preprocess(
      toInt,
      z
        .number({ error: (iss) => `${showValue(iss.input)} is not an integer` })
        .int({ error: (iss) => `${showValue(iss.input)} is not an integer` })
        .min(min, { error: (iss) => `${showValue(iss.input)} is less than ${min}` })
        .max(max, { error: (iss) => `${showValue(iss.input)} is more than ${max}` }),
    )
    .default(def);
}

/** Byte-size units, as redis.conf's memtoll: k=1000, kb=1024, m, mb, g, gb. */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
};

function toBytes(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) return v;
  return Number(m[1]) * unit;
}

/** A size in bytes: a number, or a string with a redis.conf unit (`64kb`, `512mb`, `1gb`). */
export function bytes(def: number, min = 0) {
  return z
    .preprocess(
      toBytes,
      z
        .number({ error: (iss) => `${showValue(iss.input)} is not a size (a number of bytes, or with kb/mb/gb)` })
        .int({ error: (iss) => `${showValue(iss.input)} is not a whole number of bytes` })
        .min(min, { error: (iss) => `${showValue(iss.input)} is less than ${min}` })
        .max(Number.MAX_SAFE_INTEGER),
    )
    .default(def);
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, def: T[number]) {
  return z.enum(values, { error: (iss) => `${showValue(iss.input)} is not one of ${values.join(', ')}` }).default(def);
}
