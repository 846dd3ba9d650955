// V8's compiled code for the CommonJS modules a run loads (oclif's ~100 files and the one-file subcommand bundles,
// dist/bundle/commands/*.cjs), kept between runs in one file under dist/, as Node 22's module.enableCompileCache()
// does (Node 20 has none): compiling them is about a fifth of a short run. Where Node has enableCompileCache, that
// is used instead. Each entry is keyed by the file's path, size and mtime; V8 itself rejects data from another V8
// version or flag set, and a rejected or missing entry is compiled as usual and the cache file rewritten at exit
// (atomically, by rename). Where the cache cannot be read or written (a read-only install) nothing changes.
// SHAKE_COMPILE_CACHE=0 turns it off.
import Module from 'node:module';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import vm from 'node:vm';

const FORMAT = 1;

export function enableCompileCache(root) {
  if (process.env.SHAKE_COMPILE_CACHE === '0') return;
  if (typeof Module.enableCompileCache === 'function') {
    Module.enableCompileCache();
    return;
  }
  const file = `${root}/dist/.compile-cache-${process.version}-${process.arch}.bin`;
  const wanted = (filename) => filename.includes('/node_modules/') || filename.includes('/dist/bundle/');
  const entries = load(file);
  const fresh = new Map();
  let changed = false;
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
    const hit = entries.get(filename);
    const cachedData = hit && hit.key === key ? hit.data : undefined;
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    if (cachedData && !script.cachedDataRejected) fresh.set(filename, hit);
    else {
      changed = true;
      fresh.set(filename, { key, script });
    }
    const fn = script.runInThisContext({ displayErrors: true });
    const require = requireOf(this);
    return fn.call(this.exports, this.exports, require, this, filename, dirname(filename));
  };
  process.once('exit', () => {
    if (!changed) return;
    try {
      // Entries of modules this run did not load (another subcommand's bundle) are kept.
      for (const [filename, e] of entries) if (!fresh.has(filename)) fresh.set(filename, e);
      save(file, fresh);
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

function load(file) {
  const entries = new Map();
  let buf;
  try {
    buf = readFileSync(file);
  } catch {
    return entries;
  }
  try {
    const headLen = buf.readUInt32LE(0);
    const head = JSON.parse(buf.toString('utf8', 4, 4 + headLen));
    if (head.format !== FORMAT) return entries;
    let at = 4 + headLen;
    for (const [filename, key, length] of head.entries) {
      entries.set(filename, { key, data: buf.subarray(at, at + length) });
      at += length;
    }
  } catch {
    entries.clear();
  }
  return entries;
}

function save(file, fresh) {
  const list = [];
  const datas = [];
  for (const [filename, e] of fresh) {
    const data = e.data ?? e.script.createCachedData();
    list.push([filename, e.key, data.length]);
    datas.push(data);
  }
  const head = Buffer.from(JSON.stringify({ format: FORMAT, entries: list }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.concat([len, head, ...datas]));
  renameSync(tmp, file);
}
