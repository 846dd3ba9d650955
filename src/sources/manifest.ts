/**
 * What a restore input is made of. An input path may be:
 * - an RDB file, or an AOF (plain, or with an RDB preamble): one file, kind told by its first bytes;
 * - decode's JSON lines (first byte `{`);
 * - a Redis 7 multi-part AOF: the `appendonlydir` directory, its `*.manifest` file, or the directory above it.
 *   The manifest (aof.c aofLoadManifestFromFile) is lines of `key value` pairs split like sdssplitargs:
 *   `file <name> seq <n> type <b|h|i>`; `#` lines are comments. Load order: the base file, then the incr files
 *   in manifest order; history files are not loaded;
 * - the JSON manifest `shake dump` writes for a cluster: {version:1, nodes:[{id,host,port,slots,file}]},
 *   file names relative to the manifest. Every node's RDB is read in turn.
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export type InputKind = 'rdb' | 'aof' | 'jsonl' | 'aof-manifest' | 'dump-manifest';

export interface ResolvedInput {
  kind: InputKind;
  /** Files to read in order (RDB/AOF parts, or the one JSON-lines file). */
  files: string[];
  /** For a dump manifest: the nodes it lists. */
  dumpManifest?: DumpManifest;
}

export class InputError extends Error {
  override readonly name = 'InputError';
}

export interface AofManifestEntry {
  file: string;
  seq: number;
  type: 'b' | 'h' | 'i';
}

export interface DumpManifestNode {
  id: string;
  host: string;
  port: number;
  slots: [number, number][];
  file: string;
}

export interface DumpManifest {
  version: number;
  nodes: DumpManifestNode[];
}

/** The input kind from the first bytes of a file or of stdin; null when unknown. */
export function detectKind(head: Buffer): InputKind | null {
  const text = head.subarray(0, 16).toString('latin1');
  if (text.startsWith('REDIS') || text.startsWith('VALKEY')) return 'rdb';
  const first = text.replace(/^[\s\uFEFF]+/, '');
  if (first.startsWith('*') || first.startsWith('#')) return 'aof';
  if (first.startsWith('{')) return 'jsonl';
  if (/^file\s/i.test(first)) return 'aof-manifest';
  return null;
}

/** sds.c sdssplitargs: whitespace-separated words, "double quoted" with \xHH \n \r \t \b \a escapes, 'single'. */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && /\s/.test(line[i] as string)) i++;
    if (i >= n) return out;
    let cur = '';
    const q = line[i];
    if (q === '"' || q === "'") {
      i++;
      for (;;) {
        if (i >= n) return null;
        const c = line[i] as string;
        if (c === q) {
          i++;
          if (i < n && !/\s/.test(line[i] as string)) return null;
          break;
        }
        if (c === '\\' && i + 1 < n) {
          const e = line[i + 1] as string;
          if (q === "'") {
            if (e === "'") {
              cur += "'";
              i += 2;
              continue;
            }
          } else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
            cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          } else {
            const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };
            cur += map[e] ?? e;
            i += 2;
            continue;
          }
        }
        cur += c;
        i++;
      }
    } else {
      while (i < n && !/\s/.test(line[i] as string)) cur += line[i++];
    }
    out.push(cur);
  }
}

export function parseAofManifest(text: string, name = 'manifest'): AofManifestEntry[] {
  const out: AofManifestEntry[] = [];
  let base = 0;
  let maxIncr = 0;
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new InputError(`${name}: empty AOF manifest`);
  lines.forEach((raw, idx) => {
    if (raw.startsWith('#')) return;
    const where = `${name} line ${idx + 1}`;
    const args = splitArgs(raw.trim());
    if (!args || args.length < 6 || args.length % 2 !== 0) throw new InputError(`${where}: invalid AOF manifest line`);
    let file: string | null = null;
    let seq = 0;
    let type = '';
    for (let i = 0; i < args.length; i += 2) {
      const k = (args[i] as string).toLowerCase();
      const v = args[i + 1] as string;
      if (k === 'file') file = v;
      else if (k === 'seq') seq = Number.parseInt(v, 10) || 0;
      else if (k === 'type') type = v.slice(0, 1);
    }
    if (!file || !seq || !type) throw new InputError(`${where}: missing file, seq or type`);
    if (file.includes('/') || file === '..' || file === '.') {
      throw new InputError(`${where}: a file name, not a path, is expected: ${JSON.stringify(file)}`);
    }
    if (type === 'b') {
      if (++base > 1) throw new InputError(`${where}: more than one base file`);
    } else if (type === 'i') {
      if (seq <= maxIncr) throw new InputError(`${where}: incr file sequence numbers are not increasing`);
      maxIncr = seq;
    } else if (type !== 'h') {
      throw new InputError(`${where}: unknown AOF file type ${JSON.stringify(type)}`);
    }
    out.push({ file, seq, type });
  });
  return out;
}

