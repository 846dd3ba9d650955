// Bundles each compiled subcommand (dist/src/commands/<id>.js) with everything it imports except oclif into
// one file, dist/bundle/commands/<id>.js, with a source map back to the TypeScript sources. Node's ESM loader
// spends about half a millisecond per module on resolving and linking; a subcommand imports ~200 of them (95 of
// them zod's), so the bundle saves about 0.1 s of every run. bin/run.js points oclif's manifest at a bundle only
// while it is newer than the compiled code (a plain `tsc -b` afterwards falls back to dist/src/commands).
// Run by `npm run build` and scripts/setup.sh after `tsc -b`.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const from = join(root, 'dist', 'src', 'commands');
const to = join(root, 'dist', 'bundle', 'commands');
rmSync(to, { recursive: true, force: true });
const entryPoints = readdirSync(from)
  .filter((f) => f.endsWith('.js'))
  .map((f) => join(from, f));
/** `@oclif/core` and `@oclif/core/<part>` in a command: that part of dist/bundle/oclif.cjs. */
const oclifFromBundle = {
  name: 'oclif-from-bundle',
  setup(b) {
    b.onResolve({ filter: /^@oclif\/core(\/.*)?$/ }, (args) => ({ path: args.path, namespace: 'oclif-part' }));
    b.onLoad({ filter: /.*/, namespace: 'oclif-part' }, (args) => ({
      contents: `module.exports = require('../oclif.cjs')['${args.path.slice('@oclif/core/'.length)}'];`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^\.\.\/oclif\.cjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};

await build({
  entryPoints,
  outdir: to,
  bundle: true,
  platform: 'node',
  target: 'node20',
  // CommonJS: loaded by require(), so bin/compile-cache.js can keep V8's compiled code for it between runs
  // (Node 20 has no compile cache for ES modules).
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  // import('node:http') and the like become require() in a promise: a script with import() in it cannot use
  // cached code in Node 20 (see bin/compile-cache.js), and a bundle has nothing else to import.
  supported: { 'dynamic-import': false },
  // One oclif for the CLI and its commands (its Command class, flags and errors are compared by identity): the
  // commands take oclif's modules from dist/bundle/oclif.cjs, the one bin/run.js loads.
  plugins: [oclifFromBundle],
  sourcemap: 'linked',
  logLevel: 'warning',
});

// oclif itself, one file: its ~115 CommonJS modules (oclif and its dependencies) cost about 70 ms of module
// resolution and loading on every start, one file about 20. Only the subpaths shake uses are exported.
// TypeScript and ts-node are what oclif loads to run a plugin's TypeScript sources (development of plugins):
// shake never does, so they stay out (they would be 10 MB).
const OCLIF_PARTS = ['', 'args', 'command', 'config', 'errors', 'execute', 'flags', 'interfaces'];
await build({
  stdin: {
    contents: `module.exports = {${OCLIF_PARTS.map((p) => `'${p}': require('@oclif/core${p ? `/${p}` : ''}')`).join(', ')}};`,
    resolveDir: root,
    sourcefile: 'oclif-bundle.cjs',
  },
  outfile: join(root, 'dist', 'bundle', 'oclif.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Its import() of a command becomes require(): from the bundle, oclif only ever loads the .cjs commands the
  // manifest names (bin/run.js writes the manifest with oclif from node_modules, which imports dist/src's ESM).
  supported: { 'dynamic-import': false },
  external: ['typescript', 'ts-node', 'tsx'],
  sourcemap: 'linked',
  logLevel: 'warning',
});
