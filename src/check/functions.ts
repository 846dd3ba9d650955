/**
 * Function libraries (Redis 7.0+): the source's libraries (FUNCTION LIST WITHCODE, or the RDB file's function
 * records) against every target master's, by library name and code. Reported as problem "function" with
 * the library name and what differs (missing, extra, code).
 */
import type { RespValue } from '@shake/resp';
import type { Difference } from './problems.js';
import { CheckError, type CheckSide } from './side.js';

/** Library name from its `#!<engine> name=<name>` first line. */
export function libraryNameOf(code: Buffer): string {
  const first = code.subarray(0, 256).toString('utf8').split('\n')[0] ?? '';
  return /name=(\S+)/.exec(first)?.[1] ?? '';
}

function fieldOf(item: RespValue, name: string): RespValue | undefined {
  if (!Array.isArray(item)) return undefined;
  for (let i = 0; i + 1 < item.length; i += 2) {
    const k = item[i] as RespValue;
    if ((Buffer.isBuffer(k) ? k.toString('latin1') : String(k)) === name) return item[i + 1] as RespValue;
  }
  return undefined;
}

/** name -> code of the libraries a FUNCTION LIST WITHCODE reply lists. */
export function librariesOf(reply: RespValue, side: CheckSide): Map<string, Buffer> {
  if (reply instanceof Error) throw new CheckError(`FUNCTION LIST on the ${side.name} failed: ${reply.message}`);
  const out = new Map<string, Buffer>();
  for (const lib of Array.isArray(reply) ? (reply as RespValue[]) : []) {
    const code = fieldOf(lib, 'library_code');
    const buf = Buffer.isBuffer(code) ? code : Buffer.from(String(code ?? ''));
    out.set(libraryNameOf(buf), buf);
  }
  return out;
}

/** Libraries of a live side (the first master: every master of a cluster holds the same ones). */
export async function liveLibraries(side: CheckSide): Promise<Map<string, Buffer> | null> {
  if (!side.features.functions) return null;
  const [reply] = await side.everyMaster(['FUNCTION', 'LIST', 'WITHCODE']);
  return librariesOf(reply!, side);
}

/**
 * Differences between the source's libraries and each target master's. A target that cannot hold functions
 * (before 7.0) differs only when the source has libraries.
 */
export async function compareFunctions(source: Map<string, Buffer> | null, target: CheckSide): Promise<Difference[]> {
  const src = source ?? new Map<string, Buffer>();
  const out: Difference[] = [];
  const diff = (library: string, what: string, node?: string): void => {
    out.push({ db: null, key: null, problem: 'function', detail: { library, what, ...(node ? { node } : {}) } });
  };
  if (!target.features.functions) {
    const why = target.proxy
      ? 'a proxy target cannot hold functions'
      : 'the target cannot hold functions (before Redis 7.0)';
    for (const name of src.keys()) diff(name, why);
    return out;
  }
  const replies = await target.everyMaster(['FUNCTION', 'LIST', 'WITHCODE']);
  const masters = target.server.masters();
  replies.forEach((reply, i) => {
    const tgt = librariesOf(reply, target);
    const node = masters.length > 1 ? masters[i]!.addr : undefined;
    for (const [name, code] of src) {
      const t = tgt.get(name);
      if (!t) diff(name, 'missing on the target', node);
      else if (!t.equals(code)) diff(name, 'code differs', node);
    }
    for (const name of tgt.keys()) if (!src.has(name)) diff(name, 'only on the target', node);
  });
  return out;
}
