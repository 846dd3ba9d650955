/**
 * Narrowing helpers for raw RESP2 replies as ioredis returns them from `callBuffer` (bulk strings as
 * Buffer, integers as number, nil as null, arrays as arrays). Each throws with a clear message when the
 * server answered something else, so a read-back never silently produces a wrong record.
 */
export type Reply = Buffer | number | string | null | Reply[];

export function asArray(r: unknown, what: string): Reply[] {
  if (!Array.isArray(r)) throw new Error(`${what}: expected an array reply, got ${describe(r)}`);
  return r as Reply[];
}

export function asBuffer(r: unknown, what: string): Buffer {
  if (Buffer.isBuffer(r)) return r;
  if (typeof r === 'string') return Buffer.from(r, 'latin1');
  throw new Error(`${what}: expected a bulk string reply, got ${describe(r)}`);
}

export function asText(r: unknown, what: string): string {
  return asBuffer(r, what).toString('latin1');
}

export function asInt(r: unknown, what: string): number {
  if (typeof r === 'number') return r;
  if (Buffer.isBuffer(r) || typeof r === 'string') {
    const n = Number(r.toString());
    if (Number.isSafeInteger(n)) return n;
  }
  throw new Error(`${what}: expected an integer reply, got ${describe(r)}`);
}

export function asIntOrNull(r: unknown, what: string): number | null {
  return r === null ? null : asInt(r, what);
}

/** A flat [name, value, name, value, ...] reply (XINFO and friends) as a Map keyed by name. */
export function asFieldMap(r: unknown, what: string): Map<string, Reply> {
  const a = asArray(r, what);
  const m = new Map<string, Reply>();
  for (let i = 0; i + 1 < a.length; i += 2) m.set(asText(a[i], what), a[i + 1] ?? null);
  return m;
}

export function field(m: Map<string, Reply>, name: string, what: string): Reply {
  if (!m.has(name)) throw new Error(`${what}: reply has no field "${name}" (has: ${[...m.keys()].join(', ')})`);
  return m.get(name) ?? null;
}

function describe(r: unknown): string {
  if (r === null) return 'nil';
  if (Buffer.isBuffer(r)) return `bulk "${r.toString('latin1').slice(0, 40)}"`;
  return `${typeof r} ${String(r).slice(0, 40)}`;
}

/** Stream ids ("ms-seq") compared numerically. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm) || BigInt(as) - BigInt(bs);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** The smallest id greater than `id` (for paging XRANGE on servers without exclusive ranges). */
export function nextStreamId(id: string): string | undefined {
  const [ms = '0', seq = '0'] = id.split('-');
  const max = (1n << 64n) - 1n;
  if (BigInt(seq) < max) return `${ms}-${BigInt(seq) + 1n}`;
  if (BigInt(ms) < max) return `${BigInt(ms) + 1n}-0`;
  return undefined;
}