/** The files redis-server would load, in order: base, then incr files (history files are left out). */
export function aofLoadOrder(entries: readonly AofManifestEntry[]): AofManifestEntry[] {
  return [...entries.filter((e) => e.type === 'b'), ...entries.filter((e) => e.type === 'i')];
}

export function parseDumpManifest(json: unknown, name = 'manifest'): DumpManifest {
  const bad = (what: string): never => {
    throw new InputError(`${name}: not a shake dump manifest (${what})`);
  };
  if (typeof json !== 'object' || json === null) return bad('not an object');
  const obj = json as Record<string, unknown>;
  if (typeof obj.version !== 'number') return bad('no "version"');
  if (!Array.isArray(obj.nodes) || obj.nodes.length === 0) return bad('no "nodes"');
  const nodes = obj.nodes.map((n: unknown, i: number): DumpManifestNode => {
    if (typeof n !== 'object' || n === null) return bad(`node ${i} is not an object`);
    const r = n as Record<string, unknown>;
    if (typeof r.file !== 'string' || r.file === '') return bad(`node ${i} has no "file"`);
    const slots = Array.isArray(r.slots) ? r.slots : [];
    return {
      id: typeof r.id === 'string' ? r.id : '',
      host: typeof r.host === 'string' ? r.host : '',
      port: typeof r.port === 'number' ? r.port : 0,
      slots: slots.filter(
        (s: unknown): s is [number, number] => Array.isArray(s) && typeof s[0] === 'number' && typeof s[1] === 'number',
      ),
      file: r.file,
    };
  });
  return { version: obj.version, nodes };
}

function readHead(path: string, n = 64): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function fromAofManifest(manifestPath: string): ResolvedInput {
  const dir = dirname(manifestPath);
  const entries = aofLoadOrder(parseAofManifest(readFileSync(manifestPath, 'utf8'), basename(manifestPath)));
  if (entries.length === 0) throw new InputError(`${manifestPath}: the manifest lists no base or incr file`);
  return { kind: 'aof-manifest', files: entries.map((e) => join(dir, e.file)) };
}

function findManifestIn(dir: string): string | null {
  const names = readdirSync(dir);
  const manifests = names.filter((n) => n.endsWith('.manifest'));
  if (manifests.length === 1) return join(dir, manifests[0] as string);
  if (manifests.length > 1) throw new InputError(`${dir}: several *.manifest files: name one of them`);
  if (names.includes('appendonlydir')) return findManifestIn(join(dir, 'appendonlydir'));
  return null;
}

/** A dump manifest is one JSON document (not JSON lines): small, with a "nodes" array. */
function tryDumpManifest(path: string): DumpManifest | null {
  if (statSync(path).size > 16 * 1024 * 1024) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null || !('nodes' in json)) return null;
  return parseDumpManifest(json, path);
}

/** Resolves a restore input path (not stdin) into its kind and the files to read, in order. */
export function resolveInput(path: string): ResolvedInput {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(`${path}: no such file or directory`);
  }
  if (st.isDirectory()) {
    const m = findManifestIn(path);
    if (!m) throw new InputError(`${path}: a directory without an AOF manifest (*.manifest)`);
    return fromAofManifest(m);
  }
  const kind = detectKind(readHead(path));
  if (kind === 'aof-manifest') return fromAofManifest(path);
  if (kind === 'jsonl') {
    const dm = tryDumpManifest(path);
    if (dm) {
      const dir = dirname(path);
      return { kind: 'dump-manifest', files: dm.nodes.map((n) => join(dir, n.file)), dumpManifest: dm };
    }
    return { kind: 'jsonl', files: [path] };
  }
  if (kind === null) {
    throw new InputError(`${path}: not an RDB, AOF, AOF manifest or JSON-lines file (unknown first bytes)`);
  }
  return { kind, files: [path] };
}
