#!/usr/bin/env node
// Entry point. oclif finds the subcommands through oclif.manifest.json when it exists; without it, it imports every
// command (and every module they use) on each start, about 0.2 s before the first byte of work. The manifest is made
// here, not by a separate build step, so it cannot go stale: it is rebuilt whenever the compiled code
// (dist/tsconfig.tsbuildinfo, written by `tsc -b`) or the bundles (dist/bundle/commands, scripts/bundle.mjs) are
// newer. It points each subcommand at its one-file bundle while the bundles are at least as new as the compiled
// code, else at dist/src/commands. Where it cannot be written (a read-only install) the run goes on without it.
import { existsSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { enableCompileCache } from './compile-cache.js';

const root = fileURLToPath(new URL('..', import.meta.url));
enableCompileCache(root);
const manifest = `${root}/oclif.manifest.json`;
const bundles = `${root}/dist/bundle/commands`;
const built = mtime(`${root}/dist/tsconfig.tsbuildinfo`);
const bundled = mtime(bundles);
// The bundles (commands and oclif, scripts/bundle.mjs) while they are as new as the compiled code; oclif from
// node_modules otherwise. The commands of a bundle take oclif from the bundle: one oclif either way.
const oclifBundle = `${root}/dist/bundle/oclif.cjs`;
const useBundles = built >= 0 && bundled >= built && existsSync(oclifBundle);
let loadOptions;
if (built >= 0 && mtime(manifest) < Math.max(built, bundled)) {
  try {
    unlinkSync(manifest);
  } catch {
    // missing already, or not ours to delete
  }
  const { Config } = await import('@oclif/core/config');
  loadOptions = await Config.load({ root });
  const plugin = loadOptions.getPluginsList().find((p) => p.isRoot);
  if (plugin) {
    const data = structuredClone(plugin.manifest);
    if (useBundles) {
      const have = new Set(readdirSync(bundles));
      for (const [id, cmd] of Object.entries(data.commands)) {
        if (!have.has(`${id}.cjs`)) continue;
        cmd.relativePath = ['dist', 'bundle', 'commands', `${id}.cjs`];
        cmd.isESM = false;
      }
    }
    const tmp = `${manifest}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(data));
      renameSync(tmp, manifest);
    } catch {
      // read-only install: run without a manifest
    }
  }
}
const haveManifest = existsSync(manifest);
const oclif = useBundles && haveManifest ? createRequire(import.meta.url)(oclifBundle) : null;
const { execute } = oclif ? oclif.execute : await import('@oclif/core/execute');
await execute({ dir: import.meta.url, loadOptions: haveManifest ? undefined : loadOptions });

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}
