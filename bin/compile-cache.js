// V8's compiled code for the CommonJS modules a run loads (the one-file bundles in dist/bundle/: oclif and the
// subcommand's; oclif's own files when the bundles are not current), kept between runs under
// dist/.compile-cache/<node version>-<arch>/, one file per module, as Node 22's module.enableCompileCache() does
// (Node 20 has none): compiling them was about a fifth of a short run. Where Node has enableCompileCache, that is
// used instead. Each file is keyed by its module's size and mtime; V8 itself rejects data from another V8 version or
// flag set, and a module whose entry is missing, stale or rejected is compiled as usual and its entry written at exit
// (a temporary file renamed into place). Where the cache cannot be read or written (a read-only install) nothing
// changes. SHAKE_COMPILE_CACHE=0 turns it off.
import Module from 'node:module';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import vm from 'node:vm';

export function enableCompileCache(root) {
  if (process.env.SHAKE_COMPILE_CACHE === '0') return;
  if (typeof Module.enableCompileCache === 'function') {
    Module.enableCompileCache();
    return;
  }
  const dir = `${root}/dist/.compile-cache/${process.version}-${process.arch}`;
  const wanted = (filename) => filename.includes('/node_modules/') || filename.includes('/dist/bundle/');
  const entryOf = (filename) =>
    `${dir}/${(filename.startsWith(root) ? filename.slice(root.length) : filename).replace(/[/\\]/g, '%')}`;
  const toWrite = [];
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    // A script made from cached data loses its import() callback in Node 20 (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING),
    // so a module with a dynamic import() is compiled as usual (a few of oclif's). The bundles have none (built
    // with import() turned into require(); the text "import(" may still be in a string).
    const bundle = filename.includes('/dist/bundle/');
    if (!wanted(filename) || content.startsWith('#!') || (!bundle && content.includes('import('))) {
      return compile.call(this, content, filename);
    }
    let st;
    try {
      st = statSync(filename);
    } catch {
      return compile.call(this, content, filename);
    }
    const key = `${st.size}:${st.mtimeMs}`;
    const entry = entryOf(filename);
    const cachedData = read(entry, key);
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    if (cachedData === undefined || script.cachedDataRejected) toWrite.push({ entry, key, script });
    const fn = script.runInThisContext({ displayErrors: true });
    const require = requireOf(this);
    return fn.call(this.exports, this.exports, require, this, filename, dirname(filename));
  };
  process.once('exit', () => {
    if (toWrite.length === 0) return;
    try {
      mkdirSync(dir, { recursive: true });
      // Made now, after the run: the data then holds every function the run compiled, not only the top level.
      for (const { entry, key, script } of toWrite) write(entry, key, script.createCachedData());
    } catch {
      // not writable: the next run compiles again
    }
  });
}

// The require() a module sees, as Node makes it (lib/internal/modules/helpers.js makeRequireFunction).
function requireOf(mod) {
  const require = (id) => mod.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return require;
}

/**
 * An entry: the key's length (4 bytes), the key padded to 4 bytes, a checksum of the data (4 bytes), V8's data.
 * Undefined when missing, for another key, or damaged: V8 checks versions and the source's length, not its data,
 * and damaged data would crash the process (a test damages an entry on purpose).
 */
function read(entry, key) {
  let buf;
  try {
    buf = readFileSync(entry);
  } catch {
    return undefined;
  }
  if (buf.length < 4) return undefined;
  const n = buf.readUInt32LE(0);
  const at = 4 + pad4(n);
  if (at + 4 > buf.length || buf.toString('latin1', 4, 4 + n) !== key) return undefined;
  const data = buf.subarray(at + 4);
  return checksum(data) === buf.readUInt32LE(at) ? data : undefined;
}

function write(entry, key, data) {
  const k = Buffer.alloc(pad4(key.length));
  k.write(key, 'latin1');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(key.length);
  const sum = Buffer.alloc(4);
  sum.writeUInt32LE(checksum(data));
  const tmp = `${entry}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.concat([head, k, sum, data]));
  renameSync(tmp, entry);
}

const pad4 = (n) => (n + 3) & ~3;

/** FNV-1a over 32-bit words (and the tail bytes): about a millisecond for a megabyte. */
function checksum(data) {
  const words = data.length >>> 2;
  const aligned = (data.byteOffset & 3) === 0 ? data : Buffer.from(data);
  const w = new Int32Array(aligned.buffer, aligned.byteOffset, words);
  let h = 0x811c9dc5 ^ data.length;
  for (let i = 0; i < words; i++) h = Math.imul(h ^ w[i], 0x01000193);
  for (let i = words << 2; i < data.length; i++) h = Math.imul(h ^ data[i], 0x01000193);
  return h >>> 0;
}
