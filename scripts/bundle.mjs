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
  // One oclif for the CLI and its commands (its Command class, flags and errors are compared by identity).
  external: ['@oclif/core', '@oclif/core/*'],
  sourcemap: 'linked',
  logLevel: 'warning',
});
